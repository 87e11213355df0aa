package io.sparkclip.jobs.download;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A download whose driver JVM is killed (SIGKILL) after some shards committed, then run again,
 * gives the same rows as a run that was never interrupted, and the re-run skips what committed.
 */
class DownloadResumeTest {
  static final int SHARDS = 6;
  static final int ROWS = 30;

  @TempDir static Path tmp;
  static SparkSession spark;
  static LocalImageServer server;
  static Path meta;

  @BeforeAll
  static void setUp() throws Exception {
    spark = LocalSpark.start("DownloadResumeTest");
    // 100 ms a response, 3 requests in flight, one shard at a time: about 1 s a shard.
    server = LocalImageServer.start(100);
    meta = Files.createDirectories(tmp.resolve("meta"));
    for (int s = 0; s < SHARDS; s++) {
      StringBuilder b = new StringBuilder("url\tcaption\n");
      for (int i = 0; i < ROWS; i++) {
        String path = "/s" + s + "/" + i + (i % 7 == 3 ? ".missing" : ".jpg");
        if (i % 7 != 3) {
          server.image(path, LocalImageServer.jpeg(24 + i, 24 + s, 100L * s + i), "image/jpeg");
        }
        b.append(server.url(path)).append("\tshard ").append(s).append(" row ").append(i);
        b.append('\n');
      }
      Files.writeString(meta.resolve(String.format("part-%05d.tsv", s)), b.toString());
    }
  }

  @AfterAll
  static void tearDown() {
    server.close();
    spark.stop();
  }

  private static List<String> args(Path out) {
    return List.of(
        "download",
        meta.toString(),
        "--out",
        out.toString(),
        "--master",
        "local[2]",
        "--allow-private-addresses",
        "--requests-in-flight",
        "3",
        "--concurrent-shards",
        "1",
        "--quiet");
  }

  private static StageConf conf(Path out) {
    return StageConf.io(meta.toString(), out.toString())
        .with(DownloadOptions.ALLOW_PRIVATE_ADDRESSES, true)
        .with(DownloadOptions.REQUESTS_IN_FLIGHT, 3)
        .with(DownloadOptions.CONCURRENT_SHARDS, 1);
  }

  private static long committed(Path out) throws Exception {
    Path dir = out.resolve("_committed");
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().startsWith(".")).count();
    }
  }

  private static Set<String> rows(Path out) {
    Set<String> s = new TreeSet<>();
    for (Row r :
        spark
            .read()
            .parquet(CurationOutput.data(out.toString()))
            .select(Columns.KEY, Columns.URL, Columns.STATUS, DownloadRows.REASON, Columns.SHA256)
            .collectAsList()) {
      assertThat(s.add(r.mkString("|"))).as("no row twice: " + r).isTrue();
    }
    return s;
  }

  @Test
  void aKilledDriverResumesToTheSameOutput() throws Exception {
    Path killedOut = tmp.resolve("killed");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-Dio.netty") || a.startsWith("--enable-")) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(SparkclipCli.class.getName());
    cmd.addAll(args(killedOut));
    File log = tmp.resolve("killed.log").toFile();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log);
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (committed(killedOut) < 2 && p.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(p.isAlive())
        .as("the driver is still downloading when killed; log:\n" + Files.readString(log.toPath()))
        .isTrue();
    p.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
    p.waitFor();
    long before = committed(killedOut);
    assertThat(before).as("shards committed before the kill").isBetween(2L, SHARDS - 1L);

    DownloadStage stage = new DownloadStage();
    var resumed = stage.run(spark, stage.options(conf(killedOut)));
    assertThat(((Number) resumed.details().get("shards_skipped")).longValue())
        .as("the re-run skips the committed shards")
        .isEqualTo(before);
    Path cleanOut = tmp.resolve("clean");
    stage.run(spark, stage.options(conf(cleanOut)));

    Set<String> resumedRows = rows(killedOut);
    assertThat(resumedRows).as("rows in = rows out").hasSize(SHARDS * ROWS);
    assertThat(resumedRows).as("same rows as an uninterrupted run").isEqualTo(rows(cleanOut));
    assertThat(committed(killedOut)).isEqualTo(SHARDS);
  }
}
