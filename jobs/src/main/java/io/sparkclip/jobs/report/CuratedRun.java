package io.sparkclip.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The output folder of one curate run as the report's sections read it: the stage directories
 * ({@code <n>-<stage>}), their summaries, kept rows, rejects and the input each stage read.
 */
final class CuratedRun {
  final SparkSession spark;
  final String curated;
  private final FileSystem fs;

  CuratedRun(SparkSession spark, String curated) {
    this.spark = spark;
    this.curated = curated;
    this.fs = Paths.fs(spark, curated);
  }

  FileSystem fs() {
    return fs;
  }

  /** The directory of the named stage, if it ran. */
  Optional<String> stage(String name) {
    try {
      for (FileStatus s : fs.listStatus(new Path(curated))) {
        if (s.isDirectory() && s.getPath().getName().matches("\\d+-" + name)) {
          return Optional.of(s.getPath().toString());
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A stage's {@code _summary.json}, or null when it has none. */
  JsonNode summary(String stageDir) {
    return readJson(new Path(stageDir, StageFiles.SUMMARY_FILE));
  }

  Dataset<Row> data(String stageDir) {
    return spark.read().parquet(CurationOutput.data(stageDir));
  }

  Dataset<Row> rejects(String stageDir) {
    return spark.read().parquet(CurationOutput.rejects(stageDir));
  }

  /** The input path a stage's summary records, or null. */
  String inputPath(String stageDir) {
    JsonNode s = summary(stageDir);
    return s == null ? null : s.path("input").asText(null);
  }

  /**
   * The rows the stage read (its summary's input: the previous stage's kept rows, or the raw input
   * for the first stage), prepared as the stage prepared them, so rejected rows can be shown with
   * their image and caption; empty when that input is no longer there.
   */
  Optional<CurationInput> input(String stageDir) {
    String input = inputPath(stageDir);
    if (input == null) {
      return Optional.empty();
    }
    try {
      if (!Paths.fs(spark, input).exists(new Path(input))) {
        return Optional.empty();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Optional.of(CurationInput.read(spark, input, ColumnMapping.DETECT));
  }

  /** The note a section shows instead of what it needs from a stage's input when that is gone. */
  String inputGone(String stageDir, String what) {
    return "<p class=\"na\">"
        + ReportJob.esc(what)
        + " need the stage's input, "
        + ReportJob.esc(String.valueOf(inputPath(stageDir)))
        + ", which is no longer there.</p>";
  }

  boolean exists(Path p) {
    try {
      return fs.exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  JsonNode readJson(Path p) {
    try {
      if (!fs.exists(p)) {
        return null;
      }
      try (InputStream in = fs.open(p)) {
        return new ObjectMapper().readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
