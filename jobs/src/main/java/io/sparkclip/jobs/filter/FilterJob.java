package io.sparkclip.jobs.filter;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.format_number;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.percentile_approx;

import io.sparkclip.jobs.Paths;
import io.sparkclip.jobs.Sparks;
import io.sparkclip.jobs.curate.CurationOutput;
import io.sparkclip.jobs.curate.CurationSummary;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.score.ScoreJob;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
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
  public static final String JOB = "filter";
  public static final String STAGE = "filter";

  public static final String EMBED_FAILED = "embed_failed";
  public static final String LOW_CLIP_SCORE = "low_clip_score";
  public static final String BELOW_GLOBAL_TOP = "below_global_top_percent";
  public static final String BELOW_QUERY_TOP = "below_query_top_percent";
  public static final String CONTRASTIVE_RANK = "contrastive_rank";
  public static final String LOW_QUERY_SCORE = "low_query_score";

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
    public static Options of(String input, String out) {
      return new Options(input, out, null, null, null, null, null, false);
    }

    public Options withMinClipScore(Double v) {
      return new Options(
          input, out, v, topPercent, perQueryTopPercent, maxRank, minQueryScore, overwrite);
    }

    public Options withTopPercent(Double v) {
      return new Options(
          input, out, minClipScore, v, perQueryTopPercent, maxRank, minQueryScore, overwrite);
    }

    public Options withPerQueryTopPercent(Double v) {
      return new Options(
          input, out, minClipScore, topPercent, v, maxRank, minQueryScore, overwrite);
    }

    public Options withMaxRank(Integer v) {
      return new Options(
          input, out, minClipScore, topPercent, perQueryTopPercent, v, minQueryScore, overwrite);
    }

    public Options withMinQueryScore(Double v) {
      return new Options(
          input, out, minClipScore, topPercent, perQueryTopPercent, maxRank, v, overwrite);
    }

    public Options withOverwrite(boolean o) {
      return new Options(
          input, out, minClipScore, topPercent, perQueryTopPercent, maxRank, minQueryScore, o);
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
    String data = EmbedJob.resolveInput(spark, options.input());
    Dataset<Row> in = Paths.readParquet(spark, data);
    for (String c : List.of(Columns.UID, EmbedJob.EMBED_STATUS, ScoreJob.CLIP_SCORE)) {
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
            col(EmbedJob.EMBED_STATUS).notEqual(lit("ok")),
            STAGE,
            lit(EMBED_FAILED),
            concat(
                col(EmbedJob.EMBED_STATUS),
                lit(": "),
                coalesce(col(EmbedJob.EMBED_ERROR), lit(""))),
            lit(null));
    Column score = col(ScoreJob.CLIP_SCORE);
    if (options.minClipScore() != null) {
      double t = options.minClipScore();
      l = rejectBelow(l, score, t, LOW_CLIP_SCORE, "clip_score");
    }
    l = l.persist(StorageLevel.MEMORY_AND_DISK());
    if (options.topPercent() != null) {
      Sparks.describe(spark, JOB, "global clip_score percentile");
      Row r =
          l.filter(CurationOutput.kept())
              .agg(percentile_approx(score, lit(1 - options.topPercent() / 100.0), lit(10000)))
              .first();
      if (!r.isNullAt(0)) {
        double t = r.getDouble(0);
        details.put("global_threshold", t);
        l =
            rejectBelow(l, score, t, BELOW_GLOBAL_TOP, "clip_score")
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
                  STAGE,
                  lit(BELOW_QUERY_TOP),
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
              col(ScoreJob.IMAGE_RANK).gt(lit(options.maxRank())),
              STAGE,
              lit(CONTRASTIVE_RANK),
              concat(
                  lit("own caption ranks "),
                  col(ScoreJob.IMAGE_RANK).cast("string"),
                  lit(" of "),
                  col(ScoreJob.GROUP_SIZE).cast("string"),
                  lit(" in "),
                  col(ScoreJob.GROUP_ID),
                  lit(" (max " + options.maxRank() + ")")),
              lit(null));
    }
    if (options.minQueryScore() != null) {
      l =
          rejectBelow(
              l,
              col(ScoreJob.QUERY_SCORE),
              options.minQueryScore(),
              LOW_QUERY_SCORE,
              "query_score");
    }
    Sparks.describe(spark, JOB, "count input");
    long rowsIn = in.count();
    CurationSummary s =
        CurationOutput.write(spark, JOB, options.input(), options.out(), rowsIn, l, details, start);
    l.unpersist();
    return s;
  }

  private static Dataset<Row> rejectBelow(
      Dataset<Row> l, Column value, double t, String reason, String name) {
    return CurationOutput.reject(
        l,
        value.lt(lit(t)),
        STAGE,
        lit(reason),
        concat(lit(name + "="), format_number(value, 4), lit(" < " + t)),
        lit(null));
  }
}
