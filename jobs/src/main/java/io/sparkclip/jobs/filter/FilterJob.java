package io.sparkclip.jobs.filter;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.format_number;
import static org.apache.spark.sql.functions.isnan;
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
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
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
 *   <li>{@code low_query_score}: query_score below a threshold;
 *   <li>bounds on any numeric column, e.g. a score head's ({@code --min aesthetic_score=5.0},
 *       {@code --max nsfw_score=0.5}), column by column in the order first given: {@code
 *       score_missing} when the value is null or NaN (a bound that cannot be checked never keeps a
 *       row silently), then {@code score_below_min}, then {@code score_above_max}; the detail names
 *       the column, its value and the bound.
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
      List<String> min,
      List<String> max,
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

    /** Lower bounds {@code COLUMN=NUMBER} on numeric columns (repeatable). */
    public static final String MIN = "min";

    public static final List<String> MIN_DEFAULT = List.of();

    /** Upper bounds {@code COLUMN=NUMBER} on numeric columns (repeatable). */
    public static final String MAX = "max";

    public static final List<String> MAX_DEFAULT = List.of();

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
          c.strings(MIN, MIN_DEFAULT),
          c.strings(MAX, MAX_DEFAULT),
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
      bounds();
    }

    /**
     * The --min and --max bounds by column, in the order the columns were first given; fails on a
     * malformed value, a column bounded twice the same way, or a min above its max.
     */
    public Map<String, ScoreBounds> bounds() {
      Map<String, ScoreBounds> m = new LinkedHashMap<>();
      for (String v : min) {
        Map.Entry<String, Double> b = parseBound(MIN, v);
        ScoreBounds old = m.getOrDefault(b.getKey(), new ScoreBounds(b.getKey(), null, null));
        if (old.min() != null) {
          throw Errors.filterBoundInvalid(MIN, v, "column " + b.getKey() + " has two --min");
        }
        m.put(b.getKey(), new ScoreBounds(b.getKey(), b.getValue(), old.max()));
      }
      for (String v : max) {
        Map.Entry<String, Double> b = parseBound(MAX, v);
        ScoreBounds old = m.getOrDefault(b.getKey(), new ScoreBounds(b.getKey(), null, null));
        if (old.max() != null) {
          throw Errors.filterBoundInvalid(MAX, v, "column " + b.getKey() + " has two --max");
        }
        if (old.min() != null && old.min() > b.getValue()) {
          throw Errors.filterBoundInvalid(
              MAX, v, "its --min " + old.min() + " is above the --max, so no row could be kept");
        }
        m.put(b.getKey(), new ScoreBounds(b.getKey(), old.min(), b.getValue()));
      }
      return m;
    }

    private static Map.Entry<String, Double> parseBound(String option, String v) {
      int eq = v.indexOf('=');
      if (eq < 0) {
        throw Errors.filterBoundInvalid(option, v, "it is not COLUMN=NUMBER");
      }
      String column = v.substring(0, eq).trim();
      if (!COLUMN.matcher(column).matches()) {
        throw Errors.filterBoundInvalid(option, v, "'" + column + "' is not a column name");
      }
      double t;
      try {
        t = Double.parseDouble(v.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        throw Errors.filterBoundInvalid(option, v, "'" + v.substring(eq + 1) + "' is not a number");
      }
      if (!Double.isFinite(t)) {
        throw Errors.filterBoundInvalid(option, v, "the bound is not a finite number");
      }
      return Map.entry(column, t);
    }

    public Map<String, Object> rules() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("min_clip_score", minClipScore);
      m.put("top_percent", topPercent);
      m.put("per_query_top_percent", perQueryTopPercent);
      m.put("max_rank", maxRank);
      m.put("min_query_score", minQueryScore);
      Map<String, Object> b = new LinkedHashMap<>();
      for (ScoreBounds v : bounds().values()) {
        Map<String, Double> minMax = new LinkedHashMap<>(); // null: that side is unbounded
        minMax.put("min", v.min());
        minMax.put("max", v.max());
        b.put(v.column(), minMax);
      }
      m.put("score_bounds", b);
      return m;
    }
  }

  /** A plain (unquoted) column name: what --min and --max may bound. */
  static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /** The bounds on one column; a null side is unbounded. */
  public record ScoreBounds(String column, Double min, Double max) {}

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
    checkBoundColumns(in.schema(), data, options.bounds().keySet());
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
    for (ScoreBounds b : options.bounds().values()) {
      l = rejectOutOfBounds(l, b);
    }
    Sparks.describe(spark, Stages.FILTER, "count input");
    long rowsIn = in.count();
    CurationSummary s =
        CurationOutput.write(
            spark, Stages.FILTER, options.input(), options.out(), rowsIn, l, details, start);
    l.unpersist();
    return s;
  }

  /**
   * Fails unless every bounded column is a numeric column of the input (compared exactly: the
   * schema's names are the ones the rejects' details will quote).
   */
  static void checkBoundColumns(StructType schema, String data, Collection<String> columns) {
    List<String> numeric =
        Arrays.stream(schema.fields())
            .filter(f -> f.dataType() instanceof NumericType)
            .map(StructField::name)
            .toList();
    for (String c : columns) {
      if (!schema.getFieldIndex(c).isDefined()) {
        throw Errors.filterUnknownScoreColumn(data, c, "the input has no such column", numeric);
      }
      if (!numeric.contains(c)) {
        throw Errors.filterUnknownScoreColumn(
            data,
            c,
            "it is of type " + schema.apply(c).dataType().simpleString() + ", not a number",
            numeric);
      }
    }
  }

  /** One column's bounds: null or NaN first (no bound can be checked), then min, then max. */
  private static Dataset<Row> rejectOutOfBounds(Dataset<Row> l, ScoreBounds b) {
    Column v = col(b.column());
    Column asDouble = v.cast("double");
    l =
        CurationOutput.reject(
            l,
            v.isNull().or(isnan(asDouble)),
            Stages.REJECT_FILTER,
            lit(RejectReason.SCORE_MISSING),
            concat(lit(b.column() + " is "), coalesce(v.cast("string"), lit("null"))),
            lit(null));
    if (b.min() != null) {
      l =
          CurationOutput.reject(
              l,
              asDouble.lt(lit(b.min())),
              Stages.REJECT_FILTER,
              lit(RejectReason.SCORE_BELOW_MIN),
              concat(lit(b.column() + "="), v.cast("string"), lit(" < min " + b.min())),
              lit(null));
    }
    if (b.max() != null) {
      l =
          CurationOutput.reject(
              l,
              asDouble.gt(lit(b.max())),
              Stages.REJECT_FILTER,
              lit(RejectReason.SCORE_ABOVE_MAX),
              concat(lit(b.column() + "="), v.cast("string"), lit(" > max " + b.max())),
              lit(null));
    }
    return l;
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
