package io.sparkclip.jobs.embed;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.ShardCommitLog;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.schemas.StageFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedJobTest {
  static final String TINY = io.sparkclip.jobs.TestModels.TINY;

  @TempDir static Path tmp;
  static SparkSession spark;
  static String raw;

  @BeforeAll
  static void setUp() {
    spark = LocalSpark.start("EmbedJobTest");
    raw = tmp.resolve("raw").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(450, raw)
                .shardSize(150)
                .seed(11)
                .sides(64, 160)
                .faultRates(Map.of(io.sparkclip.schemas.FaultKind.CORRUPT_IMAGE, 0.05))
                .build())
        .run();
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  @Test
  void aLoneShardIsSpreadOverTheCores() throws Exception {
    String one;
    try (Stream<Path> s = Files.list(Path.of(raw))) {
      one =
          s.filter(p -> p.toString().endsWith(".parquet"))
              .sorted()
              .findFirst()
              .orElseThrow()
              .toString();
    }
    String out = tmp.resolve("lone").toString();
    // Small splits: Spark cuts the one-row-group file into several byte ranges, all but one empty;
    // the row group count, not the scan's partitions, must decide.
    spark.conf().set("spark.sql.files.maxPartitionBytes", "64k");
    try {
      new EmbedJob(spark, EmbedJob.Options.from(StageConf.io(one, out).with(StageKeys.MODEL, TINY)))
          .run();
    } finally {
      spark.conf().unset("spark.sql.files.maxPartitionBytes");
    }
    // Files that hold rows (a write's first task writes a file even when it has none).
    long filled =
        spark
            .read()
            .parquet(out + "/data")
            .groupBy(org.apache.spark.sql.functions.input_file_name())
            .count()
            .count();
    assertThat(filled)
        .as("one file of one row group, embedded by one task per core (local[2])")
        .isEqualTo(2);
    Dataset<Row> df = spark.read().parquet(out + "/data");
    assertThat(df.count()).as("rows of the file").isEqualTo(150);
    assertThat(df.select(Columns.UID).distinct().count()).isEqualTo(150);
  }

  private static Map<String, FileTime> files(Path dir) throws Exception {
    Map<String, FileTime> out = new HashMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.put(dir.relativize(p).toString(), Files.getLastModifiedTime(p));
      }
    }
    return out;
  }

  @Test
  void embedsEveryRowWithAStatusAndResumesWithoutDuplicates() throws Exception {
    String out = tmp.resolve("embedded").toString();
    EmbedReport.Result first =
        new EmbedJob(
                spark,
                EmbedJob.Options.from(
                    StageConf.io(raw, out)
                        .with(StageKeys.MODEL, TINY)
                        .with(StageKeys.BATCH_SIZE, 16)))
            .run();
    assertThat(first.shards()).as("one shard per input file").isEqualTo(3);
    assertThat(first.rowsEmbedded()).as("rows embedded").isEqualTo(450);
    assertThat(
            spark
                .read()
                .parquet(out + "/data")
                .groupBy(org.apache.spark.sql.functions.input_file_name())
                .count()
                .count())
        .as("3 shards, 2 at a time on 2 cores: one task (one file with rows) each")
        .isEqualTo(3);
    Dataset<Row> df = spark.read().parquet(out + "/data");
    assertThat(df.count()).as("every input row is in the output").isEqualTo(450);
    assertThat(df.select(Columns.UID).distinct().count()).as("no duplicate uid").isEqualTo(450);
    Dataset<Row> truth = spark.read().parquet(raw + "/" + StageFiles.GROUND_TRUTH_DIR);
    List<Row> corrupt =
        df.join(truth, Columns.UID)
            .filter(col(Columns.FAULT).equalTo("corrupt_image"))
            .select(Columns.EMBED_STATUS, Columns.IMAGE_EMBEDDING, Columns.EMBED_ERROR)
            .collectAsList();
    assertThat(corrupt).as("corrupt images injected").isNotEmpty();
    for (Row r : corrupt) {
      assertThat(r.getString(0)).as("status of a corrupt image").startsWith("image:");
      assertThat(r.isNullAt(1)).as("no embedding for a corrupt image").isTrue();
      assertThat(r.getString(2)).as("error message").isNotBlank();
    }
    Row ok = df.filter(col(Columns.EMBED_STATUS).equalTo("ok")).first();
    List<Float> v = ok.getList(ok.fieldIndex(Columns.IMAGE_EMBEDDING));
    double norm = 0;
    for (float x : v) {
      norm += x * x;
    }
    assertThat(v).as("embedding width of the tiny model").hasSize(32);
    assertThat(Math.sqrt(norm))
        .as("L2-normalised")
        .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
    assertThat(ok.getString(ok.fieldIndex(Columns.MODEL_ID))).as("model id").isEqualTo("tiny-clip");
    List<String> uninterrupted = embeddedRows(out);

    // Interrupt: one shard's commit marker is lost after half its files moved (a driver killed
    // mid-commit), another's marker is truncated to nothing (a writer killed without the
    // write-aside-and-rename), a marker temp file and a staging leftover remain. Re-run.
    Path committed = Path.of(out, StageFiles.EMBED_COMMITTED_DIR);
    List<Path> markers;
    try (Stream<Path> s = Files.list(committed)) {
      markers = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
    }
    assertThat(markers).as("one commit marker per shard").hasSize(3);
    String lost = markers.get(1).getFileName().toString();
    Files.delete(markers.get(1));
    Path data = Path.of(out, "data");
    Files.createDirectories(Path.of(out, StageFiles.EMBED_STAGING_DIR, lost));
    Files.writeString(
        Path.of(out, StageFiles.EMBED_STAGING_DIR, lost, "part-x.parquet"), "partial");
    Files.write(markers.get(2), new byte[0]);
    Path markerTmp = committed.resolve("." + lost + ShardCommitLog.MARKER_TMP_SUFFIX);
    Files.writeString(markerTmp, "{\"source\"");
    String keptShard = markers.get(0).getFileName().toString();
    Map<String, FileTime> before = new HashMap<>();
    files(data)
        .forEach(
            (k, t) -> {
              if (k.startsWith(keptShard + "__")) {
                before.put(k, t);
              }
            });
    assertThat(before).as("files of a committed shard").isNotEmpty();
    Thread.sleep(20);
    EmbedReport.Result second =
        new EmbedJob(
                spark,
                EmbedJob.Options.from(
                    StageConf.io(raw, out)
                        .with(StageKeys.MODEL, TINY)
                        .with(StageKeys.BATCH_SIZE, 16)))
            .run();
    assertThat(second.shardsSkipped()).as("committed shards skipped").isEqualTo(1);
    assertThat(second.shardsEmbedded())
        .as("the lost and the truncated shard are redone")
        .isEqualTo(2);
    assertThat(second.secondsSaved())
        .as("time saved: the recorded embedding time of the skipped shard")
        .isPositive();
    assertThat(Files.exists(markerTmp)).as("marker temp file removed").isFalse();
    assertThat(Files.size(markers.get(2))).as("truncated marker rewritten").isPositive();
    Map<String, FileTime> after = new HashMap<>();
    files(data)
        .forEach(
            (k, t) -> {
              if (k.startsWith(keptShard + "__")) {
                after.put(k, t);
              }
            });
    assertThat(after).as("a skipped shard is not rewritten").isEqualTo(before);
    assertThat(Files.exists(Path.of(out, StageFiles.EMBED_STAGING_DIR)))
        .as("staging cleaned")
        .isFalse();
    Dataset<Row> again = spark.read().parquet(out + "/data");
    assertThat(again.count()).as("rows after resume").isEqualTo(450);
    assertThat(again.select(Columns.UID).distinct().count())
        .as("no duplicates after resume")
        .isEqualTo(450);
    assertThat(embeddedRows(out))
        .as("after resume: uid, status and both embeddings as in the uninterrupted run")
        .isEqualTo(uninterrupted);
  }

  /**
   * Every output row as "uid status image-embedding text-embedding", sorted: what a resumed run
   * must reproduce exactly (same shards, same batches, same model: the same floats).
   */
  static List<String> embeddedRows(String out) {
    List<String> rows = new ArrayList<>();
    for (Row r :
        spark
            .read()
            .parquet(out + "/data")
            .select(
                Columns.UID, Columns.EMBED_STATUS, Columns.IMAGE_EMBEDDING, Columns.TEXT_EMBEDDING)
            .collectAsList()) { // 450 rows of 2 x 32 floats
      rows.add(
          r.getString(0)
              + " "
              + r.getString(1)
              + " "
              + (r.isNullAt(2) ? "-" : r.getList(2))
              + " "
              + (r.isNullAt(3) ? "-" : r.getList(3)));
    }
    rows.sort(null);
    return rows;
  }

  @Test
  void dataFilesAreAttributedToTheirShardEvenWhenShardNamesContainTheSeparator() {
    assertThat(ShardCommitLog.shardOfDataFile("a__b__part-00000-1234-c000.snappy.parquet"))
        .as("shard name with __ inside")
        .isEqualTo("a__b");
    assertThat(ShardCommitLog.shardOfDataFile("00001__part-00000-1234-c000.snappy.parquet"))
        .as("plain shard name")
        .isEqualTo("00001");
    assertThat(ShardCommitLog.shardOfDataFile("part-00000.parquet"))
        .as("not a shard file")
        .isNull();
  }

  @Test
  void inputFilesWithCollidingShardNamesAreRefused() throws Exception {
    Path in = tmp.resolve("collide");
    Path shard = Path.of(raw, "00000.parquet");
    Files.createDirectories(in.resolve("x"));
    Files.copy(shard, in.resolve("x/a.parquet"));
    Files.copy(shard, in.resolve("x_a.parquet"));
    org.apache.hadoop.fs.FileSystem fs =
        org.apache.hadoop.fs.FileSystem.getLocal(new org.apache.hadoop.conf.Configuration());
    assertThatThrownBy(
            () -> ShardCommitLog.listShards(fs, new org.apache.hadoop.fs.Path(in.toString())))
        .as("x/a.parquet and x_a.parquet both become shard x_a")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a shard name clash")
                    .isEqualTo(ErrorId.INPUT_SHARD_NAME_CLASH))
        .hasMessageContaining("x_a")
        .hasMessageContaining("Fix:");
  }

  @Test
  void aCommittedShardWhoseInputChangedIsNotSilentlySkipped() throws Exception {
    String meta = tmp.resolve("meta-changed").toString();
    String other = tmp.resolve("meta-other").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(40, meta).metadataOnly(true).build()).run();
    new GenerateJob(spark, GenerateJob.Options.builder(25, other).metadataOnly(true).build()).run();
    String out = tmp.resolve("changed-emb").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(
                StageConf.io(meta, out)
                    .with(StageKeys.MODEL, TINY)
                    .with(EmbedJob.Options.TEXT_ONLY, true)))
        .run();
    Files.copy(
        Path.of(other, "00000.parquet"),
        Path.of(meta, "00000.parquet"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    // The local Hadoop filesystem checks .crc sidecars; the replaced file's no longer matches.
    Files.deleteIfExists(Path.of(meta, ".00000.parquet.crc"));
    assertThatThrownBy(
            () ->
                new EmbedJob(
                        spark,
                        EmbedJob.Options.from(
                            StageConf.io(meta, out)
                                .with(StageKeys.MODEL, TINY)
                                .with(EmbedJob.Options.TEXT_ONLY, true)))
                    .run())
        .as("re-run over a changed input shard")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a changed input shard")
                    .isEqualTo(ErrorId.RESUME_INPUT_CHANGED))
        .hasMessageContaining("--overwrite");
  }

  @Test
  void textOnlyEmbedsMetadataOnlyPairs() {
    String meta = tmp.resolve("meta").toString();
    new GenerateJob(
            spark, GenerateJob.Options.builder(200, meta).metadataOnly(true).seed(3).build())
        .run();
    String out = tmp.resolve("text-emb").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(
                StageConf.io(meta, out)
                    .with(StageKeys.MODEL, TINY)
                    .with(EmbedJob.Options.TEXT_ONLY, true)))
        .run();
    Dataset<Row> df = spark.read().parquet(out + "/data");
    assertThat(df.count()).as("rows").isEqualTo(200);
    assertThat(df.filter(col(Columns.TEXT_EMBEDDING).isNotNull()).count())
        .as("captions embedded (missing captions excepted)")
        .isEqualTo(df.filter(col(Columns.EMBED_STATUS).equalTo("ok")).count())
        .isGreaterThan(150);
    assertThat(df.filter(col(Columns.IMAGE_EMBEDDING).isNotNull()).count())
        .as("no image embeddings in text-only mode")
        .isZero();
  }

  @Test
  void badModelDirectoryFailsBeforeAnyWork() {
    String out = tmp.resolve("never").toString();
    assertThatThrownBy(
            () ->
                new EmbedJob(
                        spark,
                        EmbedJob.Options.from(
                            StageConf.io(raw, out)
                                .with(StageKeys.MODEL, tmp.resolve("nope").toString())))
                    .run())
        .as("missing model directory")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a missing model directory")
                    .isEqualTo(ErrorId.MODEL_FILE_MISSING))
        .hasMessageContaining("config.json")
        .hasMessageContaining("Fix:");
    assertThat(Files.exists(Path.of(out))).as("nothing written").isFalse();
    assertThat(
            SparkclipCli.execute(
                "embed", raw, "--model", tmp.resolve("nope").toString(), "--out", out))
        .as("CLI exit code for a bad model dir")
        .isEqualTo(2);
  }

  @Test
  void resumingWithOtherOptionsIsRefused() {
    String out = tmp.resolve("fp-mix").toString();
    String meta = tmp.resolve("meta2").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(50, meta).metadataOnly(true).build()).run();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(
                StageConf.io(meta, out)
                    .with(StageKeys.MODEL, TINY)
                    .with(EmbedJob.Options.TEXT_ONLY, true)))
        .run();
    assertThatThrownBy(
            () ->
                new EmbedJob(
                        spark,
                        EmbedJob.Options.from(
                            StageConf.io(meta, out)
                                .with(StageKeys.MODEL, TINY)
                                .with(EmbedJob.Options.TEXT_ONLY, true)
                                .with(EmbedJob.Options.PRECISION, "fp16")))
                    .run())
        .as("fp16 on top of fp32 output")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of resuming with other options")
                    .isEqualTo(ErrorId.RESUME_OPTIONS_CHANGED))
        .hasMessageContaining("--overwrite");
  }

  @Test
  void maxPixelsMarksLargerImagesTooLargeAndKeepsTheirRows() {
    String out = tmp.resolve("max-pixels").toString();
    long limit = 100 * 100;
    assertThat(
            SparkclipCli.execute(
                "embed", raw, "--model", TINY, "--out", out, "--max-pixels", "" + limit))
        .as("embed --max-pixels exit code")
        .isZero();
    Dataset<Row> truth =
        spark
            .read()
            .parquet(raw + "/" + StageFiles.GROUND_TRUTH_DIR)
            .filter(col(Columns.FAULT).equalTo("corrupt_image"));
    Dataset<Row> df =
        spark.read().parquet(out + "/data").join(truth, Columns.UID, "left_anti").cache();
    Dataset<Row> big = df.filter(col(Columns.WIDTH).multiply(col(Columns.HEIGHT)).gt(limit));
    Dataset<Row> small = df.filter(col(Columns.WIDTH).multiply(col(Columns.HEIGHT)).leq(limit));
    assertThat(big.count()).as("generated images above the limit").isGreaterThan(50);
    assertThat(small.count()).as("generated images within the limit").isGreaterThan(20);
    assertThat(big.filter(col(Columns.EMBED_STATUS).equalTo("image:too_large")).count())
        .as("every image above --max-pixels is marked too_large")
        .isEqualTo(big.count());
    assertThat(big.filter(col(Columns.IMAGE_EMBEDDING).isNotNull()).count())
        .as("no embedding for a too-large image")
        .isZero();
    assertThat(small.filter(col(Columns.EMBED_STATUS).equalTo("ok")).count())
        .as("images within the limit are embedded")
        .isEqualTo(small.count());
    assertThat(spark.read().parquet(out + "/data").count()).as("no row lost").isEqualTo(450);
    assertThat(
            SparkclipCli.execute(
                "embed", raw, "--model", TINY, "--out", out + "-bad", "--max-pixels", "0"))
        .as("exit code for --max-pixels 0")
        .isEqualTo(2);
  }
}
