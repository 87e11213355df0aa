package io.sparkclip.jobs.match;

import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StringType;

/**
 * Loads the query list onto the driver: a text file (one query per line) or Parquet with a {@code
 * query} column. The list itself is small (WIT: 500,000 entries, a few MB); it is broadcast once.
 */
final class QueryListReader {
  private QueryListReader() {}

  static List<String> read(SparkSession spark, String path) {
    FileSystem fs = Paths.fs(spark, path);
    Path p = new Path(path);
    try {
      if (!fs.exists(p)) {
        throw Errors.queryListNotFound(path);
      }
      boolean parquet = fs.getFileStatus(p).isDirectory() || path.endsWith(".parquet");
      List<String> queries = parquet ? readParquet(spark, path) : readText(fs, p);
      if (queries.isEmpty()) {
        throw Errors.queryListEmpty(path);
      }
      return queries;
    } catch (IOException e) {
      throw Errors.queryListUnreadable(path, e);
    }
  }

  private static List<String> readText(FileSystem fs, Path p) throws IOException {
    List<String> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(fs.open(p), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isBlank()) {
          out.add(line.strip());
        }
      }
    }
    return out;
  }

  private static List<String> readParquet(SparkSession spark, String path) {
    Dataset<Row> df = Paths.readParquet(spark, path);
    if (!CurationSchemaCheck.hasString(df, Columns.QUERY)) {
      throw Errors.queryListWithoutQueryColumn(path, df.schema());
    }
    List<String> out = new ArrayList<>();
    // The query list is the job's configuration, not row data: it is broadcast afterwards.
    df.select(Columns.QUERY)
        .toLocalIterator()
        .forEachRemaining(
            r -> {
              if (!r.isNullAt(0) && !r.getString(0).isBlank()) {
                out.add(r.getString(0).strip());
              }
            });
    return out;
  }

  /** Schema checks on the driver. */
  static final class CurationSchemaCheck {
    private CurationSchemaCheck() {}

    static boolean hasString(Dataset<Row> df, String name) {
      return java.util.Arrays.stream(df.schema().fields())
          .anyMatch(f -> f.name().equals(name) && f.dataType() instanceof StringType);
    }
  }
}
