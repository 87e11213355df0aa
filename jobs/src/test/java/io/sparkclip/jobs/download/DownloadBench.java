package io.sparkclip.jobs.download;

import io.sparkclip.jobs.stage.StageConf;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.SparkSession;

/**
 * Download throughput against a loopback server with a fixed latency per response (bench/README.md,
 * bench/download.sh). Two JVMs, so that the server's threads and buffers are not counted in the
 * downloader's heap:
 *
 * <pre>
 *   DownloadBench serve LATENCY_MS URLS PORT_FILE      # the server: URLS paths /i/N.jpg
 *   DownloadBench run BASE_URL URLS IN_FLIGHT TASKS OUT
 * </pre>
 *
 * <p>{@code run} downloads URLS rows in TASKS tasks of IN_FLIGHT requests each (local[2]) and
 * prints images/s and the heap: the largest heap in use when sampled every 20 ms, the heap live
 * after the last collection during the run, and what is retained after the run.
 */
public final class DownloadBench {
  private DownloadBench() {}

  /** Distinct images served (the paths cycle through them). */
  static final int DISTINCT = 256;

  public static void main(String[] a) throws Exception {
    if (a.length == 4 && a[0].equals("serve")) {
      serve(Integer.parseInt(a[1]), Integer.parseInt(a[2]), Path.of(a[3]));
    } else if (a.length == 6 && a[0].equals("run")) {
      run(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]), a[5]);
    } else {
      System.err.println(
          "usage: DownloadBench serve LATENCY_MS URLS PORT_FILE"
              + " | run BASE_URL URLS IN_FLIGHT TASKS OUT");
      System.exit(2);
    }
  }

  private static void serve(int latency, int urls, Path portFile) throws Exception {
    LocalImageServer server = LocalImageServer.start(latency);
    byte[][] images = new byte[DISTINCT][];
    for (int i = 0; i < DISTINCT; i++) {
      images[i] = LocalImageServer.jpeg(128, 96, i);
    }
    for (int i = 0; i < urls; i++) {
      server.image("/i/" + i + ".jpg", images[i % DISTINCT], "image/jpeg");
    }
    Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
    Files.writeString(tmp, Integer.toString(server.port()));
    Files.move(tmp, portFile);
    System.out.println(
        "serving " + urls + " URLs on port " + server.port() + ", " + latency + " ms");
    Thread.currentThread().join();
  }

  private static void run(String base, int urls, int inFlight, int tasks, String out)
      throws Exception {
    Path meta = metadata(base, urls);
    Path warm = metadata(base, Math.max(1, urls / 10));
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("DownloadBench")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate();
    StageConf c =
        StageConf.io(meta.toString(), out)
            .with(DownloadOptions.ALLOW_PRIVATE_ADDRESSES, true)
            .with(DownloadOptions.REQUESTS_IN_FLIGHT, inFlight)
            .with(DownloadOptions.PER_HOST_REQUESTS, inFlight)
            .with(DownloadOptions.ROWS_PER_TASK, (urls + tasks - 1) / tasks)
            .with(io.sparkclip.jobs.stage.StageKeys.OVERWRITE, true);
    DownloadStage stage = new DownloadStage();
    DownloadOptions o = stage.options(c);
    // Warm-up: JIT, the HTTP client and Spark's first jobs (a tenth of the URLs, not timed).
    stage.run(
        spark,
        stage.options(
            c.with(io.sparkclip.jobs.stage.StageKeys.INPUT, warm.toString())
                .with(io.sparkclip.jobs.stage.StageKeys.OUT, out + "-warm")));
    System.gc();
    AtomicLong peak = new AtomicLong();
    Thread sampler =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    sampler.setDaemon(true);
    resetPeaks();
    sampler.start();
    long t0 = System.nanoTime();
    var summary = stage.run(spark, o);
    double seconds = (System.nanoTime() - t0) / 1e9;
    sampler.interrupt();
    long afterGc = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getCollectionUsage() != null) {
        afterGc += p.getCollectionUsage().getUsed();
      }
    }
    System.gc();
    long retained = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    @SuppressWarnings("unchecked")
    Map<String, Long> status = (Map<String, Long>) summary.details().get(DownloadReport.STATUS);
    double rate = urls / seconds;
    System.out.println(
        String.format(
            Locale.ROOT,
            "result: urls=%d in_flight=%d tasks=%d seconds=%.2f images_per_s=%.1f success=%d"
                + " peak_heap_mb=%.0f last_gc_live_mb=%.0f retained_mb=%.0f max_heap_mb=%.0f",
            urls,
            inFlight,
            tasks,
            seconds,
            rate,
            status.getOrDefault("success", 0L),
            peak.get() / 1048576.0,
            afterGc / 1048576.0,
            retained / 1048576.0,
            Runtime.getRuntime().maxMemory() / 1048576.0));
    spark.stop();
    for (Path dir : new Path[] {meta, warm}) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static Path metadata(String base, int urls) throws java.io.IOException {
    Path meta = Files.createTempDirectory("sparkclip-download-bench");
    StringBuilder s = new StringBuilder("url\tcaption\n");
    for (int i = 0; i < urls; i++) {
      s.append(base).append("/i/").append(i).append(".jpg\tbench image ").append(i).append('\n');
    }
    Files.writeString(meta.resolve("urls.tsv"), s.toString());
    return meta;
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      p.resetPeakUsage();
    }
  }
}
