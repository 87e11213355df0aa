package io.sparkclip.jobs.decontaminate;

import static io.sparkclip.schemas.Errors.optionMissing;
import static io.sparkclip.schemas.Errors.optionOutOfRange;
import static io.sparkclip.schemas.Errors.require;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.Checkpoints;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.RowIds;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.jobs.stage.copydetect.ImageSignatureUdf;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code sparkclip decontaminate}: removes the pairs whose image is a copy of an evaluation image
 * (re-encoded, resized, lightly cropped), as the CLIP paper's data overlap analysis (section 5)
 * measured for its evaluation sets. Each removed row's reject has reason {@link
 * RejectReason#EVAL_OVERLAP}, the eval item's id as {@code related_uid} and the set and distance as
 * detail; {@code _eval_overlap.json} has, per set, its items, the items found in the pool, their
 * share of the set and the pool rows removed ({@link OverlapTable}). With {@code --mark-only} the
 * rows stay, with {@code eval_set}, {@code eval_id} and {@code eval_distance} set.
 *
 * <p>Cost: one decode of every pool image and every eval image (the signatures), a lookup of each
 * pool image's keys in the broadcast eval key table, and thumbnail comparisons bounded per pool
 * image ({@link EvalMatcher}): linear in the pool. Rows whose image does not decode stay (they are
 * no copy of anything; dedup or embed reject them).
 */
public final class DecontaminateJob {

  public record Options(
      String input,
      String out,
      ColumnMapping mapping,
      boolean overwrite,
      List<String> evalSets,
      int phashDistance,
      double imageDistance,
      int bucketCap,
      boolean markOnly,
      int samples) {

    /** Evaluation sets, {@code NAME=PATH} (repeatable: {@code --eval}). */
    public static final String EVAL_SETS = "eval-sets";

    /**
     * Largest number of eval images a candidate key may hold before it is split into sub-keys
     * ({@link EvalMatcher}): bounds the comparisons per pool image.
     */
    public static final String BUCKET_CAP = "eval-bucket-cap";

    public static final int BUCKET_CAP_DEFAULT = 64;

    /**
     * Largest pHash distance of a candidate pair: looser than dedup's ({@link
     * StageKeys#PHASH_DISTANCE_DEFAULT}), because here each pool image meets a bounded number of
     * eval images, so the pre-filter may let more through to the thumbnail distance that decides;
     * crops of 4–5 % per side move pHash by up to 16–18 bits.
     */
    public static final int PHASH_DISTANCE_DEFAULT = 20;

    /** Matched pairs, with both images, kept for the report. */
    public static final String SAMPLES = "samples";

    public static final int SAMPLES_DEFAULT = 48;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.mapping(),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT),
          c.strings(EVAL_SETS, List.of()),
          c.integer(StageKeys.PHASH_DISTANCE, PHASH_DISTANCE_DEFAULT),
          c.decimal(StageKeys.IMAGE_DISTANCE, StageKeys.IMAGE_DISTANCE_DEFAULT),
          c.integer(BUCKET_CAP, BUCKET_CAP_DEFAULT),
          c.bool(StageKeys.MARK_ONLY, StageKeys.MARK_ONLY_DEFAULT),
          c.integer(SAMPLES, SAMPLES_DEFAULT));
    }

    void validate() {
      String cmd = Stages.DECONTAMINATE;
      Paths.requireInputAndOut(cmd, input, out);
      require(
          !evalSets.isEmpty(),
          () ->
              optionMissing(
                  cmd, "at least one --eval NAME=PATH is required", "no evaluation set given"));
      EvalSets.parse(evalSets);
      require(
          phashDistance >= 0 && phashDistance <= 32,
          () ->
              optionOutOfRange(
                  cmd,
                  "--" + StageKeys.PHASH_DISTANCE + " must be in [0, 32]",
                  "got " + phashDistance));
      require(
          imageDistance >= 0 && imageDistance <= 255,
          () ->
              optionOutOfRange(
                  cmd,
                  "--" + StageKeys.IMAGE_DISTANCE + " must be in [0, 255]",
                  "got " + imageDistance));
      require(
          bucketCap >= 2 && bucketCap <= 10_000,
          () ->
              optionOutOfRange(
                  cmd, "--" + BUCKET_CAP + " must be in [2, 10000]", "got " + bucketCap));
      require(
          samples >= 0 && samples <= 1_000,
          () -> optionOutOfRange(cmd, "--" + SAMPLES + " must be in [0, 1000]", "got " + samples));
    }
  }

  private final SparkSession spark;
  private final Options options;

  public DecontaminateJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    List<EvalSets.Spec> specs = EvalSets.parse(options.evalSets());
    CurationInput in = CurationInput.read(spark, options.input(), options.mapping());
    ResolvedLayout layout = in.layout();
    if (!layout.hasImages()) {
      throw Errors.decontaminateNeedsImages(options.input(), layout.layout());
    }
    // Missing sets and sets without an image column fail here, before any work.
    Dataset<Row> items = EvalSets.items(spark, specs);
    Paths.prepareOutput(spark, options.out(), options.overwrite());
    Checkpoints checkpoints = Checkpoints.open(spark, options.out());
    EvalSets.Signed eval = null;
    Dataset<Row> pool = null;
    try {
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("mode", options.markOnly() ? "mark" : "remove");
      details.put("phash_distance", options.phashDistance());
      details.put("thumbnail_distance", options.imageDistance());
      details.put("eval_bucket_cap", options.bucketCap());

      Dataset<Row> labelled = in.labelUnusable(Stages.REJECT_DECONTAMINATE);
      for (String c : List.of(Columns.EVAL_SET, Columns.EVAL_ID, Columns.EVAL_DISTANCE)) {
        if (CurationOutput.has(labelled, c)) {
          labelled = labelled.drop(c);
        }
      }
      labelled = RowIds.withRowId(labelled);

      Sparks.describe(spark, Stages.DECONTAMINATE, "decode and hash evaluation images");
      eval = EvalSets.sign(items, specs);

      Sparks.describe(spark, Stages.DECONTAMINATE, "read input, decode and hash images");
      pool = poolSignatures(labelled, layout);
      long rowsIn = pool.count();

      Dataset<Row> matches =
          new EvalMatcher(spark, options).match(pool, eval.signatures(), details);
      Sparks.describe(spark, Stages.DECONTAMINATE, "closest eval item per row");
      Dataset<Row> closest = Checkpoints.cut(EvalMatcher.closest(matches));
      long matched = closest.count();
      OverlapTable table = OverlapTable.of(specs, eval, matches, closest);
      details.put("eval_sets", table.toDetails());
      details.put("rows_matched", matched);

      Dataset<Row> decisions =
          closest.select(
              col(RowIds.FILE),
              col(RowIds.ROW),
              col(Columns.EVAL_SET),
              col(Columns.EVAL_ID),
              col(Columns.EVAL_DISTANCE));
      if (matched <= EvalMatcher.BROADCAST_CANDIDATES) {
        decisions = broadcast(decisions);
      }
      Dataset<Row> joined =
          labelled.join(decisions, new String[] {RowIds.FILE, RowIds.ROW}, "left");
      Dataset<Row> out;
      if (options.markOnly()) {
        out = joined;
      } else {
        out =
            CurationOutput.reject(
                    joined,
                    col(Columns.EVAL_ID).isNotNull(),
                    Stages.REJECT_DECONTAMINATE,
                    lit(RejectReason.EVAL_OVERLAP),
                    format_string(
                        "copy of %s item %s (distance %.1f)",
                        col(Columns.EVAL_SET), col(Columns.EVAL_ID), col(Columns.EVAL_DISTANCE)),
                    col(Columns.EVAL_ID))
                .drop(Columns.EVAL_SET, Columns.EVAL_ID, Columns.EVAL_DISTANCE);
      }
      out = out.drop(RowIds.FILE, RowIds.ROW);
      CurationSummary s =
          CurationOutput.write(
              spark,
              Stages.DECONTAMINATE,
              options.input(),
              options.out(),
              rowsIn,
              out,
              details,
              start);
      Sparks.describe(spark, Stages.DECONTAMINATE, "write the overlap table");
      closest
          .select(
              col(Columns.UID),
              col(Columns.EVAL_SET),
              col(Columns.EVAL_ID),
              col(Columns.EVAL_DISTANCE))
          .write()
          .parquet(new Path(options.out(), StageFiles.EVAL_OVERLAP_DIR).toString());
      table.write(spark, options.out());
      if (options.samples() > 0) {
        OverlapSamples.write(
            spark, labelled, layout, items, closest, options.samples(), options.out());
      }
      return s;
    } finally {
      // Also when a write fails: a long-lived session (a notebook) keeps no cached frames.
      if (pool != null) {
        pool.unpersist();
      }
      if (eval != null) {
        eval.unpersist();
      }
      checkpoints.close();
    }
  }

  /**
   * The narrow pool frame, persisted: row id, uid and, for kept rows with a decodable image, the
   * {@link EvalMatcher} signature columns. One scan of the input, each image decoded once.
   */
  private Dataset<Row> poolSignatures(Dataset<Row> labelled, ResolvedLayout layout) {
    UserDefinedFunction sig = udf(new ImageSignatureUdf(), ImageSignatureUdf.TYPE);
    Dataset<Row> projected =
        RowIds.spreadDecode(
            spark,
            labelled.select(
                col(RowIds.FILE),
                col(RowIds.ROW),
                col(Columns.UID),
                when(CurationOutput.kept(), layout.imageBytes()).as("_bytes")));
    return projected
        .withColumn("_sig", sig.apply(col("_bytes")))
        .select(
            col(RowIds.FILE),
            col(RowIds.ROW),
            col(Columns.UID),
            col("_sig." + ImageSignatureUdf.PHASH).as(EvalMatcher.PHASH),
            col("_sig." + ImageSignatureUdf.COLOUR).as(EvalMatcher.COLOUR),
            col("_sig." + ImageSignatureUdf.THUMBNAIL).as(EvalMatcher.THUMB),
            col("_sig." + ImageSignatureUdf.KEYS).as(EvalMatcher.KEYS))
        .persist(StorageLevel.MEMORY_AND_DISK());
  }
}
