package io.sparkclip.jobs.stage;

import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts the plan of a frame that an iterative or multi-step stage reads several times (dedup's
 * steps, connected components' rounds, semdedup's leaves), materialising it once.
 *
 * <p>In local mode a local checkpoint: the driver is the only executor, so nothing it stores can be
 * lost, and it is the cheapest cut. On a cluster a local checkpoint's blocks die with their
 * executor and the job fails ({@code CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND}, seen in FaultInjectionIT),
 * so there the frame is written as a reliable checkpoint (computed once, by the write) under {@code
 * spark.checkpoint.dir} if set, else under the stage output's {@value StageFiles#CHECKPOINT_DIR};
 * {@link #close} deletes it when the stage ends.
 */
public final class Checkpoints implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);

  /** Spark's own key for the checkpoint directory (SparkContext reads it at start-up). */
  static final String CHECKPOINT_DIR_CONF = "spark.checkpoint.dir";

  private final SparkSession spark;
  private final Path dir;

  private Checkpoints(SparkSession spark, Path dir) {
    this.spark = spark;
    this.dir = dir;
  }

  /** Reliable checkpoints for the stage writing {@code out}, unless Spark runs locally. */
  public static Checkpoints open(SparkSession spark, String out) {
    if (local(spark)) {
      return new Checkpoints(spark, null);
    }
    String base = spark.sparkContext().getConf().get(CHECKPOINT_DIR_CONF, null);
    Path dir =
        base == null
            ? new Path(out, StageFiles.CHECKPOINT_DIR)
            : new Path(base, "sparkclip-" + UUID.randomUUID());
    spark.sparkContext().setCheckpointDir(dir.toString());
    LOG.info("reliable checkpoints under {}", dir);
    return new Checkpoints(spark, dir);
  }

  /** {@code ds} materialised with its plan cut; eager, so observations on it are filled. */
  public static Dataset<Row> cut(Dataset<Row> ds) {
    SparkSession spark = ds.sparkSession();
    if (local(spark)) {
      return ds.localCheckpoint();
    }
    if (spark.sparkContext().getCheckpointDir().isEmpty()) {
      throw new IllegalStateException(
          "no checkpoint directory: the stage must open Checkpoints before it cuts a plan");
    }
    return ds.checkpoint(true);
  }

  static boolean local(SparkSession spark) {
    return spark.sparkContext().isLocal();
  }

  @Override
  public void close() {
    if (dir == null) {
      return;
    }
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      fs.delete(dir, true);
    } catch (IOException e) {
      LOG.warn("could not delete the checkpoints under {}: {}", dir, e.toString());
    }
  }
}
