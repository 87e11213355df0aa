package io.sparkclip.jobs.stage;

import java.io.PrintStream;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * Runs stages on one session with progress on the console: the stand-alone commands and curate both
 * run through it, so every stage gets progress and its summary the same way.
 */
public final class StageRunner implements AutoCloseable {
  private final SparkSession spark;
  private final ConsoleProgress progress;

  public StageRunner(SparkSession spark, ConsoleProgress.Mode mode, PrintStream console) {
    this.spark = spark;
    this.progress = ConsoleProgress.attach(spark, mode, console);
  }

  /** Runs {@code stage} under {@code label} (the bar's name, e.g. "curate 2/6 dedup"). */
  public <O> CurationSummary run(Stage<O> stage, O options, String label) {
    progress.stage(label);
    // Until the stage names its first step, its jobs carry its name, not the previous stage's.
    Sparks.describe(spark, stage.name(), "read input");
    CurationSummary s;
    try {
      s = stage.run(spark, options);
    } catch (RuntimeException e) {
      progress.finished("failed");
      throw e;
    }
    progress.finished(
        String.format(
            Locale.ROOT,
            "%,d rows in, %,d out, %,d rejected",
            s.rowsIn(),
            s.rowsOut(),
            s.rowsRejected()));
    return s;
  }

  @Override
  public void close() {
    progress.close();
  }
}
