package io.sparkclip.jobs.dedup;

import static io.sparkclip.schemas.Errors.optionConflict;
import static io.sparkclip.schemas.Errors.optionOutOfRange;
import static io.sparkclip.schemas.Errors.require;
import static org.apache.spark.sql.functions.lit;

import io.sparkclip.jobs.stage.Checkpoints;
import io.sparkclip.jobs.stage.ConnectedComponents;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.KeepPolicy;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.Stages;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sparkclip dedup}: removes duplicates in up to four switchable stages, in this order, each
 * seeing only the rows the previous ones kept:
 *
 * <ol>
 *   <li>exact URL: normalised URL ({@link UrlNormalizer}), with the caption by default (LAION);
 *   <li>exact image: SHA-256 of the image bytes (the {@code sha256} column if present, else
 *       computed);
 *   <li>near-duplicate images: candidate pairs of images sharing an exact {@link
 *       io.sparkclip.jobs.stage.copydetect.CandidateKeys key} (pHash bands, coarse layout hashes of
 *       the image and of lightly cropped regions), every key's bucket capped ({@link
 *       NearImageDedup#candidates}), filtered by pHash Hamming distance and colour grid, confirmed
 *       by the crop-aligned thumbnail distance ({@link
 *       io.sparkclip.jobs.stage.copydetect.CropTolerantThumbnail}), clusters by {@link
 *       ConnectedComponents};
 *   <li>near-duplicate captions (off by default): MinHash LSH on character shingles, confirmed by
 *       exact Jaccard similarity, clusters by connected components.
 * </ol>
 *
 * <p>The steps decide on the {@link DedupFrame} narrow frame, computed in one scan of the input
 * (every image decoded once), and the decisions are joined back to the full rows by row id at the
 * writes.
 *
 * <p>Within a cluster the {@link KeepPolicy} picks the row kept; the others go to the rejects with
 * the kept row's uid as {@code related_uid} (or, with {@code markOnly}, stay with {@code dup_of}
 * set). Output rows carry {@code dup_cluster} ({@code stage:id}) and {@code dup_of}.
 */
public final class DedupJob {
  private static final Logger LOG = LoggerFactory.getLogger(DedupJob.class);

  public enum UrlKey {
    URL,
    URL_CAPTION;

    static UrlKey fromLabel(String label) {
      return switch (label.toLowerCase(Locale.ROOT)) {
        case "url" -> URL;
        case "url_caption", "url+caption" -> URL_CAPTION;
        default -> throw Errors.unknownUrlKey(label);
      };
    }
  }

  public record Options(
      String input,
      String out,
      ColumnMapping mapping,
      boolean overwrite,
      boolean exactUrl,
      UrlKey urlKey,
      List<String> trackingParams,
      boolean exactImage,
      boolean nearImage,
      int phashDistance,
      int bucketCap,
      double imageDistance,
      boolean keepUndecodable,
      boolean nearCaption,
      double captionJaccard,
      int shingleSize,
      int minhashBands,
      int minhashRows,
      KeepPolicy keep,
      boolean markOnly,
      int maxIterations) {
    public static final String EXACT_URL = "exact-url";
    public static final boolean EXACT_URL_DEFAULT = true;

    /** url or url_caption (LAION). */
    public static final String URL_KEY = "url-key";

    public static final String URL_KEY_DEFAULT = "url_caption";

    /** Query parameters stripped from URLs; a trailing * is a prefix. */
    public static final String TRACKING_PARAMS = "tracking-params";

    public static final String EXACT_IMAGE = "exact-image";
    public static final boolean EXACT_IMAGE_DEFAULT = true;
    public static final String NEAR_IMAGE = "near-image";
    public static final boolean NEAR_IMAGE_DEFAULT = true;

    /**
     * Largest candidate bucket (images sharing a key) compared all-pairs; a larger one is compared
     * with its representative only (see {@link NearImageDedup#candidates}).
     */
    public static final String BUCKET_CAP = "bucket-cap";

    public static final int BUCKET_CAP_DEFAULT = 48;

    public static final String KEEP_UNDECODABLE = "keep-undecodable";
    public static final boolean KEEP_UNDECODABLE_DEFAULT = false;
    public static final String NEAR_CAPTION = "near-caption";
    public static final boolean NEAR_CAPTION_DEFAULT = false;
    public static final String CAPTION_JACCARD = "caption-jaccard";
    public static final double CAPTION_JACCARD_DEFAULT = 0.8;
    public static final String SHINGLE_SIZE = "shingle-size";
    public static final int SHINGLE_SIZE_DEFAULT = 5;
    public static final String MINHASH_BANDS = "minhash-bands";
    public static final int MINHASH_BANDS_DEFAULT = 20;
    public static final String MINHASH_ROWS = "minhash-rows";
    public static final int MINHASH_ROWS_DEFAULT = 5;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.mapping(),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT),
          c.bool(EXACT_URL, EXACT_URL_DEFAULT),
          UrlKey.fromLabel(c.string(URL_KEY, URL_KEY_DEFAULT)),
          c.strings(TRACKING_PARAMS, UrlNormalizer.DEFAULT_TRACKING),
          c.bool(EXACT_IMAGE, EXACT_IMAGE_DEFAULT),
          c.bool(NEAR_IMAGE, NEAR_IMAGE_DEFAULT),
          c.integer(StageKeys.PHASH_DISTANCE, StageKeys.PHASH_DISTANCE_DEFAULT),
          c.integer(BUCKET_CAP, BUCKET_CAP_DEFAULT),
          c.decimal(StageKeys.IMAGE_DISTANCE, StageKeys.IMAGE_DISTANCE_DEFAULT),
          c.bool(KEEP_UNDECODABLE, KEEP_UNDECODABLE_DEFAULT),
          c.bool(NEAR_CAPTION, NEAR_CAPTION_DEFAULT),
          c.decimal(CAPTION_JACCARD, CAPTION_JACCARD_DEFAULT),
          c.integer(SHINGLE_SIZE, SHINGLE_SIZE_DEFAULT),
          c.integer(MINHASH_BANDS, MINHASH_BANDS_DEFAULT),
          c.integer(MINHASH_ROWS, MINHASH_ROWS_DEFAULT),
          KeepPolicy.fromLabel(c.string(StageKeys.KEEP, StageKeys.KEEP_DEFAULT)),
          c.bool(StageKeys.MARK_ONLY, StageKeys.MARK_ONLY_DEFAULT),
          c.integer(StageKeys.MAX_ITERATIONS, StageKeys.MAX_ITERATIONS_DEFAULT));
    }

    void validate() {
      Paths.requireInputAndOut(Stages.DEDUP, input, out);
      require(
          phashDistance >= 0 && phashDistance <= 32,
          () ->
              optionOutOfRange(
                  Stages.DEDUP, "--phash-distance must be in [0, 32]", "got " + phashDistance));
      require(
          bucketCap >= 2 && bucketCap <= 10_000,
          () ->
              optionOutOfRange(
                  Stages.DEDUP, "--bucket-cap must be in [2, 10000]", "got " + bucketCap));
      require(
          imageDistance >= 0 && imageDistance <= 255,
          () ->
              optionOutOfRange(
                  Stages.DEDUP, "--image-distance must be in [0, 255]", "got " + imageDistance));
      require(
          captionJaccard > 0 && captionJaccard <= 1,
          () ->
              optionOutOfRange(
                  Stages.DEDUP, "--caption-jaccard must be in (0, 1]", "got " + captionJaccard));
      require(
          shingleSize >= 1 && minhashBands >= 1 && minhashRows >= 1,
          () ->
              optionOutOfRange(
                  Stages.DEDUP,
                  "--shingle-size, --minhash-bands, --minhash-rows must be ≥ 1",
                  "got " + shingleSize + ", " + minhashBands + ", " + minhashRows));
      require(
          maxIterations >= 1,
          () ->
              optionOutOfRange(
                  Stages.DEDUP, "--max-iterations must be ≥ 1", "got " + maxIterations));
      require(
          exactUrl || exactImage || nearImage || nearCaption,
          () ->
              optionConflict(
                  Stages.DEDUP,
                  "at least one stage must be on",
                  "all of --no-exact-url, --no-exact-image, --no-near-image and no --near-caption"));
    }
  }

  private final SparkSession spark;
  private final Options options;

  public DedupJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    CurationInput in = CurationInput.read(spark, options.input(), options.mapping());
    ResolvedLayout layout = in.layout();
    Paths.prepareOutput(spark, options.out(), options.overwrite());
    Checkpoints checkpoints = Checkpoints.open(spark, options.out());
    try {
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("keep", options.keep().label());
      details.put("mode", options.markOnly() ? "mark" : "remove");
      List<String> stages = new ArrayList<>();
      Map<String, Double> stepSeconds = new LinkedHashMap<>();

      Dataset<Row> labelled = DedupFrame.withRowId(in.labelUnusable(Stages.REJECT_DEDUP_INPUT));
      for (String c : List.of(Columns.DUP_CLUSTER, Columns.DUP_OF, Columns.PHASH)) {
        if (CurationOutput.has(labelled, c)) {
          labelled = labelled.drop(c);
        }
      }
      labelled =
          labelled
              .withColumn(Columns.DUP_CLUSTER, lit(null).cast("string"))
              .withColumn(Columns.DUP_OF, lit(null).cast("string"));
      boolean nearImage = options.nearImage() && layout.hasImages();
      long t0 = System.nanoTime();
      DedupFrame frame =
          DedupFrame.build(
              spark, labelled, layout, options.keep(), options.exactImage(), nearImage);
      stepSeconds.put(nearImage ? "near_image_hash" : "read_keys", seconds(t0));
      List<Column> order = frame.order();

      t0 = System.nanoTime();
      Dataset<Row> decided =
          new ExactDedup(spark, options).run(frame.keys(), layout, order, details, stages);
      // Materialised with its plan cut (a local checkpoint), here and after each step: the steps
      // read
      // their input several times, and adaptive execution re-optimises a query's whole logical plan
      // after each of its shuffle stages, so plans grown over several steps cost seconds of driver
      // time per stage.
      Sparks.describe(spark, Stages.DEDUP, "exact duplicates");
      decided = Checkpoints.cut(decided);
      if (options.nearImage()) {
        if (!nearImage) {
          details.put(Stages.REJECT_DEDUP_IMAGE, "skipped: no image bytes (metadata-only)");
        } else {
          stepSeconds.put("exact", seconds(t0));
          t0 = System.nanoTime();
          decided =
              new NearImageDedup(spark, options).run(decided, frame.thumbnails(), order, details);
          // Its counts and connected components run eagerly: this is the near-image work after the
          // images were decoded and hashed.
          stepSeconds.put("near_image", seconds(t0));
          stages.add(Stages.REJECT_DEDUP_IMAGE);
        }
      }
      if (options.nearCaption()) {
        decided = new NearCaptionDedup(spark, options).run(decided, order, details);
        stages.add(Stages.REJECT_DEDUP_CAPTION);
      }
      details.put("stages", stages);
      details.put("step_seconds", stepSeconds);

      Sparks.describe(spark, Stages.DEDUP, "decisions");
      Dataset<Row> decisions = Checkpoints.cut(decided);
      long rowsIn = frame.rows();
      frame.unpersist();
      Dataset<Row> out = DedupFrame.joinBack(labelled, decisions, rowsIn, nearImage);
      CurationSummary s =
          CurationOutput.write(
              spark, Stages.DEDUP, options.input(), options.out(), rowsIn, out, details, start);
      return s;
    } finally {
      checkpoints.close();
    }
  }

  private static double seconds(long t0) {
    return Math.round((System.nanoTime() - t0) / 1e8) / 10.0;
  }
}
