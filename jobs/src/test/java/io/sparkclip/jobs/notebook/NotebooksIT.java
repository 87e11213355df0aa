package io.sparkclip.jobs.notebook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.demo.DemoJob;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every notebook in notebooks/ headless (jupyter nbconvert --execute, Java kernel installed by
 * notebooks/install-kernel.sh) against freshly generated demo output, fails on any error cell and
 * checks each notebook's key outputs.
 */
class NotebooksIT {
  @TempDir static Path tmp;
  static Path root;
  static Path jupyter;
  static Path demo;

  @BeforeAll
  static void setUp() throws Exception {
    root = Path.of(System.getProperty("sparkclip.root"));
    boolean hasJupyter =
        new ProcessBuilder(
                    "sh", "-c", "command -v jupyter && /usr/bin/python3 -c 'import nbconvert'")
                .start()
                .waitFor()
            == 0;
    Assumptions.assumeTrue(
        hasJupyter, "jupyter-nbconvert is not installed: run tools/setup-test-env.sh");
    jupyter = tmp.resolve("jupyter");
    Process install =
        new ProcessBuilder(
                root.resolve("notebooks/install-kernel.sh").toString(),
                "--prefix",
                jupyter.toString())
            .redirectErrorStream(true)
            .start();
    String log = new String(install.getInputStream().readAllBytes());
    assertThat(install.waitFor()).as("install-kernel.sh; log:\n" + log).isZero();

    demo = tmp.resolve("demo");
    SparkSession spark = LocalSpark.start("NotebooksIT");
    try {
      new DemoJob(
              spark, new DemoJob.Options(demo.toString(), 800, 42, TestModels.DEMO, 40, null, true))
          .run(System.out);
    } finally {
      spark.stop();
    }
  }

  static Stream<String> notebooks() throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("sparkclip.root"), "notebooks"))) {
      return s
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".ipynb"))
          .sorted()
          .toList()
          .stream();
    }
  }

  /** Logs of every nbconvert run, kept after the test for CI artifacts and post-mortems. */
  static final Path LOGS = Path.of("target", "notebooks-it");

  /**
   * The part of an nbconvert log worth showing in a failure: its error lines first (so that a
   * truncated report still shows them), then the last 80 lines, all without the kernel's
   * one-line-per-jar classpath echo (hundreds of lines).
   */
  static String essential(String log) {
    List<String> lines =
        log.lines()
            .filter(l -> !l.startsWith("Parsing classpath: ") && !l.endsWith(" to classpath"))
            .toList();
    List<String> errors =
        lines.stream()
            .filter(l -> l.matches(".*(Error|Exception|Kernel died|Kernel didn't|WARNING).*"))
            .limit(30)
            .toList();
    int from = Math.max(0, lines.size() - 80);
    return "error lines:\n"
        + (errors.isEmpty() ? "(none)" : String.join("\n", errors))
        + "\nlog tail ("
        + (lines.size() - from)
        + " of "
        + lines.size()
        + " lines without the classpath echo):\n"
        + String.join("\n", lines.subList(from, lines.size()));
  }

  /** Text of every output of every code cell. */
  static String outputs(JsonNode nb) {
    StringBuilder sb = new StringBuilder();
    for (JsonNode c : nb.path("cells")) {
      for (JsonNode o : c.path("outputs")) {
        o.path("text").forEach(t -> sb.append(t.asText()));
        o.path("data")
            .fields()
            .forEachRemaining(
                e -> {
                  if (e.getValue().isArray()) {
                    e.getValue().forEach(t -> sb.append(t.asText()));
                  } else {
                    sb.append(e.getValue().asText());
                  }
                });
      }
    }
    return sb.toString();
  }

  static final Map<String, List<String>> EXPECTED =
      Map.of(
          "01-explore-curated-output.ipynb",
              List.of(
                  "<table",
                  "match-queries",
                  "rows_before",
                  "data:image/png;base64",
                  "data:image/jpeg;base64"),
          "02-text-to-image-search.ipynb",
              List.of(
                  "top-k for: a photo of a red circle.",
                  "data:image/jpeg;base64",
                  "neighbours of:"),
          "03-threshold-tuning.ipynb",
              List.of("precision", "recall", "data:image/png;base64", "written to"));

  @ParameterizedTest
  @MethodSource("notebooks")
  void notebookRunsWithoutErrorsAndShowsItsKeyOutputs(String name) throws Exception {
    Path out = tmp.resolve("executed");
    Files.createDirectories(out);
    Files.createDirectories(LOGS);
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "jupyter",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.timeout=600",
                "--ExecutePreprocessor.kernel_name=sparkclip-java",
                "--output-dir",
                out.toString(),
                root.resolve("notebooks").resolve(name).toString()));
    cmd.add(6, "--ExecutePreprocessor.startup_timeout=60");
    // Outputs that arrive after a cell's execute_reply are waited for up to iopub_timeout (default
    // 4 s, after which nbclient drops them with a warning): generous on a loaded 2-core machine.
    cmd.add(7, "--ExecutePreprocessor.iopub_timeout=60");
    // No retry: a kernel that never answers at start-up is the failure SafeKernelStart exists to
    // prevent, so it fails the test (and safeKernelStartAnswersEveryStart measures it directly).
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(root.toFile());
    pb.environment().put("JUPYTER_PATH", jupyter.toString());
    pb.environment().put("SPARKCLIP_DATA", demo.toString());
    Path logFile = LOGS.resolve(name + ".log");
    pb.redirectOutput(logFile.toFile());
    long t0 = System.nanoTime();
    Process p = pb.start();
    boolean done = p.waitFor(15, TimeUnit.MINUTES);
    if (!done) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
    }
    System.out.printf(
        "NotebooksIT: %s took %.1f s (exit %s); log: %s%n",
        name,
        (System.nanoTime() - t0) / 1e9,
        done ? p.exitValue() : "timeout",
        logFile.toAbsolutePath());
    String log = essential(Files.readString(logFile));
    assertThat(log.contains("Kernel didn't respond") || log.contains("Kernel died before replying"))
        .as("the kernel of %s failed to start (a SafeKernelStart regression); %s", name, log)
        .isFalse();
    assertThat(done).as("nbconvert of %s finished in time; %s", name, log).isTrue();
    assertThat(p.exitValue())
        .as("nbconvert of %s (fails on any error cell); %s", name, log)
        .isZero();
    JsonNode nb = new ObjectMapper().readTree(new File(out.toFile(), name));
    for (JsonNode c : nb.path("cells")) {
      for (JsonNode o : c.path("outputs")) {
        assertThat(o.path("output_type").asText())
            .as("no error output in %s", name)
            .isNotEqualTo("error");
      }
    }
    String text = outputs(nb);
    List<String> missing = EXPECTED.get(name).stream().filter(e -> !text.contains(e)).toList();
    String shown = text.replaceAll("[A-Za-z0-9+/=\\s]{400,}", "<base64>");
    assertThat(missing)
        .as(
            "key outputs missing from %s; its outputs (base64 elided):%n%s",
            name, shown.substring(0, Math.min(shown.length(), 6000)))
        .isEmpty();
    if (name.startsWith("03")) {
      assertThat(Files.readString(demo.resolve("tuned-curate.conf")))
          .as("the tuned curate config")
          .contains("filter.min-clip-score");
    }
  }

  /** Starts of the kernel in {@link #safeKernelStartAnswersEveryStart}. */
  static final int KERNEL_STARTS = 8;

  /**
   * SafeKernelStart on its own: every one of {@value #KERNEL_STARTS} fresh kernels answers
   * kernel_info within 30 s. Without its fixes 6 of 25 plain starts were deaf on this kind of
   * machine (bench/kernel-start.sh --plain), so a regression fails here with probability ≈ 0.9.
   */
  @Test
  void safeKernelStartAnswersEveryStart() throws Exception {
    String script =
        String.join(
            "\n",
            "import sys, time",
            "from jupyter_client import KernelManager",
            "n, logdir = int(sys.argv[1]), sys.argv[2]",
            "deaf = 0",
            "for i in range(n):",
            "    with open(f'{logdir}/kernel-start-{i}.log', 'w') as log:",
            "        km = KernelManager(kernel_name='sparkclip-java')",
            "        t0 = time.time()",
            "        km.start_kernel(stdout=log, stderr=log)",
            "        kc = km.client()",
            "        kc.start_channels()",
            "        try:",
            "            kc.wait_for_ready(timeout=30)",
            "            print(f'start {i}: ready in {time.time() - t0:.1f} s', flush=True)",
            "        except RuntimeError:",
            "            deaf += 1",
            "            print(f'start {i}: deaf (no kernel_info reply in 30 s)', flush=True)",
            "        kc.stop_channels()",
            "        km.shutdown_kernel(now=True)",
            "print(f'deaf {deaf} of {n}')",
            "");
    Files.createDirectories(LOGS);
    Path py = tmp.resolve("kernel-starts.py");
    Files.writeString(py, script);
    ProcessBuilder pb =
        new ProcessBuilder(
                "/usr/bin/python3",
                py.toString(),
                String.valueOf(KERNEL_STARTS),
                LOGS.toAbsolutePath().toString())
            .redirectErrorStream(true)
            .directory(root.toFile());
    pb.environment().put("JUPYTER_PATH", jupyter.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("kernel starts finished").isTrue();
    System.out.print(out);
    assertThat(p.exitValue()).as("kernel start script; output:%n%s", out).isZero();
    assertThat(out)
        .as("every kernel start answered (logs in %s)", LOGS.toAbsolutePath())
        .contains("deaf 0 of " + KERNEL_STARTS);
  }

  @AfterAll
  static void done() {}
}
