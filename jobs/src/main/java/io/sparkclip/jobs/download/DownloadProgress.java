package io.sparkclip.jobs.download;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Download progress on the console: URLs done, URLs/s, success rate and bytes/s, every {@code
 * period} seconds while shards run, from accumulators the tasks add to (the driver sees a task's
 * counts when it ends; tasks are a few thousand rows, so the figures move every few seconds).
 */
final class DownloadProgress implements AutoCloseable {
  private final LongAccumulator urls;
  private final LongAccumulator successes;
  private final LongAccumulator bytes;
  private final PrintStream out;
  private final long start = System.nanoTime();
  private final ScheduledExecutorService timer;

  DownloadProgress(SparkContext sc, PrintStream out, long periodSeconds) {
    this.urls = sc.longAccumulator("download urls");
    this.successes = sc.longAccumulator("download successes");
    this.bytes = sc.longAccumulator("download bytes");
    this.out = out;
    if (out == null) {
      this.timer = null;
      return;
    }
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sparkclip-download-progress");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(this::print, periodSeconds, periodSeconds, TimeUnit.SECONDS);
  }

  LongAccumulator urls() {
    return urls;
  }

  LongAccumulator successes() {
    return successes;
  }

  LongAccumulator bytes() {
    return bytes;
  }

  /** One progress line. */
  String line() {
    double s = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
    long n = urls.value();
    return String.format(
        Locale.ROOT,
        "download: %d URLs (%.1f/s), success %.1f %%, %.1f MB (%.2f MB/s), %.0f s",
        n,
        n / s,
        n == 0 ? 0.0 : 100.0 * successes.value() / n,
        bytes.value() / 1e6,
        bytes.value() / 1e6 / s,
        s);
  }

  private void print() {
    out.println(line());
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
      out.println(line());
    }
  }
}
