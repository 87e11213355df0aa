package io.sparkclip.jobs.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.SparkclipException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WebDataset input: tars written by Python's tarfile, read by sparkclip's executor-side reader. */
class WebDatasetReaderTest {
  private static SparkSession spark;
  @TempDir static Path tmp;
  private static WebDatasetShards shards;
  private static Path dir;

  @BeforeAll
  static void start() throws Exception {
    spark = LocalSpark.start("WebDatasetReaderTest");
    Path files = Files.createDirectories(tmp.resolve("members"));
    dir = tmp.resolve("wds");
    shards = WebDatasetShards.standard(files);
    shards.write(dir);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** key → [caption, url, image sha256, sample error, shard name, offset] */
  private static Map<String, List<Object>> byKey(Dataset<Row> df) throws Exception {
    Map<String, List<Object>> out = new TreeMap<>();
    for (Row r : df.collectAsList()) {
      byte[] img = r.getAs(Columns.IMAGE);
      List<Object> v = new ArrayList<>();
      v.add(r.getAs(Columns.CAPTION));
      v.add(r.getAs(Columns.URL));
      v.add(img == null ? null : WebDatasetShards.sha256(img));
      v.add(r.getAs(Columns.SAMPLE_ERROR));
      v.add(new org.apache.hadoop.fs.Path((String) r.getAs(Columns.SOURCE_SHARD)).getName());
      v.add(r.getAs(Columns.SOURCE_OFFSET));
      List<Object> clash = out.put(r.getAs(Columns.KEY), v);
      assertThat(clash).as("sample %s read once", (Object) r.getAs(Columns.KEY)).isNull();
    }
    return out;
  }

  @Test
  void everySampleIsOneRowSoundOrWithItsReason() throws Exception {
    Dataset<Row> df = InputFiles.read(spark, dir.toString());
    Map<String, List<Object>> got = byKey(df);
    assertThat(got.keySet()).as("one row per sample key").isEqualTo(shards.expected.keySet());
    for (WebDatasetShards.Sample s : shards.expected.values()) {
      List<Object> g = got.get(s.key());
      assertThat(g.get(4)).as("shard of %s", s.key()).isEqualTo(s.shard());
      if (s.error() == null) {
        assertThat(g.get(3)).as("no error for sound sample %s", s.key()).isNull();
        assertThat(g.get(2))
            .as("image bytes of %s as in the tar", s.key())
            .isEqualTo(s.imageSha256());
        assertThat(g.get(0)).as("caption of %s", s.key()).isEqualTo(s.caption());
        assertThat(g.get(1)).as("url of %s from its json", s.key()).isEqualTo(s.url());
      } else {
        assertThat((String) g.get(3))
            .as("the reason of hostile sample %s", s.key())
            .contains(s.error());
        assertThat(g.get(2)).as("no usable image for %s", s.key()).isNull();
      }
    }
    Row png = df.filter(df.col(Columns.KEY).equalTo("000010003")).first();
    assertThat((String) png.getAs(Columns.IMAGE_FORMAT)).as("png member").isEqualTo("png");
    assertThat((String) png.getAs(Columns.SAMPLE_JSON))
        .as("the whole json kept, extra columns too")
        .contains("\"similarity\"");
    assertThat((Integer) png.getAs(Columns.ORIGINAL_WIDTH)).as("json sizes").isEqualTo(480);
  }

  @Test
  void inspectReportsTheLayout() {
    io.sparkclip.jobs.inspect.InspectJob.Report r =
        new io.sparkclip.jobs.inspect.InspectJob(
                spark,
                new io.sparkclip.jobs.inspect.InspectJob.Options(
                    dir.toString(), ColumnMapping.DETECT, 2))
            .run();
    assertThat(r.render())
        .as("inspect output")
        .contains("WebDataset tar shards")
        .contains("26 in 3 file(s)")
        .contains(PairStatus.INVALID_SAMPLE);
  }

  @Test
  void embedTakesTheTarShardsAsItsShards() {
    String out = tmp.resolve("embedded").toString();
    io.sparkclip.jobs.embed.EmbedReport.Result r =
        new io.sparkclip.jobs.embed.EmbedJob(
                spark,
                io.sparkclip.jobs.embed.EmbedJob.Options.from(
                    StageConf.io(dir.toString(), out)
                        .with(StageKeys.MODEL, io.sparkclip.jobs.TestModels.TINY)))
            .run();
    assertThat(r.shards()).as("one embed shard per tar").isEqualTo(3);
    assertThat(r.rowsEmbedded()).as("every sample is a row of the output").isEqualTo(26);
    long embedded =
        spark
            .read()
            .parquet(CurationOutput.data(out))
            .filter(org.apache.spark.sql.functions.col(Columns.IMAGE_EMBEDDING).isNotNull())
            .count();
    assertThat(embedded).as("sound samples embedded").isEqualTo(22);
  }

  @Test
  void smallSplitsReadEverySampleExactlyOnce() throws Exception {
    Map<String, List<Object>> whole = byKey(InputFiles.read(spark, dir.toString()));
    List<FileStatus> tars =
        InputFiles.list(
                Paths.fs(spark, dir.toString()), new org.apache.hadoop.fs.Path(dir.toString()))
            .files();
    // Ranges of 1 to 7 KB: boundaries inside images, headers and sample runs.
    for (long split : new long[] {1024, 3000, 7168}) {
      Dataset<Row> df = WebDatasetReader.read(spark, tars, split);
      assertThat(df.rdd().getNumPartitions())
          .as("several tasks per shard at %d bytes", split)
          .isGreaterThan(tars.size());
      assertThat(byKey(df))
          .as("split at %d bytes reads what one task reads", split)
          .isEqualTo(whole);
    }
  }

  @Test
  void unusableSamplesAreInvalidPairsWithTheirReason() {
    CurationInput in = CurationInput.read(spark, dir.toString(), ColumnMapping.DETECT);
    assertThat(in.layout().hasImages()).as("image column found").isTrue();
    Map<String, Long> status = new TreeMap<>();
    for (Row r : in.pairs().groupBy(Columns.PAIR_STATUS).count().collectAsList()) {
      status.put(r.getString(0), r.getLong(1));
    }
    assertThat(status)
        .as("pair statuses")
        .isEqualTo(Map.of(PairStatus.OK, 22L, PairStatus.INVALID_SAMPLE, 4L));
  }

  @Test
  void readsImg2datasetFilesFolders() throws Exception {
    Path root = tmp.resolve("files");
    Path shard = Files.createDirectories(root.resolve("00000"));
    WebDatasetShards w = new WebDatasetShards(Files.createDirectories(tmp.resolve("files-m")));
    Map<String, String> sha = new TreeMap<>();
    for (int i = 0; i < 5; i++) {
      String key = String.format("%09d", i);
      byte[] img = w.image(40 + i, i == 2 ? "png" : "jpg");
      Files.write(shard.resolve(key + (i == 2 ? ".png" : ".jpg")), img);
      Files.writeString(shard.resolve(key + ".txt"), "caption " + i);
      Files.writeString(shard.resolve(key + ".json"), "{\"url\": \"http://f.example/" + i + "\"}");
      sha.put("00000/" + key, WebDatasetShards.sha256(img));
    }
    Files.writeString(shard.resolve("000000009.txt"), "a caption whose image failed");
    Files.writeString(root.resolve("00000.parquet"), "img2dataset metadata, not read");
    Files.writeString(root.resolve("00000_stats.json"), "{}");
    assertThat(
            InputFiles.list(
                    Paths.fs(spark, root.toString()),
                    new org.apache.hadoop.fs.Path(root.toString()))
                .format())
        .as("layout")
        .isEqualTo(InputFiles.Format.FILES);
    Map<String, List<Object>> got = byKey(InputFiles.read(spark, root.toString()));
    assertThat(got.keySet()).as("one row per key").hasSize(6).containsAll(sha.keySet());
    sha.forEach(
        (k, v) -> {
          assertThat(got.get(k).get(2)).as("image of %s", k).isEqualTo(v);
          assertThat(got.get(k).get(3)).as("no error for %s", k).isNull();
        });
    assertThat((String) got.get("00000/000000009").get(3))
        .as("the caption without image")
        .contains("no image member");
    assertThat(got.get("00000/000000001").get(1))
        .as("url from json")
        .isEqualTo("http://f.example/1");
  }

  @Test
  void aFolderOfMixedLayoutsFailsFast() throws Exception {
    Path mixed = tmp.resolve("mixed");
    Files.createDirectories(mixed);
    Files.copy(dir.resolve("00000.tar"), mixed.resolve("00000.tar"));
    spark.range(3).write().parquet(mixed.resolve("other").toString());
    assertThatThrownBy(() -> InputFiles.read(spark, mixed.toString()))
        .as("a tar beside Parquet that is not its metadata")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.INPUT_MIXED_LAYOUTS));
  }

  @Test
  void aTarWithoutImagesFailsFast() throws Exception {
    Path files = Files.createDirectories(tmp.resolve("noimg-members"));
    WebDatasetShards w = new WebDatasetShards(files);
    Path out = tmp.resolve("noimg");
    w.textOnlyShard("00000.tar", 20);
    w.write(out);
    assertThatThrownBy(() -> InputFiles.read(spark, out.toString()))
        .as("a tar of captions only")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.INPUT_TAR_WITHOUT_IMAGES));
  }
}
