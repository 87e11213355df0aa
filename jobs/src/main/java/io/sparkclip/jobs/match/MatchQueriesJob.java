package io.sparkclip.jobs.match;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

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
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sparkclip match-queries}: finds every query of a list in every caption (WIT-style "pairs
 * whose text includes one of 500,000 queries") and picks one query per pair for balancing.
 *
 * <p>Output rows get {@code matched_queries} (array, in caption order) and {@code query}: the
 * matched query with the fewest matches over the whole input (MetaCLIP's intuition: the rarest
 * concept is the one a pair is most valuable for), ties broken by lexicographic order. An input
 * {@code query} column is kept as {@code source_query}. Rows whose pair status is not ok, and rows
 * matching no query, go to the rejects. Also writes {@code query_counts/} (query, rows).
 */
public final class MatchQueriesJob {
  private static final Logger LOG = LoggerFactory.getLogger(MatchQueriesJob.class);

  public record Options(
      String input, String queries, String out, ColumnMapping mapping, boolean overwrite) {
    /** Query list: text, one per line, or Parquet with a {@code query} column. */
    public static final String QUERIES = "queries";

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(QUERIES, null),
          c.string(StageKeys.OUT, null),
          c.mapping(),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT));
    }

    void validate() {
      for (String[] p : new String[][] {{"input", input}, {"--queries", queries}, {"--out", out}}) {
        if (p[1] == null || p[1].isBlank()) {
          throw Errors.matchQueriesMissing(p[0]);
        }
      }
      if (new Path(out).equals(new Path(input))) {
        throw Errors.outIsInput("match-queries", input);
      }
    }
  }

  private final SparkSession spark;
  private final Options options;

  public MatchQueriesJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    CurationInput in = CurationInput.read(spark, options.input(), options.mapping());
    List<String> queries = QueryListReader.read(spark, options.queries());
    Paths.prepareOutput(spark, options.out(), options.overwrite());
    LOG.info("matching {} queries in {}", queries.size(), options.input());

    Broadcast<String[]> bc =
        JavaSparkContext.fromSparkContext(spark.sparkContext())
            .broadcast(queries.toArray(String[]::new));
    UserDefinedFunction matchUdf =
        udf(new MatchUdf(bc), DataTypes.createArrayType(DataTypes.StringType, false))
            .asNonNullable();

    Dataset<Row> pairs = in.pairs();
    if (CurationOutput.has(pairs, Columns.MATCHED_QUERIES)) {
      pairs = pairs.drop(Columns.MATCHED_QUERIES);
    }
    if (CurationOutput.has(pairs, Columns.QUERY)) {
      pairs =
          CurationOutput.has(pairs, Columns.SOURCE_QUERY)
              ? pairs.drop(Columns.QUERY)
              : pairs.withColumnRenamed(Columns.QUERY, Columns.SOURCE_QUERY);
    }
    Column ok = col(Columns.PAIR_STATUS).equalTo(lit(PairStatus.OK));
    Dataset<Row> matched =
        pairs
            .withColumn(
                Columns.MATCHED_QUERIES,
                when(ok, matchUdf.apply(in.layout().caption()))
                    .otherwise(array().cast("array<string>")))
            .persist(StorageLevel.MEMORY_AND_DISK());

    Sparks.describe(spark, Stages.MATCH_QUERIES, "match captions and count matches per query");
    long rowsIn = matched.count();
    Dataset<Row> counts =
        matched
            .select(explode(col(Columns.MATCHED_QUERIES)).as(Columns.QUERY))
            .groupBy(Columns.QUERY)
            .count()
            .withColumnRenamed("count", Columns.ROWS);
    counts.write().parquet(new Path(options.out(), StageFiles.QUERY_COUNTS_DIR).toString());
    Dataset<Row> countsWritten =
        spark.read().parquet(new Path(options.out(), StageFiles.QUERY_COUNTS_DIR).toString());

    // Rows with the same uid have the same url and caption, hence the same matches: choosing per
    // distinct uid and joining back on uid never duplicates a row.
    Sparks.describe(spark, Stages.MATCH_QUERIES, "choose the rarest matched query per pair");
    Dataset<Row> chosen =
        matched
            .select(col(Columns.UID), explode(col(Columns.MATCHED_QUERIES)).as(Columns.QUERY))
            .distinct()
            .join(countsWritten, Columns.QUERY)
            .groupBy(Columns.UID)
            .agg(min(struct(col(Columns.ROWS), col(Columns.QUERY))).as("_pick"))
            .select(
                col(Columns.UID).as("_chosen_uid"),
                col("_pick." + Columns.QUERY).as(Columns.QUERY));
    Dataset<Row> withQuery =
        matched
            .join(chosen, col(Columns.UID).equalTo(col("_chosen_uid")), "left")
            .drop("_chosen_uid");

    Dataset<Row> labelled =
        CurationOutput.reject(
            CurationOutput.reject(
                CurationOutput.unlabelled(withQuery),
                ok.unary_$bang(),
                Stages.REJECT_MATCH_QUERIES,
                col(Columns.PAIR_STATUS),
                col(Columns.PAIR_STATUS_DETAIL),
                lit(null)),
            size(col(Columns.MATCHED_QUERIES)).equalTo(0),
            Stages.REJECT_MATCH_QUERIES,
            lit(RejectReason.NO_QUERY_MATCH),
            lit("no query of " + options.queries() + " occurs in the caption"),
            lit(null));

    Map<String, Object> details = new LinkedHashMap<>();
    details.put("queries", queries.size());
    details.put("queries_matched", countsWritten.count());
    details.put("choice_rule", "rarest matched query by global match count, ties lexicographic");
    CurationSummary s =
        CurationOutput.write(
            spark,
            Stages.MATCH_QUERIES,
            options.input(),
            options.out(),
            rowsIn,
            labelled,
            details,
            start);
    matched.unpersist();
    bc.destroy();
    return s;
  }

  /** Executor side: matches one caption with the JVM's cached automaton. */
  static final class MatchUdf implements UDF1<String, String[]> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<String[]> queries;

    MatchUdf(Broadcast<String[]> queries) {
      this.queries = queries;
    }

    @Override
    public String[] call(String caption) {
      return MatcherCache.get(queries).match(caption);
    }
  }
}
