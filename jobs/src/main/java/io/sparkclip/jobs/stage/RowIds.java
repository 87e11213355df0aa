package io.sparkclip.jobs.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.schemas.Columns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A stable id of each input row, so that a stage can decide on a narrow projection of its input and
 * join the decisions back to the full rows (image bytes and all) read a second time: a WebDataset
 * sample's shard and offset, or a Parquet row's file and row index. The same row gets the same id
 * on every read and on a recomputed task, unlike {@code monotonically_increasing_id}.
 */
public final class RowIds {
  private RowIds() {}

  /** Hash of the input file's path (or WebDataset shard). */
  public static final String FILE = "_row_file";

  /** The row's index in that file (Parquet row index or tar offset). */
  public static final String ROW = "_row_index";

  /** Adds {@link #FILE} and {@link #ROW}; must be applied to a frame as read from its files. */
  public static Dataset<Row> withRowId(Dataset<Row> fromFiles) {
    if (CurationOutput.has(fromFiles, Columns.SOURCE_SHARD)
        && CurationOutput.has(fromFiles, Columns.SOURCE_OFFSET)) {
      return fromFiles
          .withColumn(FILE, xxhash64(col(Columns.SOURCE_SHARD)))
          .withColumn(ROW, col(Columns.SOURCE_OFFSET));
    }
    return fromFiles
        .withColumn(FILE, xxhash64(col("_metadata.file_path")))
        .withColumn(ROW, col("_metadata.row_index"));
  }

  /** Decode tasks per core below which a scan is spread (see {@link #spreadDecode}). */
  static final int DECODE_TASKS_PER_CORE = 4;

  /**
   * A projection (with the row id) whose images are decoded next, spread over the cores. Decoding
   * is a stage's main cost and runs in the scan's tasks; a scan of few row groups (one 10,000-row
   * img2dataset shard is one file of two row groups, 128 and 34 MB) leaves cores idle or one task
   * four times longer than the other, so such a scan is shuffled into {@link
   * #DECODE_TASKS_PER_CORE} tasks per core first: moving the bytes costs a fraction of decoding
   * them. A scan of enough partitions is left as it is (no shuffle of large inputs).
   */
  public static Dataset<Row> spreadDecode(SparkSession spark, Dataset<Row> projected) {
    // By row id: deterministic on retry without the sort a round-robin repartition adds.
    return spreadDecode(spark, projected, col(FILE), col(ROW));
  }

  /** As {@link #spreadDecode(SparkSession, Dataset)}, hashing rows by {@code by} instead. */
  public static Dataset<Row> spreadDecode(
      SparkSession spark, Dataset<Row> projected, Column... by) {
    int want = DECODE_TASKS_PER_CORE * spark.sparkContext().defaultParallelism();
    if (projected.rdd().getNumPartitions() >= want) {
      return projected;
    }
    return projected.repartition(want, by);
  }
}
