package io.sparkclip.jobs.stage;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/**
 * A console progress bar per curate stage: Spark tasks finished out of tasks submitted so far (the
 * total grows as a stage submits more jobs). Driven by a {@link SparkListener}; drawn on stderr by
 * the progressbar library.
 */
public final class ConsoleProgress extends SparkListener implements AutoCloseable {
  private final SparkSession spark;
  private ProgressBar bar;
  private long total;

  private ConsoleProgress(SparkSession spark) {
    this.spark = spark;
  }

  public static ConsoleProgress attach(SparkSession spark) {
    ConsoleProgress p = new ConsoleProgress(spark);
    spark.sparkContext().addSparkListener(p);
    return p;
  }

  public synchronized void stage(String name) {
    if (bar != null) {
      bar.close();
    }
    total = 0;
    bar =
        new ProgressBarBuilder()
            .setTaskName(name)
            .setInitialMax(0)
            .setStyle(ProgressBarStyle.ASCII)
            .setUnit(" tasks", 1)
            .setUpdateIntervalMillis(500)
            .continuousUpdate()
            .build();
  }

  @Override
  public synchronized void onJobStart(SparkListenerJobStart jobStart) {
    if (bar != null) {
      int tasks = 0;
      for (var s : scala.jdk.javaapi.CollectionConverters.asJava(jobStart.stageInfos())) {
        tasks += s.numTasks();
      }
      total += tasks;
      bar.maxHint(total);
    }
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
    if (bar != null) {
      bar.step();
    }
  }

  @Override
  public synchronized void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
    spark.sparkContext().removeSparkListener(this);
  }
}
