package io.sparkclip.jobs.inspect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;

import io.sparkclip.jobs.stage.InputFiles;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code sparkclip inspect}: layout, column mapping, row count, status counts and sample rows of a
 * Parquet dataset. Only aggregates and a handful of sample rows reach the driver.
 */
public final class InspectJob {
  public record Options(String path, ColumnMapping mapping, int samples) {}

  /** What inspect found. {@link #render()} is what the command prints. */
  public record Report(
      String path,
      InputFiles.Format storage,
      ResolvedLayout layout,
      String columns,
      long rows,
      long files,
      Map<String, Long> pairStatus,
      Map<String, Long> downloadStatus,
      Map<String, Long> groundTruth,
      List<String> samples) {

    public String render() {
      StringBuilder sb = new StringBuilder();
      sb.append("Dataset:  ").append(path).append('\n');
      sb.append("Layout:   ").append(layout.layout().label());
      if (storage == InputFiles.Format.WEBDATASET) {
        sb.append(" columns in WebDataset tar shards");
      } else if (storage == InputFiles.Format.FILES) {
        sb.append(" columns in img2dataset files folders");
      }
      sb.append('\n');
      sb.append("Rows:     ")
          .append(String.format("%,d", rows))
          .append(" in ")
          .append(files)
          .append(" file(s)\n");
      sb.append("Columns:  ").append(columns).append('\n');
      sb.append("Mapping:\n");
      layout.roles().forEach((k, v) -> sb.append(String.format("  %-8s → %s%n", k, v)));
      sb.append("Pair status (").append(Columns.PAIR_STATUS).append("):\n");
      pairStatus.forEach((k, v) -> sb.append(String.format("  %-26s %,d%n", k, v)));
      if (!downloadStatus.isEmpty()) {
        sb.append("Download status (img2dataset ").append(Columns.STATUS).append("):\n");
        downloadStatus.forEach((k, v) -> sb.append(String.format("  %-26s %,d%n", k, v)));
      }
      if (!groundTruth.isEmpty()) {
        sb.append("Ground truth (").append(StageFiles.GROUND_TRUTH_DIR).append("):\n");
        groundTruth.forEach((k, v) -> sb.append(String.format("  %-26s %,d%n", k, v)));
      }
      sb.append("Sample rows:\n");
      samples.forEach(s -> sb.append("  ").append(s).append('\n'));
      return sb.toString();
    }
  }

  private final SparkSession spark;
  private final Options options;

  public InspectJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public Report run() {
    InputFiles.Listing listing =
        InputFiles.list(Paths.fs(spark, options.path()), new Path(options.path()));
    InputFiles.Format storage = listing.format();
    Dataset<Row> input = InputFiles.read(spark, options.path(), listing);
    ResolvedLayout layout =
        LayoutDetector.detect(input.schema(), options.mapping(), options.path());
    Dataset<Row> pairs = Pairs.prepare(input, layout);

    Sparks.describe(spark, "inspect", "count rows and statuses");
    long rows = input.count();
    long files =
        storage != InputFiles.Format.PARQUET
            ? input.select(Columns.SOURCE_SHARD).distinct().count()
            : input.select(input_file_name()).distinct().count();
    Map<String, Long> pairStatus = counts(pairs, Columns.PAIR_STATUS);
    Map<String, Long> downloadStatus =
        input.schema().getFieldIndex(Columns.STATUS).isDefined()
            ? counts(input, Columns.STATUS)
            : Map.of();
    Map<String, Long> groundTruth = groundTruth();

    Sparks.describe(spark, "inspect", "sample rows");
    List<Column> shown = new ArrayList<>();
    shown.add(col(Columns.UID));
    layout.idCol().ifPresent(c -> shown.add(ResolvedLayout.column(c).as("id")));
    shown.add(col(Columns.PAIR_STATUS));
    shown.add(
        layout.hasImages()
            ? length(layout.imageBytes()).as("image_bytes")
            : lit(null).as("image_bytes"));
    shown.add(layout.query().orElse(lit(null)).as("query"));
    shown.add(layout.caption().as("caption"));
    List<String> samples = new ArrayList<>();
    for (Row r :
        pairs.select(shown.toArray(Column[]::new)).takeAsList(Math.max(0, options.samples()))) {
      StringBuilder s = new StringBuilder();
      for (String f : r.schema().fieldNames()) {
        Object v = r.getAs(f);
        s.append(f)
            .append('=')
            .append(v == null ? "null" : v.toString().replace('\n', ' '))
            .append("  ");
      }
      samples.add(s.toString().trim());
    }
    return new Report(
        options.path(),
        storage,
        layout,
        Errors.describeColumns(input.schema()),
        rows,
        files,
        pairStatus,
        downloadStatus,
        groundTruth,
        samples);
  }

  private static Map<String, Long> counts(Dataset<Row> df, String column) {
    Map<String, Long> m = new TreeMap<>();
    // One row per distinct status value: a handful.
    df.groupBy(ResolvedLayout.column(column))
        .count()
        .toLocalIterator()
        .forEachRemaining(r -> m.put(String.valueOf(r.get(0)), r.getLong(1)));
    return m;
  }

  private Map<String, Long> groundTruth() {
    Path gt = new Path(options.path(), StageFiles.GROUND_TRUTH_DIR);
    try {
      if (!Paths.fs(spark, options.path()).exists(gt)) {
        return Map.of();
      }
    } catch (IOException e) {
      return Map.of();
    }
    return counts(spark.read().parquet(gt.toString()), Columns.FAULT);
  }
}
