package io.sparkclip.jobs.download;

import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.ShardCommitLog;
import io.sparkclip.jobs.stage.ShardPool;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sparkclip download}: the images of URL + caption metadata, fetched on the executors, as
 * img2dataset's Parquet layout (which every sparkclip stage reads).
 *
 * <p>Resumable shard by shard with {@link ShardCommitLog}, as embed: every metadata file is one
 * shard, written by its own Spark job to {@code _staging/<shard>} and committed by a marker; a
 * re-run downloads only shards without one. {@code --retry-failed} redoes committed shards that
 * hold transient failures: their rows are read back, the transient ones fetched again, and the
 * whole shard committed as a new generation that replaces the old one (the marker decides which
 * generation's files are the shard's, so a crash mid-replace leaves exactly one).
 *
 * <p>Every input row is one output row: fetched ({@code success}) or with the status and reason it
 * failed ({@code failed_to_download}, {@code failed_to_resize}, {@code opted_out}).
 */
public final class DownloadJob {
  private static final Logger LOG = LoggerFactory.getLogger(DownloadJob.class);

  /** The resume manifest: options that change the images a shard holds. */
  static final String MANIFEST = StageFiles.DOWNLOAD_MANIFEST_FILE;

  /** Seconds between progress lines. */
  static final long PROGRESS_SECONDS = 10;

  /** What a run did. */
  public record Result(
      int shards, int skipped, int downloaded, int retried, long rowsFetched, double seconds) {}

  private final SparkSession spark;
  private final DownloadOptions options;
  private final PrintStream console;

  public DownloadJob(SparkSession spark, DownloadOptions options, PrintStream console) {
    this.spark = spark;
    this.options = options.validate();
    this.console = console;
  }

  public Result run() {
    long start = System.nanoTime();
    String input = options.input();
    FileSystem inFs = Paths.fs(spark, input);
    Map<String, Path> shards = MetadataInput.list(inFs, new Path(input));
    // Fail fast on the first file's schema (no url column) before any fetch.
    Path first = shards.values().iterator().next();
    MetadataInput.roles(
        MetadataInput.read(spark, first).schema(), options.mapping(), first.toString());

    FileSystem outFs = Paths.fs(spark, options.out());
    ShardCommitLog log = new ShardCommitLog(outFs, new Path(options.out()), MANIFEST);
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put(DownloadOptions.RESIZE_MODE, options.mode().label());
    if (options.mode() != ResizeMode.NO) {
      manifest.put(DownloadOptions.IMAGE_SIZE, options.imageSize());
      manifest.put(DownloadOptions.ENCODE_QUALITY, options.encodeQuality());
      manifest.put(DownloadOptions.RESIZE_ONLY_IF_BIGGER, options.resizeOnlyIfBigger());
    }
    log.open(options.overwrite(), manifest);
    ShardCommitLog.Pending p = log.pending(shards, inFs);
    List<String> retry = new ArrayList<>();
    if (options.retryFailed()) {
      for (String name : shards.keySet()) {
        if (!p.shards().contains(name) && DownloadReport.transientRows(marker(log, name)) > 0) {
          retry.add(name);
        }
      }
    }
    Map<String, Integer> numbers = shardNumbers(outFs, new Path(options.out()), shards.keySet());
    LOG.info(
        "downloading {} shards ({} committed already, {} to retry)",
        p.shards().size(),
        p.skipped(),
        retry.size());

    long fetched = 0;
    try (DownloadProgress progress =
        new DownloadProgress(spark.sparkContext(), console, PROGRESS_SECONDS)) {
      ShardDownload shard = new ShardDownload(spark, options, progress);
      List<ShardPool.ShardWork<Long>> work = new ArrayList<>();
      for (String name : p.shards()) {
        Path file = shards.get(name);
        int ordinal = numbers.get(name);
        work.add(
            () ->
                commit(
                    log,
                    name,
                    file,
                    inFs,
                    tmp -> {
                      shard.download(name, file, ordinal, tmp);
                      return -1L;
                    }));
      }
      for (String name : retry) {
        Path file = shards.get(name);
        List<Path> committed = log.dataFiles(name);
        work.add(() -> commit(log, name, file, inFs, tmp -> shard.retry(name, committed, tmp)));
      }
      for (long n :
          ShardPool.run(
              work,
              ShardPool.parallelism(spark, options.concurrentShards()),
              "downloading a shard")) {
        fetched += n;
      }
      outFs.delete(log.staging, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Result r =
        new Result(shards.size(), p.skipped(), p.shards().size(), retry.size(), fetched, seconds);
    LOG.info("download done: {}", r);
    return r;
  }

  /** Work that writes one shard to a staging folder and returns the rows it fetched (or -1). */
  private interface StagedWrite {
    long write(Path staging) throws IOException;
  }

  /** Runs {@code work} for one shard and commits what it wrote; returns the rows it fetched. */
  private long commit(
      ShardCommitLog log, String name, Path source, FileSystem inFs, StagedWrite work)
      throws IOException {
    long t0 = System.nanoTime();
    Path tmp = new Path(log.staging, name);
    long fetched = work.write(tmp);
    if (fetched == 0) {
      // Nothing to fetch again: the committed shard stays as it is.
      Paths.fs(spark, tmp.toString()).delete(tmp, true);
      return 0;
    }
    DownloadReport.ShardCounts counts = DownloadReport.countShard(spark, tmp, name);
    log.commit(name, tmp, source, inFs, counts.marker(), (System.nanoTime() - t0) / 1e9);
    LOG.info("committed shard {} ({})", name, counts.marker());
    return fetched < 0 ? counts.rows() : fetched;
  }

  /** File of the shard numbers keys are made of (they must not change when shards are added). */
  static final String SHARD_NUMBERS = "_shard_numbers.json";

  /**
   * The number of every shard, kept across runs: a shard keeps the number it was first given, and
   * shards new to the input get numbers after the highest, in name order. So a folder that gains a
   * file between a crash and the re-run never gives two shards the same keys.
   */
  static Map<String, Integer> shardNumbers(FileSystem fs, Path out, java.util.Set<String> names) {
    Path file = new Path(out, SHARD_NUMBERS);
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    Map<String, Integer> numbers = new java.util.TreeMap<>();
    try {
      if (fs.exists(file)) {
        try (java.io.InputStream in = fs.open(file)) {
          Map<?, ?> m = json.readValue(in, Map.class);
          m.forEach((k, v) -> numbers.put(String.valueOf(k), ((Number) v).intValue()));
        }
      }
      int next = numbers.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
      boolean added = false;
      for (String n : new java.util.TreeSet<>(names)) {
        if (!numbers.containsKey(n)) {
          numbers.put(n, next++);
          added = true;
        }
      }
      if (added) {
        Path tmp = new Path(out, "." + SHARD_NUMBERS + ".tmp");
        try (var o = fs.create(tmp, true)) {
          o.write(json.writerWithDefaultPrettyPrinter().writeValueAsBytes(numbers));
        }
        fs.delete(file, false);
        if (!fs.rename(tmp, file)) {
          throw new IOException("could not move " + tmp + " to " + file);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return numbers;
  }

  private static Map<?, ?> marker(ShardCommitLog log, String name) {
    try {
      return log.marker(name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
