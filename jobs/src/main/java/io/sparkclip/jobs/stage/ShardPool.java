package io.sparkclip.jobs.stage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs the shards of a resumable stage (embed, download) as concurrent Spark jobs, one driver
 * thread each, so that a stage of many small shards keeps every core busy. Results come back in
 * submission order; the first failure is rethrown as it was thrown (a {@code SparkclipException}
 * keeps its id), and the other shards' threads are interrupted.
 */
public final class ShardPool {
  private ShardPool() {}

  /** The work of one shard. */
  public interface ShardWork<T> {
    T run() throws IOException;
  }

  /** Shards run at once: {@code configured}, or the default parallelism when it is 0. */
  public static int parallelism(org.apache.spark.sql.SparkSession spark, int configured) {
    return configured > 0 ? configured : Math.max(1, spark.sparkContext().defaultParallelism());
  }

  public static <T> List<T> run(List<ShardWork<T>> shards, int parallel, String what) {
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.min(Math.max(1, parallel), Math.max(1, shards.size())));
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (ShardWork<T> s : shards) {
        Callable<T> c = s::run;
        futures.add(pool.submit(c));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException r) {
        throw r;
      }
      if (c instanceof IOException io) {
        throw new UncheckedIOException(io);
      }
      throw new IllegalStateException(what + " failed", c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      pool.shutdownNow();
    }
  }
}
