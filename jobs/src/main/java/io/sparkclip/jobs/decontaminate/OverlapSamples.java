package io.sparkclip.jobs.decontaminate;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.jobs.stage.RowIds;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A bounded sample of matched pairs with both images (pool image and caption, eval image), for the
 * report's overlap section: the first {@code n} by eval set and id, so reruns show the same pairs.
 * Reading them costs one more scan of the input's image column and of the eval sets, filtered by
 * the broadcast sample.
 */
final class OverlapSamples {
  private OverlapSamples() {}

  static void write(
      org.apache.spark.sql.SparkSession spark,
      Dataset<Row> labelled,
      ResolvedLayout layout,
      Dataset<Row> evalItems,
      Dataset<Row> closest,
      int n,
      String out) {
    Sparks.describe(spark, Stages.DECONTAMINATE, "overlap samples");
    Dataset<Row> sample =
        broadcast(
            closest
                .orderBy(col(Columns.EVAL_SET), col(Columns.EVAL_ID), col(Columns.UID))
                .limit(n)
                .withColumn("_six", xxhash64(col(Columns.EVAL_SET), col(Columns.EVAL_ID))));
    Dataset<Row> pool =
        labelled
            .select(
                col(RowIds.FILE),
                col(RowIds.ROW),
                layout.caption().as(Columns.POOL_CAPTION),
                layout.imageBytes().as(Columns.POOL_IMAGE))
            .join(sample, new String[] {RowIds.FILE, RowIds.ROW});
    Dataset<Row> eval =
        evalItems
            .join(
                sample.select(col("_six")).distinct(),
                col(EvalSets.IX).equalTo(col("_six")),
                "left_semi")
            .select(col(EvalSets.IX).as("_eix"), col(EvalSets.BYTES).as(Columns.EVAL_IMAGE));
    pool.join(broadcast(eval.dropDuplicates("_eix")), col("_six").equalTo(col("_eix")))
        .select(
            col(Columns.UID),
            col(Columns.POOL_CAPTION),
            col(Columns.POOL_IMAGE),
            col(Columns.EVAL_SET),
            col(Columns.EVAL_ID),
            col(Columns.EVAL_IMAGE),
            col(Columns.EVAL_DISTANCE))
        .coalesce(1)
        .write()
        .parquet(new Path(out, StageFiles.EVAL_OVERLAP_SAMPLES_DIR).toString());
  }
}
