package io.sparkclip.jobs.balance;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.shiftrightunsigned;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code sparkclip balance}: caps the pairs per query, WIT-style (at most N per query, default
 * 20,000). Deterministic: within a query, rows are ranked by {@code xxhash64(uid, seed)} (then uid,
 * source id, url), so which rows survive depends only on the data and the seed, never on
 * partitioning or task order.
 *
 * <p>{@code PROBABILISTIC} is MetaCLIP's balancing: for every matched query q of a row (the {@code
 * matched_queries} array if present, else the {@code query} column), the row is drawn with
 * probability min(1, t / count(q)), the draw being {@code xxhash64(uid, q, seed)} mapped to [0, 1);
 * the row is kept if any of its queries draws it. Writes {@code query_counts/} (query, rows_before,
 * rows_after) next to data and rejects.
 */
public final class BalanceJob {

  public enum Mode {
    CAP,
    PROBABILISTIC;

    static Mode fromLabel(String label) {
      return switch (label.toLowerCase(Locale.ROOT)) {
        case "cap" -> CAP;
        case "probabilistic", "metaclip" -> PROBABILISTIC;
        default -> throw Errors.unknownBalanceMode(label);
      };
    }
  }

  public record Options(
      String input,
      String out,
      ColumnMapping mapping,
      boolean overwrite,
      Mode mode,
      long cap,
      long seed) {
    public static final String MODE = "mode";
    public static final String MODE_DEFAULT = "cap";

    /** Max pairs per query (WIT: 20,000); t in probabilistic mode. */
    public static final String CAP = "cap";

    public static final long CAP_DEFAULT = 20_000;
    public static final String SEED = "seed";
    public static final long SEED_DEFAULT = 0;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.mapping(),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT),
          Mode.fromLabel(c.string(MODE, MODE_DEFAULT)),
          c.longValue(CAP, CAP_DEFAULT),
          c.longValue(SEED, SEED_DEFAULT));
    }

    void validate() {
      if (input == null || input.isBlank() || out == null || out.isBlank()) {
        throw Errors.balanceNeedsInputAndOut();
      }
      if (new Path(out).equals(new Path(input))) {
        throw Errors.outIsInput("balance", input);
      }
      if (cap < 1) {
        throw Errors.capOutOfRange(cap);
      }
    }
  }

  private final SparkSession spark;
  private final Options options;

  public BalanceJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    CurationInput in = CurationInput.read(spark, options.input(), options.mapping());
    ResolvedLayout layout = in.layout();
    Column query =
        layout
            .query()
            .orElseThrow(() -> Errors.noQueryColumnToBalance(in.pairs().schema(), options.input()));
    Paths.prepareOutput(spark, options.out(), options.overwrite());

    Dataset<Row> labelled =
        CurationOutput.reject(
            in.labelUnusable(Stages.REJECT_BALANCE),
            query.isNull().or(trim(query).equalTo("")),
            Stages.REJECT_BALANCE,
            lit(RejectReason.NO_QUERY),
            lit("no query to balance on"),
            lit(null));
    Column eligible = CurationOutput.kept();
    labelled = labelled.withColumn("_eligible", eligible);

    Sparks.describe(
        spark, Stages.BALANCE, options.mode() == Mode.CAP ? "rank rows per query" : "draw rows");
    labelled =
        options.mode() == Mode.CAP
            ? cap(labelled, layout, query)
            : probabilistic(labelled, in, query);
    labelled = labelled.persist(StorageLevel.MEMORY_AND_DISK());

    Sparks.describe(spark, Stages.BALANCE, "count rows per query");
    long rowsIn = labelled.count();
    labelled
        .filter(col("_eligible"))
        .groupBy(query.as(Columns.QUERY))
        .agg(
            count(lit(1)).as(Columns.ROWS_BEFORE),
            count(when(CurationOutput.kept(), lit(1))).as(Columns.ROWS_AFTER))
        .write()
        .parquet(new Path(options.out(), StageFiles.QUERY_COUNTS_DIR).toString());

    Map<String, Object> details = new LinkedHashMap<>();
    details.put("mode", options.mode().name().toLowerCase(java.util.Locale.ROOT));
    details.put(options.mode() == Mode.CAP ? "cap" : "t", options.cap());
    details.put("seed", options.seed());
    CurationSummary s =
        CurationOutput.write(
            spark,
            Stages.BALANCE,
            options.input(),
            options.out(),
            rowsIn,
            labelled.drop("_eligible"),
            details,
            start);
    labelled.unpersist();
    return s;
  }

  private Dataset<Row> cap(Dataset<Row> labelled, ResolvedLayout layout, Column query) {
    Column group =
        when(col("_eligible"), concat(lit("q"), query))
            .otherwise(concat(lit("u"), col(Columns.UID)));
    List<Column> order = new ArrayList<>();
    order.add(xxhash64(col(Columns.UID), lit(options.seed())));
    order.add(col(Columns.UID));
    layout.idCol().ifPresent(c -> order.add(ResolvedLayout.column(c)));
    layout.url().ifPresent(order::add);
    Dataset<Row> ranked =
        labelled.withColumn(
            "_rank",
            row_number().over(Window.partitionBy(group).orderBy(order.toArray(Column[]::new))));
    return CurationOutput.reject(
            ranked,
            col("_eligible").and(col("_rank").gt(options.cap())),
            Stages.REJECT_BALANCE,
            lit(RejectReason.OVER_CAP),
            format_string("rank %d for query over cap " + options.cap(), col("_rank")),
            lit(null))
        .drop("_rank");
  }

  private Dataset<Row> probabilistic(Dataset<Row> labelled, CurationInput in, Column query) {
    boolean hasMatched =
        CurationOutput.has(labelled, Columns.MATCHED_QUERIES)
            && labelled.schema().apply(Columns.MATCHED_QUERIES).dataType() instanceof ArrayType;
    Column entries =
        hasMatched ? coalesce(col(Columns.MATCHED_QUERIES), array(query)) : array(query);
    Dataset<Row> perEntry =
        labelled
            .filter(col("_eligible"))
            .select(col(Columns.UID).as("_u"), explode(entries).as("_q"));
    Dataset<Row> counts = perEntry.groupBy("_q").agg(count(lit(1)).as("_n"));
    Column u =
        shiftrightunsigned(xxhash64(col("_u"), col("_q"), lit(options.seed())), 11)
            .cast("double")
            .divide(lit(9007199254740992.0)); // 2^53
    Column p = least(lit(1.0), lit((double) options.cap()).divide(col("_n")));
    Dataset<Row> drawn =
        perEntry
            .distinct()
            .join(counts, "_q")
            .groupBy("_u")
            .agg(max(u.lt(p)).as("_drawn"), max(p).as("_p"));
    Dataset<Row> joined =
        labelled.join(drawn, col(Columns.UID).equalTo(col("_u")), "left").drop("_u");
    return CurationOutput.reject(
            joined,
            col("_eligible").and(col("_drawn").equalTo(lit(false))),
            Stages.REJECT_BALANCE,
            lit(RejectReason.OVER_CAP),
            format_string("not drawn; best keep probability %.4f", col("_p")),
            lit(null))
        .drop("_drawn", "_p");
  }
}
