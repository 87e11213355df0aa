package io.sparkclip.jobs.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.schemas.Columns;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

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
}
