package io.sparkclip.jobs.download;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Counts of download's rows, like img2dataset's stats: rows per status and per failure reason,
 * transient failures ({@code --retry-failed} candidates) and image bytes, for a shard's commit
 * marker and for the stage's summary.
 */
final class DownloadReport {
  private DownloadReport() {}

  /** A shard's counts and the marker map they are recorded in. */
  record ShardCounts(long rows, Map<String, Object> marker) {}

  static final String STATUS = "status";
  static final String REASONS = "reasons";
  static final String TRANSIENT = "transient";
  static final String BYTES = "image_bytes";

  /** Counts the rows a shard's Spark job wrote to {@code dir}. */
  static ShardCounts countShard(SparkSession spark, Path dir, String shard) {
    Sparks.describe(spark, Stages.DOWNLOAD, "count shard " + shard);
    return counts(spark.read().parquet(dir.toString()));
  }

  /** The counts of a frame of download rows. */
  static ShardCounts counts(Dataset<Row> rows) {
    List<Row> groups =
        rows.groupBy(col(Columns.STATUS), col(DownloadRows.REASON))
            .agg(
                count(lit(1)).as("n"),
                sum(when(ShardDownload.transientFailure(), 1).otherwise(0)).as("t"),
                sum(coalesce(length(col(Columns.JPG)), lit(0))).cast("long").as("b"))
            .collectAsList();
    Map<String, Long> status = new TreeMap<>();
    Map<String, Long> reasons = new TreeMap<>();
    long total = 0;
    long transientRows = 0;
    long bytes = 0;
    for (Row g : groups) {
      long n = g.getLong(2);
      total += n;
      status.merge(g.getString(0), n, Long::sum);
      if (!g.isNullAt(1)) {
        reasons.merge(g.getString(1), n, Long::sum);
      }
      transientRows += g.isNullAt(3) ? 0 : g.getLong(3);
      bytes += g.isNullAt(4) ? 0 : g.getLong(4);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(STATUS, status);
    m.put(REASONS, reasons);
    m.put(TRANSIENT, transientRows);
    m.put(BYTES, bytes);
    return new ShardCounts(total, m);
  }

  /** Transient failures a commit marker records (0 for a marker without counts). */
  static long transientRows(Map<?, ?> marker) {
    if (marker != null
        && marker.get("rows") instanceof Map<?, ?> rows
        && rows.get(TRANSIENT) instanceof Number n) {
      return n.longValue();
    }
    return 0;
  }
}
