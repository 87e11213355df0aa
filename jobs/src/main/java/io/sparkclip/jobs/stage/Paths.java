package io.sparkclip.jobs.stage;

import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Input and output paths on any Hadoop filesystem (local, hdfs://, s3a://), checked up front. */
public final class Paths {
  private Paths() {}

  public static FileSystem fs(SparkSession spark, String path) {
    try {
      return new Path(path).getFileSystem(hadoopConf(spark));
    } catch (IOException e) {
      throw Errors.filesystemUnavailable(path, e);
    }
  }

  public static Configuration hadoopConf(SparkSession spark) {
    return spark.sparkContext().hadoopConfiguration();
  }

  /** Reads a Parquet dataset, failing with a clear message if the path holds none. */
  public static Dataset<Row> readParquet(SparkSession spark, String path) {
    try {
      FileSystem fs = fs(spark, path);
      if (!fs.exists(new Path(path))) {
        throw Errors.inputPathNotFound(path);
      }
    } catch (IOException e) {
      throw Errors.inputPathUnreadable(path, e);
    }
    try {
      // Only *.parquet files: img2dataset writes {shard}_stats.json beside each shard, and
      // sparkclip writes queries.txt and summaries next to its output.
      return spark.read().option("pathGlobFilter", "*.parquet").parquet(path);
    } catch (Exception e) {
      // Spark's AnalysisException (no Parquet to infer a schema from) is a checked exception.
      throw Errors.notParquet(path, e);
    }
  }

  /** Refuses to write into a non-empty path unless {@code overwrite}; then clears it. */
  public static void prepareOutput(SparkSession spark, String out, boolean overwrite) {
    FileSystem fs = fs(spark, out);
    Path p = new Path(out);
    try {
      if (fs.exists(p)) {
        FileStatus st = fs.getFileStatus(p);
        boolean empty = st.isDirectory() && fs.listStatus(p).length == 0;
        if (!empty && !overwrite) {
          throw Errors.outputExists(out);
        }
        // An empty directory goes too: Spark's writers refuse any existing path.
        fs.delete(p, true);
      }
    } catch (IOException e) {
      throw Errors.outputPrepareFailed(out, e);
    }
  }

  public static void writeText(SparkSession spark, String path, String text) {
    FileSystem fs = fs(spark, path);
    try (OutputStream o = fs.create(new Path(path), true)) {
      o.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw Errors.writeFailed(path, e);
    }
  }

  /** A curation stage directory reads as its data/; anything else as given. */
  public static String resolveInput(SparkSession spark, String input) {
    try {
      FileSystem fs = Paths.fs(spark, input);
      Path data = new Path(input, StageFiles.DATA_DIR);
      if (fs.exists(new Path(input, StageFiles.SUMMARY_FILE)) && fs.isDirectory(data)) {
        return data.toString();
      }
      for (String manifest :
          new String[] {StageFiles.EMBED_MANIFEST_FILE, StageFiles.DOWNLOAD_MANIFEST_FILE}) {
        if (fs.exists(new Path(input, manifest)) && fs.isDirectory(data)) {
          return data.toString();
        }
      }
      return input;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A stage's input and {@code --out} checks, before any work: both given, and not the same path
   * (the stage would delete its input when it prepares its output).
   */
  public static void requireInputAndOut(String stage, String input, String out) {
    Errors.require(
        input != null && !input.isBlank(),
        () -> Errors.optionMissing(stage, "an input path is required", "none given"));
    Errors.require(
        out != null && !out.isBlank(),
        () -> Errors.optionMissing(stage, "--out is required", "none given"));
    Errors.require(
        !new Path(out).equals(new Path(input)), () -> Errors.outMustDifferFromInput(stage));
  }
}
