package io.sparkclip.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.schemas.Columns;
import io.sparkclip.udfs.session.SessionCache;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code embed} on a GPU executor of the standalone cluster, scheduled through Spark's resource
 * scheduling: the worker discovers GPUs with {@code conf/getGpusResources.sh}, the executor holds
 * one GPU, and two tasks share it ({@code spark.task.resource.gpu.amount=0.5}) and its one ONNX
 * session per tower. The GPU run passes {@code --device auto}, so the device comes from the GPU
 * address Spark assigned each task; {@code --device cuda} would open cuda:0 whatever Spark did.
 *
 * <p>Skipped (reported as skipped) unless this machine has an NVIDIA GPU ({@code nvidia-smi -L})
 * and the build is the GPU one ({@code mvn -Pgpu}: ONNX Runtime's CUDA execution provider).
 */
class GpuEmbedIT {
  private static final int ROWS = 600;
  @TempDir static Path tmp;
  private static StandaloneCluster cluster;
  private static SparkSession spark;
  private static String raw;

  static boolean nvidiaGpu() {
    try {
      Process p = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 && out.contains("GPU 0");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Set to 1 where a GPU is required: the test then fails instead of skipping. */
  static final String REQUIRE_GPU_ENV = "SPARKCLIP_REQUIRE_GPU";

  /** Why the test cannot run here, or null when it can. */
  private static String skipReason;

  @BeforeAll
  static void start() throws Exception {
    if (!nvidiaGpu()) {
      skipReason = "no NVIDIA GPU on this machine (nvidia-smi -L)";
    } else if (!SessionCache.cudaProviderAvailable()) {
      skipReason = "ONNX Runtime has no CUDA execution provider: build with mvn -Pgpu";
    }
    if (skipReason != null) {
      // On a machine that is meant to test the GPU path a skip would pass silently.
      assertThat(System.getenv(REQUIRE_GPU_ENV))
          .as("%s=1 says this run must exercise the GPU, but %s", REQUIRE_GPU_ENV, skipReason)
          .isNotEqualTo("1");
      return;
    }
    String discovery =
        Path.of(StandaloneCluster.required("sparkclip.root"), "conf", "getGpusResources.sh")
            .toString();
    cluster =
        new StandaloneCluster(tmp)
            .start(
                1,
                2,
                "6g",
                List.of(
                    "spark.worker.resource.gpu.amount=1",
                    "spark.worker.resource.gpu.discoveryScript=" + discovery));
    spark = LocalSpark.start("GpuEmbedIT");
    raw = tmp.resolve("raw").toString();
    assertThat(
            SparkclipCli.execute(
                "generate", "--rows", "" + ROWS, "--shard-size", "300", "--out", raw))
        .as("generate exit code")
        .isZero();
  }

  /** Per test, so that surefire reports each test as skipped rather than the class as empty. */
  @BeforeEach
  void requireGpu() {
    assumeTrue(skipReason == null, () -> "skipped: " + skipReason);
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

  private static double embed(String out, String device, List<String> conf) throws Exception {
    long t0 = System.nanoTime();
    StandaloneCluster.Submitted r =
        cluster.submit(
            StandaloneCluster.required("sparkclip.jar"),
            "io.sparkclip.jobs.SparkclipCli",
            conf,
            List.of(
                "embed",
                raw,
                "--model",
                TestModels.DEMO,
                "--out",
                out,
                "--device",
                device,
                "--batch-size",
                "64"),
            Duration.ofMinutes(8));
    assertThat(r.exitCode()).as("embed --device " + device + "; log:\n" + r.output()).isZero();
    return (System.nanoTime() - t0) / 1e9;
  }

  @Test
  void embedOnTheTasksGpuMatchesCpuAndSharesOneSessionPerTower() throws Exception {
    String cpu = tmp.resolve("cpu").toString();
    double cpuSeconds = embed(cpu, "cpu", List.of("spark.executor.memory=2g", "spark.cores.max=2"));
    String gpu = tmp.resolve("gpu").toString();
    double gpuSeconds =
        embed(
            gpu,
            "auto",
            List.of(
                "spark.executor.memory=2g",
                "spark.cores.max=2",
                "spark.executor.cores=2",
                "spark.executor.resource.gpu.amount=1",
                "spark.task.resource.gpu.amount=0.5"));

    Map<String, Row> ref = new HashMap<>();
    for (Row r : spark.read().parquet(cpu + "/data").collectAsList()) {
      ref.put(r.getString(r.fieldIndex(Columns.UID)), r);
    }
    List<Row> rows = spark.read().parquet(gpu + "/data").collectAsList();
    assertThat(rows).as("rows embedded on the GPU").hasSize(ROWS);
    double worst = 1;
    for (Row r : rows) {
      Row c = ref.get(r.getString(r.fieldIndex(Columns.UID)));
      assertThat(r.getString(r.fieldIndex(Columns.EMBED_STATUS)))
          .as("status on GPU equals status on CPU")
          .isEqualTo(c.getString(c.fieldIndex(Columns.EMBED_STATUS)));
      for (String col : List.of(Columns.IMAGE_EMBEDDING, Columns.TEXT_EMBEDDING)) {
        if (!r.isNullAt(r.fieldIndex(col))) {
          worst =
              Math.min(worst, cosine(r.getList(r.fieldIndex(col)), c.getList(c.fieldIndex(col))));
        }
      }
    }
    assertThat(worst).as("worst cosine, CUDA vs CPU embedding").isGreaterThan(0.999);

    String executorLog = executorLogs();
    long cudaSessions =
        executorLog
            .lines()
            .filter(l -> l.contains("Opened OnnxTower{") && l.contains("cuda:0"))
            .count();
    assertThat(cudaSessions)
        .as("one CUDA session per tower (visual, textual) on the task's GPU 0, shared by its tasks")
        .isEqualTo(2);
    assertThat(executorLog)
        .as("auto did not fall back to the CPU")
        .doesNotContain("device=auto: this task holds GPU");
    Path f = Path.of(StandaloneCluster.required("sparkclip.jar")).resolveSibling("gpu-embed.txt");
    Files.writeString(
        f,
        String.format(
            Locale.ROOT,
            "embed of %d pairs (demo model, batch 64): CPU 2 cores %.1f s, CUDA %.1f s (incl. job"
                + " start-up); worst cosine %.6f%n",
            ROWS,
            cpuSeconds,
            gpuSeconds,
            worst),
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  private static double cosine(List<Float> a, List<Float> b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.size(); i++) {
      dot += a.get(i) * b.get(i);
      na += a.get(i) * a.get(i);
      nb += b.get(i) * b.get(i);
    }
    return dot / Math.sqrt(na * nb);
  }

  /** stderr of the newest application's executors. */
  private static String executorLogs() throws IOException {
    Path newest;
    try (Stream<Path> apps = Files.list(cluster.workDir())) {
      newest =
          apps.filter(p -> p.getFileName().toString().startsWith("app-"))
              .max(Path::compareTo)
              .orElseThrow();
    }
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.walk(newest)) {
      for (Path p : files.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
        sb.append(Files.readString(p, StandardCharsets.UTF_8));
      }
    }
    return sb.toString();
  }
}
