package io.sparkclip.jobs.stage;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/**
 * Progress of the stage being run, driven by a {@link SparkListener}: on a terminal a bar of Spark
 * tasks finished out of tasks submitted so far (the total grows as a stage submits more jobs), with
 * elapsed time and ETA; elsewhere (logs, CI) one plain line per step of the stage, as the Spark UI
 * names it, and one when the stage ends; nothing when quiet.
 */
public final class ConsoleProgress extends SparkListener implements AutoCloseable {
  /** How progress is shown. */
  public enum Mode {
    /** A bar on a terminal, plain lines otherwise. */
    AUTO,
    BAR,
    LINES,
    QUIET;

    Mode resolve() {
      return this == AUTO ? (System.console() != null ? BAR : LINES) : this;
    }
  }

  private final SparkSession spark;
  private final Mode mode;
  private final PrintStream out;
  private ProgressBar bar;
  private String stage;
  private String step;
  private long total;
  private long done;
  private long stageStart;

  private ConsoleProgress(SparkSession spark, Mode mode, PrintStream out) {
    this.spark = spark;
    this.mode = mode;
    this.out = out;
  }

  /** Listens to the session's jobs until closed. */
  public static ConsoleProgress attach(SparkSession spark, Mode mode, PrintStream out) {
    ConsoleProgress p = new ConsoleProgress(spark, mode.resolve(), out);
    if (p.mode != Mode.QUIET) {
      spark.sparkContext().addSparkListener(p);
    }
    return p;
  }

  Mode mode() {
    return mode;
  }

  /** A new stage starts: a new bar, or its first line. */
  public synchronized void stage(String name) {
    closeBar();
    stage = name;
    step = null;
    total = 0;
    done = 0;
    stageStart = System.nanoTime();
    switch (mode) {
      case BAR ->
          bar =
              new ProgressBarBuilder()
                  .setTaskName(name)
                  .setInitialMax(0)
                  .setStyle(ProgressBarStyle.ASCII)
                  .setUnit(" tasks", 1)
                  .setUpdateIntervalMillis(500)
                  .continuousUpdate()
                  .setConsumer(new ConsoleProgressBarConsumer(out))
                  .build();
      case LINES -> out.println(name + ": started");
      default -> {}
    }
  }

  /** The stage ended: closes its bar, or prints its last line. */
  public synchronized void finished(String summary) {
    closeBar();
    if (mode == Mode.LINES && stage != null) {
      out.printf(
          Locale.ROOT,
          "%s: done in %.1f s, %,d tasks%s%n",
          stage,
          (System.nanoTime() - stageStart) / 1e9,
          done,
          summary.isEmpty() ? "" : "; " + summary);
    }
    stage = null;
  }

  @Override
  public synchronized void onJobStart(SparkListenerJobStart jobStart) {
    int tasks = 0;
    for (var s : scala.jdk.javaapi.CollectionConverters.asJava(jobStart.stageInfos())) {
      tasks += s.numTasks();
    }
    total += tasks;
    if (bar != null) {
      bar.maxHint(total);
    }
    if (mode == Mode.LINES && stage != null) {
      String d = jobStart.properties() == null ? null : jobStart.properties().getProperty(DESC);
      if (d != null && !d.equals(step)) {
        step = d;
        out.printf(
            Locale.ROOT,
            "%s: %s (%.0f s, %,d/%,d tasks)%n",
            stage,
            d.replaceFirst("^sparkclip: ", ""),
            (System.nanoTime() - stageStart) / 1e9,
            done,
            total);
      }
    }
  }

  private static final String DESC = "spark.job.description";

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
    done++;
    if (bar != null) {
      bar.step();
    }
  }

  private void closeBar() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }

  @Override
  public synchronized void close() {
    closeBar();
    if (mode != Mode.QUIET) {
      spark.sparkContext().removeSparkListener(this);
    }
  }
}
