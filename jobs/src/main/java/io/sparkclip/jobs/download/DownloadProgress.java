package io.sparkclip.jobs.download;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;

/**
 * Download progress on the console: URLs done, URLs/s, success rate and bytes/s, every {@code
 * period} seconds while shards run, from accumulators the tasks add to. The driver merges a task's
 * accumulators only when it ends, so running tasks are counted from the values their executors
 * report with each heartbeat ({@code spark.executor.heartbeatInterval}, 10 s by default).
 */
final class DownloadProgress extends SparkListener implements AutoCloseable {
  private final LongAccumulator urls;
  private final LongAccumulator successes;
  private final LongAccumulator bytes;
  private final PrintStream out;
  private final long start = System.nanoTime();
  private final ScheduledExecutorService timer;
  private final SparkContext sc;

  /** The latest values a running task reported, by task id: urls, successes, bytes. */
  private final Map<Long, long[]> running = new ConcurrentHashMap<>();

  /** Tasks that ended: a heartbeat handled after its task's end must not count it again. */
  private final java.util.Set<Long> ended = ConcurrentHashMap.newKeySet();

  DownloadProgress(SparkContext sc, PrintStream out, long periodSeconds) {
    this.sc = sc;
    this.urls = sc.longAccumulator("download urls");
    this.successes = sc.longAccumulator("download successes");
    this.bytes = sc.longAccumulator("download bytes");
    this.out = out;
    if (out == null) {
      this.timer = null;
      return;
    }
    sc.addSparkListener(this);
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

  @Override
  public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
    for (scala.Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t :
        scala.jdk.javaapi.CollectionConverters.asJava(update.accumUpdates())) {
      long task = (Long) t._1();
      long[] v = new long[3];
      boolean ours = false;
      for (AccumulableInfo a : scala.jdk.javaapi.CollectionConverters.asJava(t._4())) {
        int i = index(a.id());
        if (i >= 0 && a.update().isDefined() && a.update().get() instanceof Number n) {
          v[i] = n.longValue();
          ours = true;
        }
      }
      if (ours && !ended.contains(task)) {
        running.put(task, v);
      }
    }
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    // The accumulators now hold the task's counts.
    ended.add(end.taskInfo().taskId());
    running.remove(end.taskInfo().taskId());
  }

  private int index(long id) {
    return id == urls.id() ? 0 : id == successes.id() ? 1 : id == bytes.id() ? 2 : -1;
  }

  /** One progress line. */
  String line() {
    double s = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
    long[] live = new long[3];
    for (long[] v : running.values()) {
      for (int i = 0; i < 3; i++) {
        live[i] += v[i];
      }
    }
    long n = urls.value() + live[0];
    long ok = successes.value() + live[1];
    long b = bytes.value() + live[2];
    return String.format(
        Locale.ROOT,
        "download: %d URLs (%.1f/s), success %.1f %%, %.1f MB (%.2f MB/s), %.0f s",
        n,
        n / s,
        n == 0 ? 0.0 : 100.0 * ok / n,
        b / 1e6,
        b / 1e6 / s,
        s);
  }

  private void print() {
    out.println(line());
  }

  @Override
  public void close() {
    if (timer != null) {
      sc.removeSparkListener(this);
      timer.shutdownNow();
      running.clear();
      out.println(line());
    }
  }
}
