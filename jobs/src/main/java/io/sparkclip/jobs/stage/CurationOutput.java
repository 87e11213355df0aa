package io.sparkclip.jobs.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Schemas;
import io.sparkclip.schemas.StageFiles;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output layout every curation job shares: {@code <out>/data/} (the rows kept, Parquet, the
 * next job's input), {@code <out>/rejects/} (one {@link Schemas#REJECTS} row per row removed) and
 * {@code <out>/_summary.json}. Jobs hand over a <em>labelled</em> frame: the input rows plus the
 * four label columns below, null for a kept row; this class splits it, writes both parts, counts
 * them back from what was written and checks rows in = rows out + rows rejected.
 */
public final class CurationOutput {
  private static final Logger LOG = LoggerFactory.getLogger(CurationOutput.class);

  /** Label columns of a labelled frame; a row is rejected iff {@link #REJECT_REASON} is set. */
  public static final String REJECT_STAGE = "_reject_stage";

  public static final String REJECT_REASON = "_reject_reason";
  public static final String REJECT_DETAIL = "_reject_detail";
  public static final String REJECT_RELATED = "_reject_related_uid";

  private CurationOutput() {}

  public static String data(String out) {
    return new Path(out, StageFiles.DATA_DIR).toString();
  }

  public static String rejects(String out) {
    return new Path(out, StageFiles.REJECTS_DIR).toString();
  }

  public static String summary(String out) {
    return new Path(out, StageFiles.SUMMARY_FILE).toString();
  }

  /** Adds the label columns, all null: every row kept so far. */
  public static Dataset<Row> unlabelled(Dataset<Row> df) {
    return df.withColumn(REJECT_STAGE, lit(null).cast("string"))
        .withColumn(REJECT_REASON, lit(null).cast("string"))
        .withColumn(REJECT_DETAIL, lit(null).cast("string"))
        .withColumn(REJECT_RELATED, lit(null).cast("string"));
  }

  /**
   * Labels rows that are still kept and match {@code when}; rows already rejected keep their first
   * label (the stage that removed them first).
   */
  public static Dataset<Row> reject(
      Dataset<Row> labelled,
      Column when,
      String stage,
      Column reason,
      Column detail,
      Column related) {
    Column fresh = col(REJECT_REASON).isNull().and(when);
    return labelled
        .withColumn(
            REJECT_STAGE,
            org.apache.spark.sql.functions.when(fresh, lit(stage)).otherwise(col(REJECT_STAGE)))
        .withColumn(
            REJECT_DETAIL,
            org.apache
                .spark
                .sql
                .functions
                .when(fresh, detail.cast("string"))
                .otherwise(col(REJECT_DETAIL)))
        .withColumn(
            REJECT_RELATED,
            org.apache
                .spark
                .sql
                .functions
                .when(fresh, related.cast("string"))
                .otherwise(col(REJECT_RELATED)))
        .withColumn(
            REJECT_REASON,
            org.apache
                .spark
                .sql
                .functions
                .when(fresh, reason.cast("string"))
                .otherwise(col(REJECT_REASON)));
  }

  /** True for rows no stage has rejected. */
  public static Column kept() {
    return col(REJECT_REASON).isNull();
  }

  /** The rows kept, without label columns. */
  public static Dataset<Row> keptRows(Dataset<Row> labelled) {
    return labelled.filter(kept()).drop(REJECT_STAGE, REJECT_REASON, REJECT_DETAIL, REJECT_RELATED);
  }

  /** The rejected rows in the shared {@link Schemas#REJECTS} layout. */
  public static Dataset<Row> rejectRows(Dataset<Row> labelled) {
    return labelled
        .filter(col(REJECT_REASON).isNotNull())
        .select(
            col(Columns.UID),
            col(REJECT_STAGE).as(Columns.STAGE),
            col(REJECT_REASON).as(Columns.REASON),
            col(REJECT_DETAIL).as(Columns.DETAIL),
            col(REJECT_RELATED).as(Columns.RELATED_UID));
  }

  /**
   * Writes data and rejects of a labelled frame, counts both back from the written files, writes
   * {@code _summary.json} and returns the summary. The caller persists {@code labelled} if it is
   * expensive to compute: it is read twice.
   */
  public static CurationSummary write(
      SparkSession spark,
      String job,
      String input,
      String out,
      long rowsIn,
      Dataset<Row> labelled,
      Map<String, Object> details,
      long startNanos) {
    Sparks.describe(spark, job, "write data");
    Dataset<Row> kept = keptRows(labelled);
    // Shards of about 20,000 rows, and at least one per core, rather than one per shuffle
    // partition:
    // the next stages (embed in particular) work shard by shard.
    int shards =
        (int)
            Math.max(
                spark.sparkContext().defaultParallelism(),
                Math.min(100_000, (rowsIn + 19_999) / 20_000));
    if (kept.rdd().getNumPartitions() > shards) {
      kept = kept.coalesce(shards);
    }
    kept.write().option("compression", "snappy").parquet(data(out));
    Sparks.describe(spark, job, "write rejects");
    rejectRows(labelled).write().option("compression", "snappy").parquet(rejects(out));

    Sparks.describe(spark, job, "count outputs");
    long rowsOut = spark.read().parquet(data(out)).count();
    Map<String, Map<String, Long>> rejected = new TreeMap<>();
    // One row per (stage, reason): a handful.
    spark
        .read()
        .parquet(rejects(out))
        .groupBy(Columns.STAGE, Columns.REASON)
        .count()
        .toLocalIterator()
        .forEachRemaining(
            r ->
                rejected
                    .computeIfAbsent(r.getString(0), k -> new TreeMap<>())
                    .put(r.getString(1), r.getLong(2)));
    CurationSummary s =
        new CurationSummary(
            job,
            input,
            out,
            rowsIn,
            rowsOut,
            rejected,
            details == null ? Map.of() : new LinkedHashMap<>(details),
            (System.nanoTime() - startNanos) / 1e9);
    Paths.writeText(spark, summary(out), s.toJson());
    if (!s.balanced()) {
      LOG.error(
          "{}: accounting does not balance: {} in, {} out, {} rejected",
          job,
          rowsIn,
          rowsOut,
          s.rowsRejected());
    }
    return s;
  }

  /** True if the frame has a column of exactly this name. */
  public static boolean has(Dataset<Row> df, String name) {
    return Arrays.stream(df.schema().fields()).map(StructField::name).anyMatch(name::equals);
  }
}
