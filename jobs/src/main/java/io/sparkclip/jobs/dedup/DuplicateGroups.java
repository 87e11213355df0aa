package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.schemas.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/** Duplicate clusters by key: one row kept per cluster, the others marked or rejected. */
final class DuplicateGroups {
  private DuplicateGroups() {}

  /**
   * Groups kept rows with a non-null key; in each group of two or more, every row but the first (in
   * keep order) is a duplicate of the first. Rows already rejected or without a key each form their
   * own group, so they cannot skew one partition.
   */
  static Dataset<Row> byKey(
      Dataset<Row> labelled,
      Column key,
      String stage,
      String reason,
      String clusterPrefix,
      List<Column> order,
      boolean markOnly) {
    Column active = CurationOutput.kept().and(key.isNotNull());
    Column group =
        when(active, concat(lit("k"), key.cast("string")))
            .otherwise(concat(lit("u"), col(Columns.UID)));
    // One window (one shuffle): partitioned by the materialised group column, which later column
    // replacements (labels) cannot invalidate, and the group size over the whole partition frame
    // of the same ordered spec.
    WindowSpec w = Window.partitionBy(col("_grp")).orderBy(order.toArray(Column[]::new));
    WindowSpec all = w.rowsBetween(Window.unboundedPreceding(), Window.unboundedFollowing());
    Dataset<Row> ranked =
        labelled
            .withColumn("_grp", group)
            .select(
                col("*"),
                row_number().over(w).as("_rn"),
                first(col(Columns.UID)).over(w).as("_first"),
                count(lit(1)).over(all).as("_n"));
    Column inCluster = active.and(col("_n").gt(1));
    Column dup = inCluster.and(col("_rn").gt(1));
    ranked =
        ranked
            .withColumn(
                Columns.DUP_CLUSTER,
                when(
                        inCluster,
                        concat(lit(clusterPrefix + ":"), substring(sha2(col("_grp"), 256), 1, 16)))
                    .otherwise(col(Columns.DUP_CLUSTER)))
            .withColumn(Columns.DUP_OF, when(dup, col("_first")).otherwise(col(Columns.DUP_OF)));
    if (!markOnly) {
      ranked =
          CurationOutput.reject(
              ranked,
              dup,
              stage,
              lit(reason),
              concat(lit("same " + clusterPrefix + " as "), col("_first")),
              col("_first"));
    }
    return ranked.drop("_grp", "_rn", "_first", "_n");
  }
}
