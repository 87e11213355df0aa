package io.sparkclip.jobs.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.sum;

import io.sparkclip.jobs.stage.InputFiles;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * WebDataset read throughput (issue 15; not a test): reads every sample of a folder of tar shards
 * through {@link InputFiles#read} (the path every stage takes) and sums the image bytes, so that
 * every member is read and every row built. Run by {@code bench/webdataset.sh}; see
 * bench/README.md.
 *
 * <pre>
 * WebDatasetReadBench DIR [master]
 * </pre>
 *
 * Prints {@code read: samples N, invalid I, image bytes B, tasks T, seconds S} (S: the job alone).
 */
public final class WebDatasetReadBench {
  private WebDatasetReadBench() {}

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: WebDatasetReadBench DIR [master]");
      System.exit(2);
    }
    String master = args.length > 1 ? args[1] : "local[*]";
    try (Sparks sparks = Sparks.open("sparkclip webdataset read bench", master, Map.of())) {
      long t0 = System.nanoTime();
      var df = InputFiles.read(sparks.session(), args[0]);
      Sparks.describe(sparks.session(), "webdataset read bench", "read every sample");
      Row r =
          df.agg(
                  count(col(Columns.KEY)),
                  count(col(Columns.SAMPLE_ERROR)),
                  sum(length(col(Columns.IMAGE))))
              .first();
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "read: samples %d, invalid %d, image bytes %d, tasks %d, seconds %.1f%n",
          r.getLong(0),
          r.getLong(1),
          r.isNullAt(2) ? 0 : r.getLong(2),
          df.rdd().getNumPartitions(),
          secs);
    }
  }
}
