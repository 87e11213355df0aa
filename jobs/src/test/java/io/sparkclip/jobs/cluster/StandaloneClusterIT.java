package io.sparkclip.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spark-submit of the shaded jar to a real standalone master + worker on 127.0.0.1. */
class StandaloneClusterIT {
  @TempDir static Path tmp;
  private static StandaloneCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = new StandaloneCluster(tmp).start(1, 2, "3g");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static StandaloneCluster.Submitted sparkclip(String... args) throws Exception {
    return cluster.submit(
        StandaloneCluster.required("sparkclip.jar"),
        "io.sparkclip.jobs.SparkclipCli",
        List.of("spark.executor.memory=1g", "spark.cores.max=2"),
        List.of(args),
        Duration.ofMinutes(5));
  }

  @Test
  void generateAndInspectRunOnTheClusterExecutors() throws Exception {
    String out = tmp.resolve("raw").toString();
    List<Path> before = appDirs();
    StandaloneCluster.Submitted gen =
        sparkclip("generate", "--rows", "2000", "--shard-size", "500", "--out", out);
    assertThat(gen.exitCode()).as("generate via spark-submit; log:\n" + gen.output()).isZero();
    assertThat(gen.output()).as("generate summary").contains("Generated 2,000 pairs in 4 shards");

    StandaloneCluster.Submitted ins = sparkclip("inspect", out, "--samples", "2");
    assertThat(ins.exitCode()).as("inspect via spark-submit; log:\n" + ins.output()).isZero();
    assertThat(ins.output())
        .as("inspect report")
        .contains("Layout:   img2dataset", "Rows:     2,000 in 4 file(s)");

    List<Path> appDirs = new java.util.ArrayList<>(appDirs());
    appDirs.removeAll(before);
    assertThat(appDirs).as("the worker ran executors for both applications").hasSize(2);
    for (Path app : appDirs) {
      try (Stream<Path> files = Files.walk(app)) {
        assertThat(files.anyMatch(f -> f.getFileName().toString().equals("sparkclip-jobs.jar")))
            .as("executor of " + app.getFileName() + " fetched the shaded jar")
            .isTrue();
      }
    }
  }

  private static List<Path> appDirs() throws java.io.IOException {
    try (Stream<Path> apps = Files.list(cluster.workDir())) {
      return apps.filter(p -> p.getFileName().toString().startsWith("app-")).toList();
    }
  }

  @Test
  void badInputFailsOnTheClusterWithExitCode2() throws Exception {
    StandaloneCluster.Submitted r = sparkclip("inspect", tmp.resolve("missing").toString());
    assertThat(r.exitCode()).as("exit code of a bad-input run").isEqualTo(2);
    assertThat(r.output()).as("the actionable message").contains("does not exist", "Fix:");
  }
}
