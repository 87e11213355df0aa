package io.sparkclip.jobs.download;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;

import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * The Spark work of one shard: its rows keyed as img2dataset keys them, spread over tasks of {@code
 * rows-per-task} consecutive rows (one big metadata file keeps every core busy), fetched by {@link
 * DownloadPartition} and written to the shard's staging folder.
 */
final class ShardDownload {
  private final SparkSession spark;
  private final DownloadOptions options;
  private final DownloadProgress progress;

  ShardDownload(SparkSession spark, DownloadOptions options, DownloadProgress progress) {
    this.spark = spark;
    this.options = options;
    this.progress = progress;
  }

  /** Downloads every row of the metadata file {@code file}, shard number {@code ordinal}. */
  void download(String name, Path file, int ordinal, Path staging) {
    describe("shard " + name);
    Dataset<Row> metadata = MetadataInput.read(spark, file);
    MetadataInput.Roles roles =
        MetadataInput.roles(metadata.schema(), options.mapping(), file.toString());
    Dataset<Row> base = DownloadRows.base(metadata, roles);
    long rows = base.count();
    int digits = DownloadRows.rowDigits(rows);
    StructType keyed = base.schema().add(Columns.KEY, DataTypes.StringType, false);
    // zipWithIndex numbers rows in file order, the same on every run of the same file.
    JavaPairRDD<Long, Row> indexed =
        base.javaRDD()
            .zipWithIndex()
            .mapToPair(t -> new Tuple2<>(t._2(), withKey(t._1(), ordinal, t._2(), digits)));
    write(fetch(indexed, rows), keyed, staging);
  }

  private static Row withKey(Row r, int shard, long index, int digits) {
    Object[] v = new Object[r.length() + 1];
    for (int i = 0; i < r.length(); i++) {
      v[i] = r.get(i);
    }
    v[r.length()] = DownloadRows.key(shard, index, digits);
    return RowFactory.create(v);
  }

  /**
   * Fetches again the rows of a committed shard whose failure was transient and writes the whole
   * shard (the other rows as they were) to staging; returns the rows fetched again.
   */
  long retry(String name, List<Path> committedFiles, Path staging) {
    describe("retry failed rows of shard " + name);
    Dataset<Row> previous =
        spark.read().parquet(committedFiles.stream().map(Path::toString).toArray(String[]::new));
    Column again = transientFailure();
    Dataset<Row> kept = previous.filter(not(again));
    Dataset<Row> base = DownloadRows.baseOfOutput(previous.filter(again));
    long rows = base.count();
    if (rows == 0) {
      return 0;
    }
    JavaPairRDD<Long, Row> indexed = base.javaRDD().zipWithIndex().mapToPair(t -> t.swap());
    Dataset<Row> fetched =
        spark.createDataFrame(fetch(indexed, rows), DownloadRows.output(base.schema()));
    kept.unionByName(fetched).write().option("compression", "snappy").parquet(staging.toString());
    return rows;
  }

  /** Fetches indexed rows in tasks of {@code rows-per-task} consecutive rows. */
  private JavaRDD<Row> fetch(JavaPairRDD<Long, Row> indexed, long rows) {
    int rowsPerTask = options.rowsPerTask();
    int tasks = (int) Math.max(1, (rows + rowsPerTask - 1) / rowsPerTask);
    return indexed
        .mapToPair(t -> new Tuple2<>(t._1() / rowsPerTask, t._2()))
        .partitionBy(new HashPartitioner(tasks))
        .values()
        .mapPartitions(new DownloadPartition(options, progress));
  }

  private void write(JavaRDD<Row> rows, StructType base, Path staging) {
    spark
        .createDataFrame(rows, DownloadRows.output(base))
        .write()
        .option("compression", "snappy")
        .parquet(staging.toString());
  }

  /**
   * Rows whose failure may not repeat: failed_to_download with a transient reason (timeouts,
   * connection and I/O errors, HTTP 408, 429 and 5xx).
   */
  static Column transientFailure() {
    Column reason = col(DownloadRows.REASON);
    return col(Columns.STATUS)
        .equalTo(DownloadStatus.FAILED_TO_DOWNLOAD)
        .and(
            reason
                .isin(
                    DownloadStatus.REASON_TIMEOUT,
                    DownloadStatus.REASON_CONNECT,
                    DownloadStatus.REASON_IO)
                .or(reason.rlike("^http_(408|429|5[0-9][0-9])$")))
        .and(reason.isNotNull());
  }

  private void describe(String what) {
    Sparks.describe(spark, Stages.DOWNLOAD, what);
  }
}
