package io.sparkclip.jobs.filter;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.format_number;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.percentile_approx;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Stages;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code sparkclip filter}: keeps scored pairs by rules, applied in this order (each percentile is
 * taken over the rows the earlier rules kept; every removal is a reject with the rule's reason):
 *
 * <ol>
 *   <li>{@code embed_failed}: no embeddings (embed_status not ok), always;
 *   <li>{@code low_clip_score}: clip_score below an absolute threshold (LAION: 0.28 for ViT-B/32);
 *   <li>{@code below_global_top_percent}: outside the global top p% by clip_score (DataComp's
 *       CLIP-score filtering), threshold from Spark's percentile_approx, no collect;
 *   <li>{@code below_query_top_percent}: outside the top p% of its query;
 *   <li>{@code contrastive_rank}: its own caption ranks below r among its group's captions
 *       (image_rank &gt; r);
 *   <li>{@code low_query_score}: query_score below a threshold.
 * </ol>
 */
public final class FilterJob {

  /** Null rule = off. */
  public record Options(
      String input,
      String out,
      Double minClipScore,
      Double topPercent,
      Double perQueryTopPercent,
      Integer maxRank,
      Double minQueryScore,
      boolean overwrite) {
    /** Reject clip_score below this (LAION: 0.28 for OpenAI ViT-B/32). */
    public static final String MIN_CLIP_SCORE = "min-clip-score";

    /** Keep the global top P% by clip_score (DataComp: 30). */
    public static final String TOP_PERCENT = "top-percent";

    /** Keep each query's top P% by clip_score. */
    public static final String PER_QUERY_TOP_PERCENT = "per-query-top-percent";

    /** Reject when the own caption ranks below R in its in-batch group. */
    public static final String MAX_RANK = "max-rank";

    /** Reject query_score below this. */
    public static final String MIN_QUERY_SCORE = "min-query-score";

    /** Every rule is off unless set. */
    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.optDecimal(MIN_CLIP_SCORE),
          c.optDecimal(TOP_PERCENT),
          c.optDecimal(PER_QUERY_TOP_PERCENT),
          c.optInteger(MAX_RANK),
          c.optDecimal(MIN_QUERY_SCORE),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT));
    }

    void validate() {
      for (Double p : new Double[] {topPercent, perQueryTopPercent}) {
        if (p != null && (p <= 0 || p > 100)) {
          throw Errors.topPercentOutOfRange(p);
        }
      }
      if (maxRank != null && maxRank < 1) {
        throw Errors.maxRankOutOfRange(maxRank);
      }
    }

    public Map<String, Object> rules() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("min_clip_score", minClipScore);
      m.put("top_percent", topPercent);
      m.put("per_query_top_percent", perQueryTopPercent);
      m.put("max_rank", maxRank);
      m.put("min_query_score", minQueryScore);
      return m;
    }
  }

  private final SparkSession spark;
  private final Options options;

  public FilterJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    String data = Paths.resolveInput(spark, options.input());
    Dataset<Row> in = Paths.readParquet(spark, data);
    for (String c : List.of(Columns.UID, Columns.EMBED_STATUS, Columns.CLIP_SCORE)) {
      if (!CurationOutput.has(in, c)) {
        throw Errors.notScored(data, c);
      }
    }
    if (options.perQueryTopPercent() != null && !CurationOutput.has(in, Columns.QUERY)) {
      throw Errors.perQueryWithoutQueryColumn(data);
    }
    Paths.prepareOutput(spark, options.out(), options.overwrite());
    Map<String, Object> details = new LinkedHashMap<>(options.rules());

    Dataset<Row> l =
        CurationOutput.reject(
            CurationOutput.unlabelled(in),
            col(Columns.EMBED_STATUS).notEqual(lit("ok")),
            Stages.REJECT_FILTER,
            lit(RejectReason.EMBED_FAILED),
            concat(
                col(Columns.EMBED_STATUS), lit(": "), coalesce(col(Columns.EMBED_ERROR), lit(""))),
            lit(null));
    Column score = col(Columns.CLIP_SCORE);
    if (options.minClipScore() != null) {
      double t = options.minClipScore();
      l = rejectBelow(l, score, t, RejectReason.LOW_CLIP_SCORE, "clip_score");
    }
    l = l.persist(StorageLevel.MEMORY_AND_DISK());
    if (options.topPercent() != null) {
      Sparks.describe(spark, Stages.FILTER, "global clip_score percentile");
      Row r =
          l.filter(CurationOutput.kept())
              .agg(percentile_approx(score, lit(1 - options.topPercent() / 100.0), lit(10000)))
              .first();
      if (!r.isNullAt(0)) {
        double t = r.getDouble(0);
        details.put("global_threshold", t);
        l =
            rejectBelow(l, score, t, RejectReason.BELOW_GLOBAL_TOP, "clip_score")
                .persist(StorageLevel.MEMORY_AND_DISK());
      }
    }
    if (options.perQueryTopPercent() != null) {
      Dataset<Row> thresholds =
          l.filter(CurationOutput.kept())
              .groupBy(col(Columns.QUERY).as("_tq"))
              .agg(
                  percentile_approx(
                          score, lit(1 - options.perQueryTopPercent() / 100.0), lit(10000))
                      .as("_qt"));
      l =
          l.join(thresholds, l.col(Columns.QUERY).eqNullSafe(thresholds.col("_tq")), "left")
              .drop("_tq");
      l =
          CurationOutput.reject(
                  l,
                  score.lt(col("_qt")),
                  Stages.REJECT_FILTER,
                  lit(RejectReason.BELOW_QUERY_TOP),
                  concat(
                      lit("clip_score="),
                      format_number(score, 4),
                      lit(" < query threshold "),
                      format_number(col("_qt"), 4)),
                  lit(null))
              .drop("_qt");
    }
    if (options.maxRank() != null) {
      l =
          CurationOutput.reject(
              l,
              col(Columns.IMAGE_RANK).gt(lit(options.maxRank())),
              Stages.REJECT_FILTER,
              lit(RejectReason.CONTRASTIVE_RANK),
              concat(
                  lit("own caption ranks "),
                  col(Columns.IMAGE_RANK).cast("string"),
                  lit(" of "),
                  col(Columns.GROUP_SIZE).cast("string"),
                  lit(" in "),
                  col(Columns.GROUP_ID),
                  lit(" (max " + options.maxRank() + ")")),
              lit(null));
    }
    if (options.minQueryScore() != null) {
      l =
          rejectBelow(
              l,
              col(Columns.QUERY_SCORE),
              options.minQueryScore(),
              RejectReason.LOW_QUERY_SCORE,
              "query_score");
    }
    Sparks.describe(spark, Stages.FILTER, "count input");
    long rowsIn = in.count();
    CurationSummary s =
        CurationOutput.write(
            spark, Stages.FILTER, options.input(), options.out(), rowsIn, l, details, start);
    l.unpersist();
    return s;
  }

  private static Dataset<Row> rejectBelow(
      Dataset<Row> l, Column value, double t, String reason, String name) {
    return CurationOutput.reject(
        l,
        value.lt(lit(t)),
        Stages.REJECT_FILTER,
        lit(reason),
        concat(lit(name + "="), format_number(value, 4), lit(" < " + t)),
        lit(null));
  }
}
