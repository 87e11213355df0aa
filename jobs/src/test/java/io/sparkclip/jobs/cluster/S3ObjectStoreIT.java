package io.sparkclip.jobs.cluster;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.stage.InputFiles;
import io.sparkclip.jobs.stage.WebDatasetReader;
import io.sparkclip.jobs.stage.WebDatasetShards;
import io.sparkclip.schemas.Columns;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * sparkclip on object storage: s3proxy on 127.0.0.1 as the S3 endpoint, S3A with the magic
 * committer, the CLI reading and writing {@code s3a://} (and loading the model from it), and a
 * failed write that leaves nothing visible.
 */
class S3ObjectStoreIT {
  private static final String BUCKET = "sparkclip-it";
  @TempDir static Path tmp;
  private static S3Proxy s3;
  private static S3Client client;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3Proxy.start(tmp);
    client = s3.client();
    client.createBucket(b -> b.bucket(BUCKET));
  }

  @AfterAll
  static void stopS3() {
    if (client != null) {
      client.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private static String s3a(String key) {
    return "s3a://" + BUCKET + "/" + key;
  }

  /** A CLI call with the S3A settings passed the way users pass them: --conf key=value. */
  private static int sparkclip(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--master", "local[2]", "--conf", "spark.ui.enabled=false"));
    all.addAll(List.of("--conf", "spark.driver.host=127.0.0.1"));
    all.addAll(List.of("--conf", "spark.sql.shuffle.partitions=4"));
    for (Map.Entry<String, String> e : s3.sparkConf().entrySet()) {
      all.add("--conf");
      all.add(e.getKey() + "=" + e.getValue());
    }
    return SparkclipCli.execute(all.toArray(String[]::new));
  }

  private static void withSpark(Consumer<SparkSession> body) {
    SparkSession.Builder b =
        SparkSession.builder()
            .master("local[2]")
            .appName("S3ObjectStoreIT")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1");
    s3.sparkConf().forEach(b::config);
    SparkSession spark = b.getOrCreate();
    try {
      body.accept(spark);
    } finally {
      spark.stop();
    }
  }

  private static List<String> keys(String prefix) {
    return client.listObjectsV2Paginator(r -> r.bucket(BUCKET).prefix(prefix)).contents().stream()
        .map(S3Object::key)
        .toList();
  }

  private static String object(String key) {
    return client.getObjectAsBytes(r -> r.bucket(BUCKET).key(key)).asString(StandardCharsets.UTF_8);
  }

  private static int pendingUploads() {
    return client.listMultipartUploads(r -> r.bucket(BUCKET)).uploads().size();
  }

  @Test
  void generateAndCurateReadAndWriteS3a() throws Exception {
    assertThat(sparkclip("generate", "--rows", "600", "--shard-size", "200", "--out", s3a("raw")))
        .as("generate to s3a:// exit code; s3proxy log tail:\n" + tail(s3.log()))
        .isZero();
    assertThat(keys("raw/"))
        .as("objects written by generate")
        .contains("raw/00000.parquet", "raw/00001.parquet", "raw/00002.parquet", "raw/queries.txt");

    // The model directory is read from s3a:// too (localized once per executor JVM).
    Path model = Path.of(System.getProperty("sparkclip.root"), "udfs/src/test/resources/tiny-clip");
    try (Stream<Path> files = Files.walk(model)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        client.putObject(
            r -> r.bucket(BUCKET).key("models/tiny-clip/" + model.relativize(f)),
            RequestBody.fromFile(f));
      }
    }
    // The whole pipeline on s3a://: input, query list, model and every stage's output.
    assertThat(
            sparkclip(
                "curate",
                "--config",
                Path.of(System.getProperty("sparkclip.root"), "conf/curate.example.conf")
                    .toString(),
                "--input",
                s3a("raw"),
                "--queries",
                s3a("raw/queries.txt"),
                "--model",
                s3a("models/tiny-clip"),
                "--out",
                s3a("curated")))
        .as("curate s3a:// (data, queries and model) -> s3a:// exit code")
        .isZero();

    assertThat(keys("curated/1-match-queries/"))
        .as("match-queries stage output objects")
        .contains("curated/1-match-queries/data/_SUCCESS");
    // The S3A committers write a JSON manifest as _SUCCESS (the classic committer: 0 bytes), so
    // this shows the write went through the magic committer, not rename-based commit.
    JsonNode success = new ObjectMapper().readTree(object("curated/1-match-queries/data/_SUCCESS"));
    assertThat(success.path("committer").asText())
        .as("committer named in the _SUCCESS manifest")
        .isEqualTo("magic");
    assertThat(success.path("filenames").size())
        .as("part files listed in the _SUCCESS manifest")
        .isPositive();
    assertThat(keys("curated/"))
        .as("no committer leftovers (__magic, _temporary) after successful jobs")
        .noneMatch(k -> k.contains("__magic") || k.contains("_temporary"));

    withSpark(
        spark -> {
          var embedded = spark.read().parquet(s3a("curated/4-embed/data"));
          assertThat(embedded.filter(col(Columns.EMBED_STATUS).equalTo("ok")).count())
              .as("rows embedded ok with the model loaded from s3a://")
              .isPositive();
          // Every input row ends up in the final output or in one stage's rejects.
          Dataset<Row> accounted = spark.read().parquet(s3a("curated/6-filter/data")).select("uid");
          for (String stage :
              List.of("1-match-queries", "2-dedup", "3-balance", "5-score", "6-filter")) {
            if (!keys("curated/" + stage + "/rejects/").isEmpty()) {
              accounted =
                  accounted.union(
                      spark.read().parquet(s3a("curated/" + stage + "/rejects")).select("uid"));
            }
          }
          assertThat(accounted.count())
              .as("output + rejects rows of curate, read back")
              .isEqualTo(600);
          long inputUids =
              spark
                  .read()
                  .parquet(s3a("curated/1-match-queries/data"))
                  .select("uid")
                  .union(spark.read().parquet(s3a("curated/1-match-queries/rejects")).select("uid"))
                  .distinct()
                  .count();
          assertThat(accounted.distinct().count())
              .as("distinct uids in curate's output + rejects = distinct input uids")
              .isEqualTo(inputUids);
        });
    assertThat(pendingUploads()).as("multipart uploads left open in the bucket").isZero();
  }

  /** Throws on the marked row, after its task has already written the rows before it. */
  static final class FailOnMarkedRow implements MapFunction<Long, Long> {
    private static final long serialVersionUID = 1L;
    static final long MARKED = 3_999L;

    @Override
    public Long call(Long id) {
      if (id == MARKED) {
        throw new IllegalStateException("marked row " + id + ": failing the task mid-write");
      }
      return id;
    }
  }

  /**
   * Tasks that finished before the marked row failed had committed (the magic committer uploads
   * their files as pending multipart uploads); the job abort must leave none of it visible.
   */
  @Test
  void failedWriteLeavesNoVisibleOutput() {
    withSpark(
        spark -> {
          assertThatThrownBy(
                  () ->
                      spark
                          .range(0, 4_000, 1, 4)
                          .as(Encoders.LONG())
                          .map(new FailOnMarkedRow(), Encoders.LONG())
                          .write()
                          .parquet(s3a("failed")))
              .as("the write fails on the marked row")
              .hasStackTraceContaining("marked row 3999");
          spark.range(0, 10, 1, 2).write().parquet(s3a("ok-after-failure"));
        });
    assertThat(keys("failed/"))
        .as("objects visible under the failed job's destination")
        .noneMatch(k -> k.endsWith(".parquet") || k.endsWith("_SUCCESS"));
    assertThat(pendingUploads())
        .as("multipart uploads of committed tasks aborted with the job")
        .isZero();
    assertThat(keys("ok-after-failure/"))
        .as("a later job on the same session still commits")
        .anyMatch(k -> k.endsWith(".parquet"))
        .contains("ok-after-failure/_SUCCESS");
  }

  /**
   * The shaded jar alone brings S3A to a cluster: spark-submit to a standalone master + worker, the
   * executors write s3a:// through the magic committer, the driver commits.
   */
  @Test
  void sparkSubmitOfTheShadedJarWritesS3aFromClusterExecutors() throws Exception {
    try (StandaloneCluster cluster =
        new StandaloneCluster(tmp.resolve("cluster")).start(1, 2, "2g")) {
      List<String> conf = new ArrayList<>(List.of("spark.executor.memory=1g", "spark.cores.max=2"));
      s3.sparkConf().forEach((k, v) -> conf.add(k + "=" + v));
      StandaloneCluster.Submitted r =
          cluster.submit(
              StandaloneCluster.required("sparkclip.jar"),
              "io.sparkclip.jobs.SparkclipCli",
              conf,
              List.of(
                  "generate", "--rows", "400", "--shard-size", "100", "--out", s3a("cluster-raw")),
              java.time.Duration.ofMinutes(5));
      assertThat(r.exitCode()).as("spark-submit generate to s3a://; log:\n" + r.output()).isZero();
    }
    assertThat(keys("cluster-raw/"))
        .as("shards written by the cluster's executors")
        .contains(
            "cluster-raw/00000.parquet",
            "cluster-raw/00001.parquet",
            "cluster-raw/00002.parquet",
            "cluster-raw/00003.parquet");
    assertThat(
            new ObjectMapper()
                .readTree(object("cluster-raw/_ground_truth/_SUCCESS"))
                .path("committer")
                .asText())
        .as("committer of the ground-truth write on the cluster")
        .isEqualTo("magic");
    withSpark(
        spark ->
            assertThat(spark.read().parquet(s3a("cluster-raw/0000*.parquet")).count())
                .as("rows read back from the cluster's output")
                .isEqualTo(400));
  }

  /**
   * WebDataset shards (Python's tarfile, img2dataset layout, hostile cases) read from s3a:// as
   * from the local disk: the listing, the sidecars, the positioned reads of the split resync.
   */
  @Test
  void webDatasetShardsReadFromS3aAsFromDisk() throws Exception {
    Path local = tmp.resolve("wds");
    WebDatasetShards.standard(Files.createDirectories(tmp.resolve("wds-members"))).write(local);
    try (Stream<Path> files = Files.list(local)) {
      for (Path f : files.toList()) {
        client.putObject(
            r -> r.bucket(BUCKET).key("wds/" + f.getFileName()), RequestBody.fromFile(f));
      }
    }
    withSpark(
        spark -> {
          Map<String, String> want = samples(InputFiles.read(spark, local.toString()));
          assertThat(samples(InputFiles.read(spark, s3a("wds"))))
              .as("samples read from s3a://")
              .isEqualTo(want)
              .hasSize(26);
          List<org.apache.hadoop.fs.FileStatus> tars =
              InputFiles.list(
                      io.sparkclip.jobs.stage.Paths.fs(spark, s3a("wds")),
                      new org.apache.hadoop.fs.Path(s3a("wds")))
                  .files();
          assertThat(samples(WebDatasetReader.read(spark, tars, 4096)))
              .as("4 KB ranges on s3a:// read every sample once")
              .isEqualTo(want);
        });
  }

  /** key → offset, image length and error of each sample. */
  private static Map<String, String> samples(Dataset<Row> df) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (Row r : df.collectAsList()) {
      byte[] img = r.getAs(Columns.IMAGE);
      String v =
          r.getAs(Columns.SOURCE_OFFSET)
              + " "
              + (img == null ? -1 : img.length)
              + " "
              + r.getAs(Columns.SAMPLE_ERROR);
      assertThat(out.put(r.getAs(Columns.KEY), v)).as("sample read once").isNull();
    }
    return out;
  }

  private static String tail(String log) {
    return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
  }
}
