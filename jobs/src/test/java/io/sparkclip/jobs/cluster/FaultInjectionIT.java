package io.sparkclip.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures on a real standalone cluster while {@code embed} or {@code dedup} runs (README, "Failure
 * guarantees"):
 *
 * <ul>
 *   <li>an executor JVM killed with SIGKILL mid-run: the job still completes, and every input uid
 *       is in the output exactly once (task retries never double-write);
 *   <li>the driver killed with SIGKILL after some shards committed: re-running the same command
 *       skips the committed shards, embeds the rest, leaves no duplicates, and gives the complete
 *       run's statuses and embeddings row by row;
 *   <li>an executor killed while dedup's candidate-pair job reads its shuffled keys: dedup
 *       completes with every input uid kept or rejected exactly once; the driver killed there and
 *       the command re-run with {@code --overwrite}: the same decisions.
 * </ul>
 *
 * Timings (the executor-kill run, the re-run after the driver kill) go to {@code
 * target/fault-injection.txt}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionIT {
  private static final int SHARDS = 12;
  private static final int ROWS_PER_SHARD = 100;
  private static final int ROWS = SHARDS * ROWS_PER_SHARD;
  private static final Duration RUN_LIMIT = Duration.ofMinutes(8);

  @TempDir static Path tmp;
  private static StandaloneCluster cluster;
  private static SparkSession spark;
  private static String raw;

  @BeforeAll
  static void start() throws Exception {
    cluster = new StandaloneCluster(tmp).start(1, 2, "3g");
    spark = LocalSpark.start("FaultInjectionIT");
    raw = tmp.resolve("raw").toString();
    assertThat(
            SparkclipCli.execute(
                "generate", "--rows", "" + ROWS, "--shard-size", "" + ROWS_PER_SHARD, "--out", raw))
        .as("generate exit code")
        .isZero();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static List<String> embed(String out) {
    // Small batches and two concurrent shards: the run lasts long enough to be interrupted.
    return List.of(
        "embed",
        raw,
        "--model",
        TestModels.DEMO,
        "--out",
        out,
        "--batch-size",
        "4",
        "--concurrent-shards",
        "2");
  }

  private static StandaloneCluster.Running submit(List<String> args) throws IOException {
    return cluster.submitAsync(
        StandaloneCluster.required("sparkclip.jar"),
        "io.sparkclip.jobs.SparkclipCli",
        List.of("spark.executor.memory=1g", "spark.cores.max=2"),
        args);
  }

  private static int committed(String out) throws IOException {
    Path dir = Path.of(out, StageFiles.EMBED_COMMITTED_DIR);
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return (int) s.filter(p -> !p.getFileName().toString().startsWith(".")).count();
    }
  }

  /** Polls the commit markers until {@code ready} holds; fails if the driver ends first. */
  private static int awaitCommitted(StandaloneCluster.Running run, String out, IntPredicate ready)
      throws Exception {
    long deadline = System.nanoTime() + RUN_LIMIT.toNanos();
    while (System.nanoTime() < deadline) {
      int n = committed(out);
      if (ready.test(n)) {
        return n;
      }
      if (!run.driver().isAlive()) {
        throw new AssertionError(
            "embed ended before the fault could be injected ("
                + n
                + " shards committed); log:\n"
                + cluster.log(run.name()));
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no shard committed in " + RUN_LIMIT + "\n" + cluster.log(run.name()));
  }

  /**
   * Every input row exactly once in the output (as a multiset of uids: the generator injects exact
   * duplicates, which share a uid), and no staging leftovers.
   */
  private static void assertExactlyOnce(String out, String what) {
    Dataset<Row> input = spark.read().option("pathGlobFilter", "*.parquet").parquet(raw);
    Dataset<Row> in =
        Pairs.prepare(input, LayoutDetector.detect(input.schema())).select(Columns.UID);
    Dataset<Row> got = spark.read().parquet(out + "/data").select(Columns.UID);
    assertThat(got.count()).as(what + ": output rows").isEqualTo(ROWS);
    assertThat(got.exceptAll(in).count())
        .as(what + ": output rows beyond the input's (duplicates written by a retried task)")
        .isZero();
    assertThat(in.exceptAll(got).count())
        .as(what + ": input rows missing from the output")
        .isZero();
    assertThat(Files.exists(Path.of(out, StageFiles.EMBED_STAGING_DIR)))
        .as(what + ": staging directory removed")
        .isFalse();
  }

  /** Shards of the generated input that the dedup runs read (a third: the runs stay short). */
  private static final int DEDUP_SHARDS = 4;

  private static String dedupInput;

  /** A folder holding copies of the first {@value #DEDUP_SHARDS} generated shards. */
  private static String dedupInput() throws IOException {
    if (dedupInput == null) {
      Path dir = tmp.resolve("dedup-input");
      Files.createDirectories(dir);
      try (Stream<Path> s = Files.list(Path.of(raw))) {
        for (Path shard :
            s.filter(p -> p.getFileName().toString().endsWith(".parquet"))
                .sorted()
                .limit(DEDUP_SHARDS)
                .toList()) {
          Files.copy(shard, dir.resolve(shard.getFileName()));
        }
      }
      dedupInput = dir.toString();
    }
    return dedupInput;
  }

  private static List<String> dedup(String out, boolean overwrite) throws IOException {
    List<String> a = new ArrayList<>(List.of("dedup", dedupInput(), "--out", out));
    if (overwrite) {
      a.add("--overwrite");
    }
    return a;
  }

  /** Waits until the driver's progress shows a job of {@code step}; fails if it ends first. */
  private static void awaitStep(StandaloneCluster.Running run, String step) throws Exception {
    long deadline = System.nanoTime() + RUN_LIMIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (cluster.log(run.name()).contains(step)) {
        return;
      }
      if (!run.driver().isAlive()) {
        throw new AssertionError(
            "ended before '" + step + "' could be interrupted; log:\n" + cluster.log(run.name()));
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no '" + step + "' in " + RUN_LIMIT);
  }

  /** The dedup step whose job reads the shuffled candidate keys. */
  private static final String DEDUP_SHUFFLE_STEP = "dedup / image candidate pairs";

  @Test
  @Order(3)
  void executorKilledMidDedupShuffleAndDriverKilledThenOverwriteGiveOneOutput() throws Exception {
    Dataset<Row> input = spark.read().parquet(dedupInput());
    Dataset<Row> pairs = Pairs.prepare(input, LayoutDetector.detect(input.schema()));

    String afterExecutorKill = tmp.resolve("dedup-executor-kill").toString();
    long t0 = System.nanoTime();
    StandaloneCluster.Running run = submit(dedup(afterExecutorKill, false));
    awaitStep(run, DEDUP_SHUFFLE_STEP);
    List<ProcessHandle> executors = cluster.executors();
    assertThat(executors).as("executor JVMs running mid-dedup").isNotEmpty();
    executors.forEach(ProcessHandle::destroyForcibly); // SIGKILL
    StandaloneCluster.Submitted r = cluster.await(run, RUN_LIMIT);
    double executorKillSeconds = (System.nanoTime() - t0) / 1e9;
    assertThat(r.exitCode()).as("dedup after an executor kill; log:\n" + r.output()).isZero();
    assertThat(r.output())
        .as("the driver saw the executor die mid-dedup")
        .containsPattern("(?i)lost (executor|task)|executor .* removed|ExecutorLostFailure");
    CurationChecks.assertUidsAccounted(
        spark, "dedup after an executor kill", pairs, afterExecutorKill);

    String afterDriverKill = tmp.resolve("dedup-driver-kill").toString();
    StandaloneCluster.Running killed = submit(dedup(afterDriverKill, false));
    awaitStep(killed, DEDUP_SHUFFLE_STEP);
    killed.driver().destroyForcibly(); // SIGKILL of the client-mode driver JVM
    killed.driver().waitFor();
    long t1 = System.nanoTime();
    StandaloneCluster.Submitted again =
        cluster.await(submit(dedup(afterDriverKill, true)), RUN_LIMIT);
    double rerunSeconds = (System.nanoTime() - t1) / 1e9;
    assertThat(again.exitCode())
        .as("dedup --overwrite after a driver kill; log:\n" + again.output())
        .isZero();
    CurationChecks.assertUidsAccounted(
        spark, "dedup re-run with --overwrite", pairs, afterDriverKill);
    assertThat(CurationChecks.decisions(spark, afterDriverKill, true))
        .as(
            "the re-run's kept rows and rejects (reason, related uid) equal the executor-kill run's")
        .isEqualTo(CurationChecks.decisions(spark, afterExecutorKill, true));
    record(
        String.format(
            Locale.ROOT,
            "dedup: executor SIGKILL at '%s': completed in %.1f s, every uid once; driver SIGKILL"
                + " there, then --overwrite: %.1f s, same decisions",
            DEDUP_SHUFFLE_STEP,
            executorKillSeconds,
            rerunSeconds));
  }

  /**
   * The resumed output has the reference's uids and statuses and, row by row, its embeddings (same
   * shards, batches and model; the bound only absorbs float noise across executor JVMs).
   */
  private static void assertSameEmbeddings(String out, String reference) {
    // Exact duplicates share a uid and their bytes, hence their embeddings: one entry each.
    Map<String, Row> ref = new HashMap<>();
    List<Row> refRows = embeddings(reference);
    for (Row r : refRows) {
      ref.put(r.getString(0), r);
    }
    List<Row> got = embeddings(out);
    assertThat(got).as("resumed rows").hasSameSizeAs(refRows);
    int compared = 0;
    for (Row r : got) {
      String uid = r.getString(0);
      Row e = ref.get(uid);
      assertThat(e).as("uid %s in the reference", uid).isNotNull();
      assertThat(r.getString(1)).as("status of %s", uid).isEqualTo(e.getString(1));
      for (int c = 2; c <= 3; c++) {
        assertThat(r.isNullAt(c))
            .as("embedding %d of %s present as in the reference", c, uid)
            .isEqualTo(e.isNullAt(c));
        if (!r.isNullAt(c)) {
          List<Float> a = r.getList(c);
          List<Float> b = e.getList(c);
          assertThat(a).as("embedding width of %s", uid).hasSameSizeAs(b);
          for (int i = 0; i < a.size(); i++) {
            assertThat(Math.abs(a.get(i) - b.get(i)))
                .as("embedding %d of %s, element %d: resumed vs reference", c, uid, i)
                .isLessThanOrEqualTo(1e-6f);
          }
          compared++;
        }
      }
    }
    assertThat(compared).as("embeddings compared").isGreaterThan(ROWS);
  }

  /** uid, status, image and text embedding of every output row (1,800 small rows). */
  private static List<Row> embeddings(String out) {
    return spark
        .read()
        .parquet(out + "/data")
        .select(Columns.UID, Columns.EMBED_STATUS, Columns.IMAGE_EMBEDDING, Columns.TEXT_EMBEDDING)
        .collectAsList();
  }

  private static void record(String line) throws IOException {
    Path f =
        Path.of(StandaloneCluster.required("sparkclip.jar")).resolveSibling("fault-injection.txt");
    Files.writeString(
        f, line + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    System.out.println("[fault-injection] " + line);
  }

  /**
   * A complete run's output, the reference the driver-kill re-run must reproduce: the executor-kill
   * run's when that test ran first (a retried task must not change results either), else an
   * uninterrupted run made for the purpose.
   */
  private static String complete;

  @Test
  @Order(1)
  void executorKilledMidEmbedLosesAndDuplicatesNothing() throws Exception {
    String out = tmp.resolve("emb-executor-kill").toString();
    long t0 = System.nanoTime();
    StandaloneCluster.Running run = submit(embed(out));
    int atKill = awaitCommitted(run, out, n -> n >= 1);
    List<ProcessHandle> executors = cluster.executors();
    assertThat(executors).as("executor JVMs running mid-embed").isNotEmpty();
    for (ProcessHandle e : executors) {
      e.destroyForcibly(); // SIGKILL
    }
    StandaloneCluster.Submitted r = cluster.await(run, RUN_LIMIT);
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(r.exitCode()).as("embed after an executor kill; log:\n" + r.output()).isZero();
    assertThat(atKill).as("shards committed when the executor was killed").isLessThan(SHARDS);
    assertThat(r.output())
        .as("the driver saw the executor die and re-ran its tasks")
        .containsPattern("(?i)lost (executor|task)|executor .* removed|ExecutorLostFailure");
    assertThat(executorDirs(out)).as("the worker started a replacement executor").isGreaterThan(1);
    assertExactlyOnce(out, "after an executor kill");
    complete = out;
    record(
        String.format(
            Locale.ROOT,
            "executor SIGKILL after %d/%d shards committed: embed of %d pairs completed in %.1f s,"
                + " every uid once",
            atKill,
            SHARDS,
            ROWS,
            seconds));
  }

  /** Executor directories the worker made for the newest application. */
  private static long executorDirs(String out) throws IOException {
    List<Path> apps;
    try (Stream<Path> s = Files.list(cluster.workDir())) {
      apps = new ArrayList<>(s.filter(p -> p.getFileName().toString().startsWith("app-")).toList());
    }
    apps.sort(null);
    try (Stream<Path> s = Files.list(apps.get(apps.size() - 1))) {
      return s.filter(Files::isDirectory).count();
    }
  }

  @Test
  @Order(2)
  void rerunAfterADriverKillSkipsCommittedShardsWithoutDuplicates() throws Exception {
    if (complete == null) {
      String full = tmp.resolve("emb-full").toString();
      StandaloneCluster.Submitted ref = cluster.await(submit(embed(full)), RUN_LIMIT);
      assertThat(ref.exitCode()).as("uninterrupted embed; log:\n" + ref.output()).isZero();
      assertExactlyOnce(full, "uninterrupted run");
      complete = full;
    }
    String out = tmp.resolve("emb-driver-kill").toString();
    long t0 = System.nanoTime();
    StandaloneCluster.Running run = submit(embed(out));
    int atKill = awaitCommitted(run, out, n -> n >= SHARDS / 2);
    run.driver().destroyForcibly(); // SIGKILL of the client-mode driver JVM
    run.driver().waitFor();
    double killedSeconds = (System.nanoTime() - t0) / 1e9;
    int committedAfterKill = committed(out);
    assertThat(committedAfterKill).as("shards committed when the driver died").isLessThan(SHARDS);

    long t1 = System.nanoTime();
    StandaloneCluster.Submitted again = cluster.await(submit(embed(out)), RUN_LIMIT);
    double rerunSeconds = (System.nanoTime() - t1) / 1e9;
    assertThat(again.exitCode()).as("re-run after a driver kill; log:\n" + again.output()).isZero();
    JsonNode embed = new ObjectMapper().readTree(Path.of(out, "_embed_run.json").toFile());
    assertThat(embed.path("shards_skipped").asInt())
        .as("committed shards skipped by the re-run; run summary " + embed)
        .isEqualTo(committedAfterKill);
    assertThat(embed.path("shards_embedded").asInt())
        .as("the re-run embeds only the rest")
        .isEqualTo(SHARDS - committedAfterKill);
    assertThat(again.output()).as("the re-run says what it skipped").contains("already committed");
    assertExactlyOnce(out, "after a driver kill and a re-run");
    assertSameEmbeddings(out, complete);
    record(
        String.format(
            Locale.ROOT,
            "driver SIGKILL after %d/%d shards committed (%d at exit, %.1f s in): re-run %.1f s"
                + " (job-reported shard time saved %.1f s)",
            atKill,
            SHARDS,
            committedAfterKill,
            killedSeconds,
            rerunSeconds,
            embed.path("seconds_saved_by_skipping").asDouble()));
  }
}
