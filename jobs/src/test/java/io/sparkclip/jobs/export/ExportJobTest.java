package io.sparkclip.jobs.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.score.ScoreJob;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.schemas.StageFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exports a generated, embedded and scored dataset in every format and reads each file back with
 * Python's tarfile, json and numpy, and Spark's own Parquet reader, comparing with the input rows.
 */
class ExportJobTest {
  static final int PER_SHARD = 25;
  static final int PER_PART = 40;

  @TempDir static Path tmp;
  static SparkSession spark;
  static String raw;
  static String scored;

  /** The scored stage's rows by uid (small: 120 pairs of tiny images). */
  static Map<String, Row> input;

  @BeforeAll
  static void setUp() {
    spark = LocalSpark.start("ExportJobTest");
    raw = tmp.resolve("raw").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(120, raw)
                .shardSize(60)
                .seed(21)
                .sides(48, 96)
                .queries(5)
                .pngShare(0.3)
                .faultRates(Map.of(FaultKind.CORRUPT_IMAGE, 0.05, FaultKind.FAILED_DOWNLOAD, 0.05))
                .build())
        .run();
    String emb = tmp.resolve("emb").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(StageConf.io(raw, emb).with(StageKeys.MODEL, TestModels.TINY)))
        .run();
    scored = tmp.resolve("scored").toString();
    new ScoreJob(
            spark,
            ScoreJob.Options.from(
                StageConf.io(emb, scored)
                    .with(StageKeys.MODEL, TestModels.TINY)
                    .with(ScoreJob.Options.GROUP_SIZE, 8)))
        .run();
    input = new TreeMap<>();
    for (Row r : spark.read().parquet(scored + "/" + StageFiles.DATA_DIR).collectAsList()) {
      input.put(r.getAs(Columns.UID), r);
    }
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  @AfterEach
  void noHook() {
    AtomicFile.beforeCommit = null;
  }

  static ExportJob.Result export(String in, String out, String format, Object... kv) {
    StageConf c = StageConf.io(in, out).with(ExportJob.Options.FORMAT, format);
    for (int i = 0; i < kv.length; i += 2) {
      c = c.with((String) kv[i], kv[i + 1]);
    }
    return new ExportJob(spark, ExportJob.Options.from(c)).run();
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  /** Relative path -> SHA-256 of every file under {@code dir}. */
  static Map<String, String> digests(Path dir) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.put(dir.relativize(p).toString(), sha256(Files.readAllBytes(p)));
      }
    }
    return out;
  }

  static List<String> okUids() {
    return input.values().stream()
        .filter(r -> PairStatus.OK.equals(r.getAs(Columns.PAIR_STATUS)))
        .map(r -> (String) r.getAs(Columns.UID))
        .sorted()
        .toList();
  }

  @Test
  void webdatasetShardsHoldTheInputRowsByteForByte() throws Exception {
    Path out = tmp.resolve("wds");
    ExportJob.Result r =
        export(
            scored, out.toString(), "webdataset", ExportJob.Options.SAMPLES_PER_SHARD, PER_SHARD);
    List<String> uids = okUids();
    long notOk = input.size() - uids.size();
    assertThat(notOk).as("the fixture has failed downloads").isPositive();
    assertThat(r.rows()).as("rows exported").isEqualTo(uids.size());
    assertThat(r.skipped().values().stream().mapToLong(Long::longValue).sum())
        .as("rows skipped, counted")
        .isEqualTo(notOk);
    int shards = (uids.size() + PER_SHARD - 1) / PER_SHARD;
    assertThat(r.units()).as("shards").isEqualTo(shards);

    JsonNode wds = PythonReader.read("wds", out.toString());
    List<String> names = new ArrayList<>();
    wds.get("shards").fieldNames().forEachRemaining(names::add);
    List<String> expectedNames = new ArrayList<>();
    for (int i = 0; i < shards; i++) {
      expectedNames.add(String.format("%05d.tar", i));
    }
    assertThat(names).as("shard names").isEqualTo(expectedNames);
    assertThat(wds.get("files").toString())
        .as("no temporary or progress files are left")
        .doesNotContain(".tmp-")
        .doesNotContain(ExportOutput.PROGRESS_DIR);

    int ordinal = 0;
    int pngs = 0;
    for (String name : names) {
      JsonNode shard = wds.get("shards").get(name);
      assertThat(shard.get("headers").toString())
          .as("fixed tar headers of %s: mtime 0, owner 0:0 unnamed, mode 0644, regular", name)
          .isEqualTo("[[0,0,0,\"\",\"\",420,\"0\"]]");
      JsonNode members = shard.get("members");
      for (JsonNode s : shard.get("samples")) {
        String uid = uids.get(ordinal);
        Row in = input.get(uid);
        String key =
            String.format(Locale.ROOT, "%05d%02d", ordinal / PER_SHARD, ordinal % PER_SHARD);
        assertThat(s.get("key").asText()).as("key of ordinal %d", ordinal).isEqualTo(key);
        byte[] img = in.getAs(Columns.JPG);
        assertThat(s.get("sha256").asText())
            .as("image bytes of %s are the input's, not re-encoded", uid)
            .isEqualTo(sha256(img));
        String ext = s.get("ext").asText();
        boolean jpeg = (img[0] & 0xff) == 0xff && (img[1] & 0xff) == 0xd8;
        boolean png = img.length > 4 && img[1] == 'P' && img[2] == 'N' && img[3] == 'G';
        if (jpeg || png) {
          assertThat(ext).as("extension of %s from its bytes", uid).isEqualTo(jpeg ? "jpg" : "png");
        } else { // an injected corrupt image: the URL's extension or jpg
          assertThat(ext).as("extension of corrupt %s", uid).isIn("jpg", "png");
        }
        pngs += ext.equals("png") ? 1 : 0;
        assertThat(s.get("caption").asText()).as("caption").isEqualTo(in.getAs(Columns.CAPTION));
        JsonNode j = s.get("json");
        assertThat(j.get("uid").asText()).as("json uid").isEqualTo(uid);
        assertThat(j.get("key").asText()).as("json key").isEqualTo(key);
        assertThat(j.get("url").asText()).as("json url").isEqualTo(in.getAs(Columns.URL));
        assertThat(j.get("caption").asText())
            .as("json caption")
            .isEqualTo(in.getAs(Columns.CAPTION));
        assertThat(j.get("query").asText()).as("json query").isEqualTo(in.getAs(Columns.QUERY));
        for (String score : ExportInput.SCORES) {
          Object v = in.getAs(score);
          assertThat(j.has(score)).as("json has %s", score).isTrue();
          if (v == null) {
            assertThat(j.get(score).isNull()).as("%s null", score).isTrue();
          } else {
            assertThat(j.get(score).isNumber()).as("%s is a JSON number", score).isTrue();
            assertThat(j.get(score).asDouble())
                .as("%s of %s", score, uid)
                .isEqualTo(((Number) v).doubleValue());
          }
        }
        assertThat(j.has(Columns.IMAGE_EMBEDDING) || j.has(WebDatasetFormat.IMAGE))
            .as("no embeddings or image bytes in the json")
            .isFalse();
        ordinal++;
      }
      // WebDataset groups a sample's members by key: they must be adjacent.
      for (int m = 0; m < members.size(); m += 3) {
        String k = members.get(m).asText().split("\\.")[0];
        assertThat(members.get(m + 1).asText()).as("txt after the image").isEqualTo(k + ".txt");
        assertThat(members.get(m + 2).asText()).as("then json").isEqualTo(k + ".json");
      }
    }
    assertThat(ordinal).as("every exported row read back").isEqualTo(uids.size());
    assertThat(pngs).as("PNG images keep their extension").isPositive();

    JsonNode sizes = wds.get("sizes.json");
    long sum = 0;
    for (String name : names) {
      long n = sizes.get(name).asLong();
      assertThat(n)
          .as("sizes.json of %s", name)
          .isEqualTo(Math.min(PER_SHARD, uids.size() - (long) names.indexOf(name) * PER_SHARD));
      sum += n;
    }
    assertThat(sum).as("sizes.json adds up").isEqualTo(uids.size());
    JsonNode manifest = wds.get("_manifest.json");
    assertThat(manifest.get("complete").asBoolean()).as("manifest complete").isTrue();
    assertThat(manifest.get("format").asText()).isEqualTo("webdataset");
    assertThat(manifest.get("total").asLong()).as("manifest total").isEqualTo(uids.size());
    for (JsonNode s : manifest.get("shards")) {
      Path f = out.resolve(s.get("name").asText());
      assertThat(s.get("sha256").asText())
          .as("manifest sha256 of %s", f)
          .isEqualTo(sha256(Files.readAllBytes(f)));
      assertThat(s.get("samples").asLong()).isEqualTo(sizes.get(s.get("name").asText()).asLong());
    }

    // Deterministic: another run, at another shuffle parallelism, writes the same bytes.
    Path again = tmp.resolve("wds-again");
    spark.conf().set("spark.sql.shuffle.partitions", "3");
    try {
      export(
          scored, again.toString(), "webdataset", ExportJob.Options.SAMPLES_PER_SHARD, PER_SHARD);
    } finally {
      spark.conf().set("spark.sql.shuffle.partitions", "4");
    }
    assertThat(digests(again)).as("a second export is byte-identical").isEqualTo(digests(out));
  }

  @Test
  void anInterruptedExportResumesToByteIdenticalFiles() throws Exception {
    Path clean = tmp.resolve("resume-clean");
    export(scored, clean.toString(), "webdataset", ExportJob.Options.SAMPLES_PER_SHARD, PER_SHARD);
    Map<String, String> want = digests(clean);

    // A task fails between writing shard 2 and renaming it: the job fails.
    Path out = tmp.resolve("resume");
    AtomicFile.beforeCommit =
        unit -> {
          if (unit == 2) {
            throw new IllegalStateException("injected failure before the commit of shard 2");
          }
        };
    assertThatThrownBy(
            () ->
                export(
                    scored,
                    out.toString(),
                    "webdataset",
                    ExportJob.Options.SAMPLES_PER_SHARD,
                    PER_SHARD))
        .as("the export fails")
        .hasStackTraceContaining("injected failure");
    AtomicFile.beforeCommit = null;
    awaitNoActiveStages();
    Map<String, String> left = digests(out);
    assertThat(left).as("shard 2 is not visible").doesNotContainKey("00002.tar");
    left.forEach(
        (f, sha) -> {
          if (f.endsWith(".tar") && !f.startsWith(".")) {
            assertThat(sha).as("a visible shard %s is complete", f).isEqualTo(want.get(f));
          }
        });
    JsonNode manifest =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(out.resolve(ExportOutput.MANIFEST_FILE).toFile());
    assertThat(manifest.get("complete").asBoolean()).as("manifest says unfinished").isFalse();

    // What a killed driver or executor leaves on top: a stale temporary file, a shard renamed
    // whose marker never came, a truncated shard behind a marker.
    Files.write(out.resolve(".00002.tar" + AtomicFile.TMP_INFIX + "99"), new byte[] {1, 2, 3});
    Path progress = out.resolve(ExportOutput.PROGRESS_DIR);
    Files.createDirectories(progress);
    Files.deleteIfExists(progress.resolve(UnitTask.markerName(0)));
    Files.write(out.resolve("00000.tar"), Files.readAllBytes(clean.resolve("00000.tar")));
    Path one = out.resolve("00001.tar");
    if (Files.exists(one)) {
      Files.write(one, new byte[100]);
    }
    Files.write(out.resolve("00003.tar"), new byte[] {9});
    int validMarkers = 0;
    try (Stream<Path> s = Files.list(progress)) {
      for (Path m : s.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
        Unit u =
            Unit.fromJson(
                new com.fasterxml.jackson.databind.ObjectMapper()
                    .readValue(
                        m.toFile(),
                        new com.fasterxml.jackson.core.type.TypeReference<
                            Map<String, Object>>() {}));
        Path f = out.resolve(u.files().get(0).path());
        if (Files.exists(f) && Files.size(f) == u.files().get(0).bytes()) {
          validMarkers++;
        }
      }
    }

    ExportJob.Result resumed =
        export(
            scored, out.toString(), "webdataset", ExportJob.Options.SAMPLES_PER_SHARD, PER_SHARD);
    assertThat(resumed.unitsKept())
        .as("shards with a valid marker are kept")
        .isEqualTo(validMarkers);
    assertThat(digests(out)).as("resumed export == uninterrupted export").isEqualTo(want);

    assertThatThrownBy(() -> export(scored, out.toString(), "webdataset"))
        .as("a finished export is not rewritten without --overwrite")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.OUTPUT_EXISTS));
    export(scored, out.toString(), "webdataset", StageKeys.OVERWRITE, true);
    assertThat(digests(out).keySet())
        .as("--overwrite replaces it (default shard size: one shard)")
        .contains("00000.tar", "sizes.json", ExportOutput.MANIFEST_FILE)
        .doesNotContain("00001.tar");
  }

  @Test
  void anUnfinishedExportOfOtherOptionsIsNotMixedIn() throws Exception {
    Path out = tmp.resolve("mismatch");
    AtomicFile.beforeCommit =
        unit -> {
          throw new IllegalStateException("injected");
        };
    assertThatThrownBy(
            () ->
                export(
                    scored,
                    out.toString(),
                    "webdataset",
                    ExportJob.Options.SAMPLES_PER_SHARD,
                    PER_SHARD))
        .hasStackTraceContaining("injected");
    AtomicFile.beforeCommit = null;
    awaitNoActiveStages();
    assertThatThrownBy(
            () ->
                export(
                    scored, out.toString(), "webdataset", ExportJob.Options.SAMPLES_PER_SHARD, 30))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.EXPORT_RESUME_MISMATCH))
        .hasMessageContaining("options");
  }

  @Test
  void clipRetrievalPartsAlignEmbeddingsWithMetadata() throws Exception {
    Path out = tmp.resolve("clip-retrieval");
    ExportJob.Result r =
        export(scored, out.toString(), "clip-retrieval", ExportJob.Options.ROWS_PER_PART, PER_PART);
    List<String> uids =
        input.values().stream()
            .filter(x -> PairStatus.OK.equals(x.getAs(Columns.PAIR_STATUS)))
            .filter(x -> x.getAs(Columns.IMAGE_EMBEDDING) != null)
            .map(x -> (String) x.getAs(Columns.UID))
            .sorted()
            .toList();
    assertThat(uids.size()).as("corrupt images have no embedding").isLessThan(okUids().size());
    assertThat(r.rows()).as("rows with both embeddings").isEqualTo(uids.size());
    assertThat(r.skipped().keySet())
        .as("skip reasons")
        .anyMatch(k -> k.startsWith("no image_embedding: embed_status=image:"));
    int parts = (uids.size() + PER_PART - 1) / PER_PART;
    assertThat(r.units()).as("parts").isEqualTo(parts);

    List<String> npys = new ArrayList<>();
    for (int i = 0; i < parts; i++) {
      npys.add(out.resolve("img_emb/img_emb_" + i + ".npy").toString());
      npys.add(out.resolve("text_emb/text_emb_" + i + ".npy").toString());
    }
    List<String> args = new ArrayList<>(List.of("npy"));
    args.addAll(npys);
    JsonNode npy = PythonReader.read(args.toArray(String[]::new));
    int ordinal = 0;
    for (int i = 0; i < parts; i++) {
      JsonNode img = npy.get(npys.get(2 * i));
      JsonNode txt = npy.get(npys.get(2 * i + 1));
      List<Row> meta =
          spark
              .read()
              .parquet(out.resolve("metadata/metadata_" + i + ".parquet").toString())
              .collectAsList();
      int n = Math.min(PER_PART, uids.size() - i * PER_PART);
      for (JsonNode a : List.of(img, txt)) {
        assertThat(a.get("dtype").asText()).as("float16").isEqualTo("<f2");
        assertThat(a.get("shape").toString()).as("shape [n, D]").isEqualTo("[" + n + ",32]");
        assertThat(a.get("numpy_save_equal").asBoolean()).as("numpy's own header").isTrue();
        assertThat(a.get("header_len").asInt() % 64).as("64-aligned header").isZero();
        for (JsonNode norm : a.get("norms")) {
          assertThat(norm.asDouble()).as("L2 norm").isCloseTo(1.0, offset(2e-3));
        }
      }
      assertThat(meta).as("metadata rows of part %d", i).hasSize(n);
      StructType schema = meta.get(0).schema();
      assertThat(List.of(schema.fieldNames()).subList(0, 5))
          .as("clip-retrieval's column order")
          .containsExactly("image_path", "caption", "uid", "url", "query");
      assertThat(List.of(schema.fieldNames())).as("score columns").contains("clip_score");
      for (int j = 0; j < n; j++, ordinal++) {
        Row m = meta.get(j);
        String uid = m.getAs("uid");
        assertThat(uid).as("row %d in uid order", ordinal).isEqualTo(uids.get(ordinal));
        Row in = input.get(uid);
        assertThat((String) m.getAs("image_path"))
            .as("image_path is the webdataset key")
            .isEqualTo(WebDatasetFormat.key(ordinal, ExportJob.Options.SAMPLES_PER_SHARD_DEFAULT));
        assertThat((String) m.getAs("caption")).isEqualTo(in.getAs(Columns.CAPTION));
        assertThat(((Number) m.getAs("clip_score")).doubleValue())
            .as("clip_score")
            .isEqualTo(((Number) in.getAs(Columns.CLIP_SCORE)).doubleValue());
        assertClose(
            img.get("values").get(j), in.getList(in.fieldIndex(Columns.IMAGE_EMBEDDING)), uid);
        assertClose(
            txt.get("values").get(j), in.getList(in.fieldIndex(Columns.TEXT_EMBEDDING)), uid);
      }
    }
    assertThat(ordinal).as("every row").isEqualTo(uids.size());
  }

  static void assertClose(JsonNode exported, List<Object> original, String uid) {
    assertThat(exported.size()).as("width").isEqualTo(original.size());
    for (int k = 0; k < original.size(); k++) {
      assertThat(exported.get(k).asDouble())
          .as("embedding %d of %s within float16 rounding", k, uid)
          .isCloseTo(((Number) original.get(k)).doubleValue(), offset(1e-3));
    }
  }

  @Test
  void dataCompUidsAreSortedDistinctAndDataCompsOwnBytes() throws Exception {
    Random rnd = new Random(8);
    List<Row> rows = new ArrayList<>();
    TreeSet<String> distinct = new TreeSet<>();
    for (int i = 0; i < 60; i++) {
      String uid = String.format("%016x%016x", rnd.nextLong(), rnd.nextLong());
      distinct.add(uid);
      rows.add(RowFactory.create(uid, "https://dc.example/" + i + ".jpg", "a photo " + i));
      if (i % 10 == 0) { // the same uid again, once in upper case
        String again = i % 20 == 0 ? uid.toUpperCase(Locale.ROOT) : uid;
        rows.add(RowFactory.create(again, "https://dc.example/" + i + "b.jpg", "a photo " + i));
      }
    }
    rows.add(
        RowFactory.create("ffffffffffffffff0000000000000000", "https://dc.example/max", "max"));
    distinct.add("ffffffffffffffff0000000000000000");
    String dc = write(rows, "datacomp");
    Path out = tmp.resolve("dc-out");
    ExportJob.Result r = export(dc, out.toString(), "datacomp-uids");
    assertThat(r.rows()).as("distinct uids").isEqualTo(distinct.size());
    JsonNode u = PythonReader.read("uids", out.resolve(DataCompUidFormat.FILE).toString());
    assertThat(u.get("descr").asText()).as("dtype").isEqualTo("[('f0', '<u8'), ('f1', '<u8')]");
    assertThat(u.get("shape").toString()).as("shape (n,)").isEqualTo("[" + distinct.size() + "]");
    List<String> read = new ArrayList<>();
    u.get("uids").forEach(x -> read.add(x.asText()));
    assertThat(read).as("sorted, distinct, the input's uids").isEqualTo(new ArrayList<>(distinct));
    assertThat(u.get("datacomp_save_equal").asBoolean())
        .as("the bytes DataComp's own construction saves")
        .isTrue();

    rows.add(RowFactory.create("abc123", "https://dc.example/short", "short"));
    String bad = write(rows, "datacomp-bad");
    assertThatThrownBy(() -> export(bad, tmp.resolve("dc-bad").toString(), "datacomp-uids"))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.EXPORT_BAD_DATACOMP_UID))
        .hasMessageContaining("'abc123'");
    assertThatThrownBy(() -> export(scored, tmp.resolve("dc-none").toString(), "datacomp-uids"))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.EXPORT_NO_DATACOMP_UIDS));
  }

  static String write(List<Row> rows, String name) {
    StructType schema =
        new StructType()
            .add(Columns.DATACOMP_UID, DataTypes.StringType)
            .add(Columns.URL, DataTypes.StringType)
            .add(Columns.TEXT, DataTypes.StringType);
    String path = tmp.resolve(name).toString();
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    df.repartition(3).write().parquet(path);
    return path;
  }

  @Test
  void inputsWithoutWhatAFormatNeedsFailWithTheirIds() {
    assertThatThrownBy(() -> export(raw, tmp.resolve("e1").toString(), "clip-retrieval"))
        .as("clip-retrieval of unembedded pairs")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.EXPORT_NO_EMBEDDINGS));
    assertThatThrownBy(
            () ->
                export(
                    scored,
                    tmp.resolve("e2").toString(),
                    "webdataset",
                    StageKeys.IMAGE_COL,
                    "none"))
        .as("webdataset without images")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.EXPORT_NO_IMAGES));
    assertThatThrownBy(
            () ->
                export(
                    scored,
                    tmp.resolve("e3").toString(),
                    "webdataset",
                    ExportJob.Options.SAMPLES_PER_SHARD,
                    0))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.OPTION_OUT_OF_RANGE));
    assertThat(tmp.resolve("e1")).as("a refused export writes nothing").doesNotExist();
  }

  @Test
  void theCommandExportsThroughPicocli() throws Exception {
    Path out = tmp.resolve("cli-wds");
    String[] res = cli("export", scored, "--out", out.toString(), "--samples-per-shard", "50");
    assertThat(res[0]).as("exit code; stderr: %s", res[2]).isEqualTo("0");
    assertThat(res[1]).as("summary printed").contains("as webdataset").contains("_manifest.json");
    JsonNode wds = PythonReader.read("wds", out.toString());
    int n = okUids().size();
    assertThat(wds.get("shards").size()).as("shards of 50").isEqualTo((n + 49) / 50);
    long sum = 0;
    for (JsonNode v : wds.get("sizes.json")) {
      sum += v.asLong();
    }
    assertThat(sum).as("sizes.json").isEqualTo(n);

    String[] bad =
        cli(
            "export",
            raw,
            "--out",
            tmp.resolve("cli-bad").toString(),
            "--format",
            "clip-retrieval");
    assertThat(bad[0]).as("a user error exits 2").isEqualTo("2");
    assertThat(bad[2]).as("message with the id").contains("[EXPORT_NO_EMBEDDINGS]");
    String[] unknown =
        cli("export", raw, "--out", tmp.resolve("cli-u").toString(), "--format", "x");
    assertThat(unknown[2]).as("unknown format").contains("[OPTION_UNKNOWN_VALUE]");
  }

  /** Runs the CLI in-process: {exit code, stdout, stderr}. */
  static String[] cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = SparkclipCli.execute(concat(args, "--quiet"));
      return new String[] {
        String.valueOf(code), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)
      };
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  static String[] concat(String[] a, String b) {
    String[] c = java.util.Arrays.copyOf(a, a.length + 1);
    c[a.length] = b;
    return c;
  }

  /** A failed job's other tasks are cancelled asynchronously; wait until none runs. */
  static void awaitNoActiveStages() throws InterruptedException {
    for (int i = 0;
        i < 200 && spark.sparkContext().statusTracker().getActiveStageIds().length > 0;
        i++) {
      Thread.sleep(50);
    }
    Thread.sleep(200);
  }
}
