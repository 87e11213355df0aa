package io.sparkclip.jobs.dedup;

import static io.sparkclip.schemas.Errors.optionConflict;
import static io.sparkclip.schemas.Errors.optionMissing;
import static io.sparkclip.schemas.Errors.optionOutOfRange;
import static io.sparkclip.schemas.Errors.outMustDifferFromInput;
import static io.sparkclip.schemas.Errors.require;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.bit_count;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.hex;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.shiftrightunsigned;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.jobs.Paths;
import io.sparkclip.jobs.Sparks;
import io.sparkclip.jobs.curate.CurationInput;
import io.sparkclip.jobs.curate.CurationOutput;
import io.sparkclip.jobs.curate.CurationSummary;
import io.sparkclip.jobs.match.QueryMatcher;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
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
 *   <li>near-duplicate images: 64-bit pHash ({@link PerceptualHash}) on executors, candidate pairs
 *       by LSH banding of the hash bits within a Hamming distance, confirmed by the crop-aligned
 *       thumbnail distance ({@link CropTolerantThumbnail}), clusters by {@link
 *       ConnectedComponents};
 *   <li>near-duplicate captions (off by default): MinHash LSH on character shingles, confirmed by
 *       exact Jaccard similarity, clusters by connected components.
 * </ol>
 *
 * Within a cluster the {@link KeepPolicy} picks the row kept; the others go to the rejects with the
 * kept row's uid as {@code related_uid} (or, with {@code markOnly}, stay with {@code dup_of} set).
 * Output rows carry {@code dup_cluster} ({@code stage:id}) and {@code dup_of}.
 */
public final class DedupJob {
  private static final Logger LOG = LoggerFactory.getLogger(DedupJob.class);
  public static final String JOB = "dedup";
  public static final String STAGE_INPUT = "dedup_input";
  public static final String STAGE_URL = "dedup_exact_url";
  public static final String STAGE_SHA = "dedup_exact_image";
  public static final String STAGE_IMAGE = "dedup_near_image";

  /**
   * Default largest pHash Hamming distance of near-duplicate candidates. Light crops (1–5 % per
   * side) move pHash by up to 14 bits on the generator's ground truth; with 16 LSH bands every pair
   * below 16 bits shares a band, so candidate recall is exact.
   */
  public static final int DEFAULT_PHASH_DISTANCE = 14;

  /**
   * Default largest {@link CropTolerantThumbnail} distance (0..255: mean difference of the 5 % most
   * different cells of the crop-aligned 48×48 RGB thumbnails) that confirms a candidate pair as
   * near duplicates. Measured on the generator's ground truth: copies at most 11.6, distinct images
   * at least 17.0.
   */
  public static final double DEFAULT_IMAGE_DISTANCE = 14.0;

  /**
   * Cheap pre-filter before the thumbnail comparison: largest mean absolute difference (0..255) of
   * the 4×4 RGB colour grids. Loose on purpose (crops shift the grid); it only spares thumbnail
   * comparisons of pairs whose colours plainly differ.
   */
  public static final double COLOUR_PREFILTER = 12.0;

  public static final String STAGE_CAPTION = "dedup_near_caption";

  public enum UrlKey {
    URL,
    URL_CAPTION
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
      int phashBands,
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

    public static Options defaults(String input, String out) {
      return new Options(
          input,
          out,
          ColumnMapping.DETECT,
          false,
          true,
          UrlKey.URL_CAPTION,
          UrlNormalizer.DEFAULT_TRACKING,
          true,
          true,
          DEFAULT_PHASH_DISTANCE,
          16,
          DEFAULT_IMAGE_DISTANCE,
          false,
          false,
          0.8,
          5,
          20,
          5,
          KeepPolicy.LARGEST,
          false,
          50);
    }

    public Options withOverwrite(boolean o) {
      return new Options(
          input,
          out,
          mapping,
          o,
          exactUrl,
          urlKey,
          trackingParams,
          exactImage,
          nearImage,
          phashDistance,
          phashBands,
          imageDistance,
          keepUndecodable,
          nearCaption,
          captionJaccard,
          shingleSize,
          minhashBands,
          minhashRows,
          keep,
          markOnly,
          maxIterations);
    }

    public Options withStages(boolean url, boolean sha, boolean image, boolean caption) {
      return new Options(
          input,
          out,
          mapping,
          overwrite,
          url,
          urlKey,
          trackingParams,
          sha,
          image,
          phashDistance,
          phashBands,
          imageDistance,
          keepUndecodable,
          caption,
          captionJaccard,
          shingleSize,
          minhashBands,
          minhashRows,
          keep,
          markOnly,
          maxIterations);
    }

    /** pHash candidate distance, LSH bands and the confirming thumbnail distance. */
    public Options withNearImage(int distance, int bands, double thumbnailDistance) {
      return new Options(
          input,
          out,
          mapping,
          overwrite,
          exactUrl,
          urlKey,
          trackingParams,
          exactImage,
          nearImage,
          distance,
          bands,
          thumbnailDistance,
          keepUndecodable,
          nearCaption,
          captionJaccard,
          shingleSize,
          minhashBands,
          minhashRows,
          keep,
          markOnly,
          maxIterations);
    }

    void validate() {
      require(
          input != null && !input.isBlank(),
          () -> optionMissing(JOB, "an input path is required", "none given"));
      require(
          out != null && !out.isBlank(),
          () -> optionMissing(JOB, "--out is required", "none given"));
      require(!new Path(out).equals(new Path(input)), () -> outMustDifferFromInput(JOB));
      require(
          phashDistance >= 0 && phashDistance <= 32,
          () ->
              optionOutOfRange(JOB, "--phash-distance must be in [0, 32]", "got " + phashDistance));
      require(
          phashBands >= 1 && phashBands <= 64 && 64 % phashBands == 0,
          () ->
              optionOutOfRange(
                  JOB,
                  "--phash-bands must divide 64 (1, 2, 4, 8, 16, 32, 64)",
                  "got " + phashBands));
      require(
          imageDistance >= 0 && imageDistance <= 255,
          () ->
              optionOutOfRange(
                  JOB, "--image-distance must be in [0, 255]", "got " + imageDistance));
      require(
          captionJaccard > 0 && captionJaccard <= 1,
          () ->
              optionOutOfRange(
                  JOB, "--caption-jaccard must be in (0, 1]", "got " + captionJaccard));
      require(
          shingleSize >= 1 && minhashBands >= 1 && minhashRows >= 1,
          () ->
              optionOutOfRange(
                  JOB,
                  "--shingle-size, --minhash-bands, --minhash-rows must be ≥ 1",
                  "got " + shingleSize + ", " + minhashBands + ", " + minhashRows));
      require(
          maxIterations >= 1,
          () -> optionOutOfRange(JOB, "--max-iterations must be ≥ 1", "got " + maxIterations));
      require(
          exactUrl || exactImage || nearImage || nearCaption,
          () ->
              optionConflict(
                  JOB,
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
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("keep", options.keep().label());
    details.put("mode", options.markOnly() ? "mark" : "remove");
    List<String> stages = new ArrayList<>();

    Dataset<Row> labelled = in.labelUnusable(STAGE_INPUT);
    for (String c : List.of(Columns.DUP_CLUSTER, Columns.DUP_OF, Columns.PHASH)) {
      if (CurationOutput.has(labelled, c)) {
        labelled = labelled.drop(c);
      }
    }
    labelled =
        labelled
            .withColumn(Columns.DUP_CLUSTER, lit(null).cast("string"))
            .withColumn(Columns.DUP_OF, lit(null).cast("string"));
    List<Column> order = options.keep().order(labelled.schema(), layout);

    if (options.exactUrl()) {
      if (layout.url().isEmpty()) {
        LOG.warn("dedup: no url column, exact URL stage skipped");
        details.put(STAGE_URL, "skipped: no url column");
      } else {
        UserDefinedFunction norm =
            udf(
                new NormalizeUrl(new UrlNormalizer(options.trackingParams())),
                DataTypes.StringType);
        Column key = norm.apply(layout.url().get());
        if (options.urlKey() == UrlKey.URL_CAPTION) {
          key = concat(key, lit("\u001f"), coalesce(layout.caption(), lit("")));
        }
        labelled = byKey(labelled, key, STAGE_URL, RejectReason.DUPLICATE_EXACT_URL, "url", order);
        stages.add(STAGE_URL);
      }
    }
    if (options.exactImage()) {
      if (!layout.hasImages()) {
        details.put(STAGE_SHA, "skipped: no image bytes (metadata-only)");
      } else {
        Column computed = sha2(layout.imageBytes(), 256);
        Column sha =
            CurationOutput.has(labelled, Columns.SHA256)
                ? coalesce(col(Columns.SHA256), computed)
                : computed;
        Column key = when(layout.imageBytes().isNotNull(), sha);
        labelled =
            byKey(labelled, key, STAGE_SHA, RejectReason.DUPLICATE_IMAGE_HASH, "sha256", order);
        stages.add(STAGE_SHA);
      }
    }
    // Persist before the near-duplicate stages: they read the frame several times.
    labelled = labelled.persist(StorageLevel.MEMORY_AND_DISK());
    if (options.nearImage()) {
      if (!layout.hasImages()) {
        details.put(STAGE_IMAGE, "skipped: no image bytes (metadata-only)");
      } else {
        labelled = nearImages(labelled, layout, order, details);
        stages.add(STAGE_IMAGE);
      }
    }
    if (options.nearCaption()) {
      labelled = nearCaptions(labelled, layout, order, details);
      stages.add(STAGE_CAPTION);
    }
    details.put("stages", stages);

    Sparks.describe(spark, JOB, "count input");
    long rowsIn = labelled.count();
    CurationSummary s =
        CurationOutput.write(
            spark, JOB, options.input(), options.out(), rowsIn, labelled, details, start);
    labelled.unpersist();
    return s;
  }

  /**
   * Groups kept rows with a non-null key; in each group of two or more, every row but the first (in
   * keep order) is a duplicate of the first. Rows already rejected or without a key each form their
   * own group, so they cannot skew one partition.
   */
  Dataset<Row> byKey(
      Dataset<Row> labelled,
      Column key,
      String stage,
      String reason,
      String clusterPrefix,
      List<Column> order) {
    Column active = CurationOutput.kept().and(key.isNotNull());
    Column group =
        when(active, concat(lit("k"), key.cast("string")))
            .otherwise(concat(lit("u"), col(Columns.UID)));
    WindowSpec w = Window.partitionBy(group).orderBy(order.toArray(Column[]::new));
    WindowSpec all = Window.partitionBy(group);
    Dataset<Row> ranked =
        labelled
            .withColumn("_grp", group)
            .withColumn("_rn", row_number().over(w))
            .withColumn("_first", first(col(Columns.UID)).over(w))
            .withColumn("_n", count(lit(1)).over(all));
    Column inCluster = active.and(col("_n").gt(1));
    Column dup = inCluster.and(col("_rn").gt(1));
    ranked =
        ranked
            .withColumn(
                Columns.DUP_CLUSTER,
                when(
                        inCluster,
                        concat(lit(clusterPrefix + ":"), substring(sha2(col("_grp"), 256), 1, 16)))
                    .otherwise(col(Columns.DUP_CLUSTER)))
            .withColumn(Columns.DUP_OF, when(dup, col("_first")).otherwise(col(Columns.DUP_OF)));
    if (!options.markOnly()) {
      ranked =
          CurationOutput.reject(
              ranked,
              dup,
              stage,
              lit(reason),
              concat(lit("same " + clusterPrefix + " as "), col("_first")),
              col("_first"));
    }
    return ranked.drop("_grp", "_rn", "_first", "_n");
  }

  private Dataset<Row> nearImages(
      Dataset<Row> labelled, ResolvedLayout layout, List<Column> order, Map<String, Object> d) {
    Sparks.describe(spark, JOB, "image phash");
    UserDefinedFunction phash = udf(new PhashUdf(), PhashUdf.TYPE);
    Dataset<Row> hashed =
        labelled
            .withColumn("_ph", when(CurationOutput.kept(), phash.apply(layout.imageBytes())))
            .withColumn(Columns.PHASH, col("_ph.phash"))
            .withColumn("_colour", col("_ph.colour"))
            .withColumn("_thumb", col("_ph.thumbnail"))
            .withColumn("_ph_error", col("_ph.error"))
            .drop("_ph");
    if (!options.keepUndecodable()) {
      hashed =
          CurationOutput.reject(
              hashed,
              col("_ph_error").isNotNull(),
              STAGE_IMAGE,
              lit(RejectReason.UNDECODABLE_IMAGE),
              col("_ph_error"),
              lit(null));
    }
    // A node is one distinct look (pHash, colour grid, thumbnail); its id a 64-bit hash of them.
    hashed =
        hashed
            .drop("_ph_error")
            .withColumn(
                "_node",
                when(
                    col(Columns.PHASH).isNotNull(),
                    xxhash64(col(Columns.PHASH), col("_colour"), col("_thumb"))))
            .persist(StorageLevel.MEMORY_AND_DISK());

    int bands = options.phashBands();
    int width = 64 / bands;
    Dataset<Row> nodes =
        hashed
            .filter(CurationOutput.kept().and(col("_node").isNotNull()))
            .select(col("_node").as("id"), col(Columns.PHASH).as("h"), col("_colour").as("c"))
            .dropDuplicates("id");
    // Thumbnails (6.9 KB) travel only to candidate pairs, not through the band explode.
    Dataset<Row> thumbs =
        hashed
            .filter(CurationOutput.kept().and(col("_node").isNotNull()))
            .select(col("_node").as("tid"), col("_thumb").as("t"))
            .dropDuplicates("tid");
    List<Column> bandCols = new ArrayList<>();
    long mask = width == 64 ? -1L : (1L << width) - 1;
    for (int b = 0; b < bands; b++) {
      bandCols.add(shiftrightunsigned(col("h"), b * width).bitwiseAND(lit(mask)));
    }
    Dataset<Row> banded =
        nodes.select(
            col("id"),
            col("h"),
            col("c"),
            posexplode(array(bandCols.toArray(Column[]::new))).as(new String[] {"band", "v"}));
    Dataset<Row> a =
        banded.select(
            col("id").as("src"),
            col("h").as("ha"),
            col("c").as("ca"),
            col("band").as("ba"),
            col("v").as("va"));
    Dataset<Row> b =
        banded.select(
            col("id").as("dst"),
            col("h").as("hb"),
            col("c").as("cb"),
            col("band").as("bb"),
            col("v").as("vb"));
    UserDefinedFunction colourDistance =
        udf((UDF2<byte[], byte[], Double>) PerceptualHash::colourDistance, DataTypes.DoubleType);
    UserDefinedFunction thumbDistance =
        udf((UDF2<byte[], byte[], Double>) CropTolerantThumbnail::distance, DataTypes.DoubleType);
    Sparks.describe(spark, JOB, "image phash candidate pairs");
    Dataset<Row> edges =
        a.join(
                b,
                col("ba")
                    .equalTo(col("bb"))
                    .and(col("va").equalTo(col("vb")))
                    .and(col("src").lt(col("dst"))))
            .select("src", "dst", "ha", "hb", "ca", "cb")
            .dropDuplicates("src", "dst")
            .filter(bit_count(col("ha").bitwiseXOR(col("hb"))).leq(options.phashDistance()))
            .filter(colourDistance.apply(col("ca"), col("cb")).leq(COLOUR_PREFILTER))
            .select("src", "dst")
            .join(thumbs.withColumnRenamed("t", "ta"), col("src").equalTo(col("tid")))
            .drop("tid")
            .join(thumbs.withColumnRenamed("t", "tb"), col("dst").equalTo(col("tid")))
            .filter(thumbDistance.apply(col("ta"), col("tb")).leq(options.imageDistance()))
            .select("src", "dst");
    Dataset<Row> cc = ConnectedComponents.of(spark, edges, JOB, options.maxIterations());
    Dataset<Row> joined =
        hashed.join(cc, hashed.col("_node").equalTo(cc.col(ConnectedComponents.NODE)), "left");
    Column key =
        when(col("_node").isNotNull(), coalesce(col(ConnectedComponents.LABEL), col("_node")));
    Dataset<Row> out =
        byKey(joined, hex(key), STAGE_IMAGE, RejectReason.NEAR_DUPLICATE_IMAGE, "image", order)
            .drop(
                ConnectedComponents.NODE, ConnectedComponents.LABEL, "_node", "_colour", "_thumb");
    d.put("colour_prefilter", COLOUR_PREFILTER);
    d.put("thumbnail_distance", options.imageDistance());
    d.put("phash_distance", options.phashDistance());
    d.put("phash_bands", bands);
    return out;
  }

  private Dataset<Row> nearCaptions(
      Dataset<Row> labelled, ResolvedLayout layout, List<Column> order, Map<String, Object> d) {
    Sparks.describe(spark, JOB, "caption minhash");
    UserDefinedFunction norm = udf(new NormalizeCaption(), DataTypes.StringType);
    Dataset<Row> withNorm =
        labelled.withColumn("_cap", when(CurationOutput.kept(), norm.apply(layout.caption())));
    UserDefinedFunction bandsUdf =
        udf(
            new CaptionBands(options.shingleSize(), options.minhashBands(), options.minhashRows()),
            DataTypes.createArrayType(DataTypes.LongType, false));
    Dataset<Row> nodes =
        withNorm
            .filter(col("_cap").isNotNull().and(CurationOutput.kept()))
            .select(col("_cap").as("c"))
            .distinct();
    Dataset<Row> banded =
        nodes.select(col("c"), posexplode(bandsUdf.apply(col("c"))).as(new String[] {"band", "v"}));
    Dataset<Row> a = banded.select(col("c").as("src"), col("band").as("ba"), col("v").as("va"));
    Dataset<Row> b = banded.select(col("c").as("dst"), col("band").as("bb"), col("v").as("vb"));
    UserDefinedFunction jac = udf(new Jaccard(options.shingleSize()), DataTypes.DoubleType);
    Sparks.describe(spark, JOB, "caption candidate pairs");
    Dataset<Row> edges =
        a.join(
                b,
                col("ba")
                    .equalTo(col("bb"))
                    .and(col("va").equalTo(col("vb")))
                    .and(col("src").lt(col("dst"))))
            .select("src", "dst")
            .distinct()
            .filter(jac.apply(col("src"), col("dst")).geq(options.captionJaccard()));
    Dataset<Row> cc = ConnectedComponents.of(spark, edges, JOB, options.maxIterations());
    Dataset<Row> joined =
        withNorm.join(cc, withNorm.col("_cap").equalTo(cc.col(ConnectedComponents.NODE)), "left");
    Column key =
        when(col("_cap").isNotNull(), coalesce(col(ConnectedComponents.LABEL), col("_cap")));
    d.put("caption_jaccard", options.captionJaccard());
    d.put(
        "minhash",
        options.minhashBands()
            + " bands x "
            + options.minhashRows()
            + " rows, "
            + options.shingleSize()
            + "-char shingles");
    return byKey(joined, key, STAGE_CAPTION, RejectReason.NEAR_DUPLICATE_CAPTION, "caption", order)
        .drop(ConnectedComponents.NODE, ConnectedComponents.LABEL, "_cap");
  }

  /** Executor side: URL normalisation. */
  static final class NormalizeUrl implements UDF1<String, String> {
    private static final long serialVersionUID = 1L;
    private final UrlNormalizer normalizer;

    NormalizeUrl(UrlNormalizer normalizer) {
      this.normalizer = normalizer;
    }

    @Override
    public String call(String url) {
      return normalizer.normalize(url);
    }
  }

  /** Executor side: pHash of image bytes, or the reason it cannot be computed. */
  static final class PhashUdf implements UDF1<byte[], Row> {
    private static final long serialVersionUID = 1L;
    static final StructType TYPE =
        new StructType()
            .add("phash", DataTypes.LongType, true)
            .add("colour", DataTypes.BinaryType, true)
            .add("thumbnail", DataTypes.BinaryType, true)
            .add("error", DataTypes.StringType, true);

    @Override
    public Row call(byte[] bytes) {
      if (bytes == null) {
        return null;
      }
      try {
        PerceptualHash.Signature sig = PerceptualHash.signature(bytes);
        return RowFactory.create(sig.phash(), sig.colour(), sig.thumbnail(), null);
      } catch (PerceptualHash.UndecodableImageException e) {
        return RowFactory.create(null, null, null, e.getMessage());
      }
    }
  }

  /** Executor side: caption normalisation shared with match-queries; blank → null. */
  static final class NormalizeCaption implements UDF1<String, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public String call(String caption) {
      if (caption == null) {
        return null;
      }
      String n = QueryMatcher.normalize(caption);
      return n.isEmpty() ? null : n;
    }
  }

  /** Executor side: MinHash LSH band signatures of a normalised caption. */
  static final class CaptionBands implements UDF1<String, long[]> {
    private static final long serialVersionUID = 1L;
    private final int k;
    private final int bands;
    private final int rows;

    CaptionBands(int k, int bands, int rows) {
      this.k = k;
      this.bands = bands;
      this.rows = rows;
    }

    @Override
    public long[] call(String caption) {
      return MinHash.bands(caption, k, bands, rows);
    }
  }

  /** Executor side: exact shingle Jaccard similarity of two normalised captions. */
  static final class Jaccard implements UDF2<String, String, Double> {
    private static final long serialVersionUID = 1L;
    private final int k;

    Jaccard(int k) {
      this.k = k;
    }

    @Override
    public Double call(String a, String b) {
      return MinHash.jaccard(MinHash.shingles(a, k), MinHash.shingles(b, k));
    }
  }
}
