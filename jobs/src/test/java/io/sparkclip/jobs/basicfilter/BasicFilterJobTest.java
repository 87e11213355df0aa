package io.sparkclip.jobs.basicfilter;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Schemas;
import io.sparkclip.schemas.Stages;
import io.sparkclip.schemas.Uid;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Every caption and image check rejects exactly the rows an independent oracle computes from the
 * fixture's own description of each row: the size an image was drawn at (never read back from its
 * bytes), whether its header was cut away, its byte length, and the caption's words and characters
 * counted the way Python's {@code split()} and {@code len()} count them (DataComp's filter is
 * Python). The fixture holds edge values at every bound, JPEG, PNG, GIF, BMP and WebP images, a
 * very wide one, a JPEG cut in its scan data (header intact), one cut before its frame header,
 * random bytes, zero bytes, a failed download and img2dataset width/height columns that disagree
 * with the bytes. The language check is off here ({@code languages = [any]}); see
 * BasicFilterLanguageTest.
 */
class BasicFilterJobTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static String raw;
  static String metadata;

  /**
   * One fixture pair and what the oracle knows of it: the size the image was drawn at, or null when
   * its header was destroyed on purpose.
   */
  record Pair(
      String key,
      String caption,
      byte[] image,
      String status,
      Integer widthCol,
      Integer heightCol,
      Integer drawnWidth,
      Integer drawnHeight) {
    String url() {
      return "https://img.example/" + key + ".jpg";
    }

    String uid() {
      return Uid.of(url(), caption);
    }
  }

  /** The bounds a run uses, as the oracle reads them. */
  record Bounds(
      int minWords,
      int maxWords,
      int minChars,
      int maxChars,
      long minBytes,
      int minSide,
      double maxAspect) {}

  static final String GOOD = "a photo of a cat";
  static final List<Pair> PAIRS = new ArrayList<>();
  static final Random RANDOM = new Random(16);

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("BasicFilterJobTest");
    captions();
    images();
    raw = tmp.resolve("raw").toString();
    List<Row> rows = new ArrayList<>();
    for (Pair p : PAIRS) {
      rows.add(
          RowFactory.create(
              "cat",
              p.caption(),
              p.url(),
              p.key(),
              p.status(),
              p.status().equals("success") ? null : "HTTP Error 404: Not Found",
              p.widthCol(),
              p.heightCol(),
              p.widthCol(),
              p.heightCol(),
              null,
              null,
              p.image()));
    }
    spark.createDataFrame(rows, Schemas.IMG2DATASET).repartition(3).write().parquet(raw);
    metadata = tmp.resolve("datacomp").toString();
    writeDataCompMetadata(metadata);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static void add(String key, String caption, byte[] image, Integer w, Integer h) {
    PAIRS.add(new Pair(key, caption, image, "success", w, h, w, h));
  }

  static void captions() {
    byte[] img = image("jpeg", 320, 240);
    String sixty = "x".repeat(19) + " " + "y".repeat(20) + " " + "z".repeat(19);
    List<String> captions =
        List.of(
            "two words", // 2 words
            "a b c", // 3 words, 5 characters
            "ab c d", // 3 words, 6 characters: both DataComp bounds met exactly
            "red\u00a0car photo", // a no-break space splits words in Python: 3 words
            "   ab   ", // 1 word, 8 characters
            "one two three four five six seven eight", // 8 words
            "one two three four five six seven eight nine", // 9 words
            sixty, // 60 characters
            sixty + "!", // 61 characters
            "\uD83D\uDC31 a b", // 5 code points, 6 UTF-16 units
            "\uD83D\uDC31\uD83D\uDC31 a b", // 6 code points
            "a\tb\nc def", // tab and newline separate words
            "   ");
    for (int i = 0; i < captions.size(); i++) {
      add("c" + i, captions.get(i), img, 320, 240);
    }
    PAIRS.add(new Pair("c-null", null, img, "success", 320, 240, 320, 240));
  }

  static void images() {
    add("i-jpeg", GOOD, image("jpeg", 320, 240), 320, 240);
    add("i-png-200", GOOD, image("png", 200, 200), 200, 200);
    add("i-jpeg-199", GOOD, image("jpeg", 199, 300), 199, 300);
    add("i-png-3to1", GOOD, image("png", 200, 600), 200, 600);
    add("i-jpeg-603", GOOD, image("jpeg", 603, 201), 603, 201);
    add("i-jpeg-604", GOOD, image("jpeg", 604, 201), 604, 201);
    add("i-png-wide", GOOD, image("png", 2400, 200), 2400, 200);
    add("i-gif", GOOD, image("gif", 250, 250), 250, 250);
    add("i-bmp", GOOD, image("bmp", 300, 220), 300, 220);
    add("i-webp-4to1", GOOD, webp(800, 200), 800, 200);
    add("i-webp", GOOD, webp(300, 250), 300, 250);
    add("i-flat-png", GOOD, flatPng(300, 300), 300, 300);
    byte[] jpeg = image("jpeg", 320, 240);
    add("i-jpeg-half", GOOD, Arrays.copyOf(jpeg, jpeg.length / 2), 320, 240);
    PAIRS.add(
        new Pair("i-jpeg-20b", GOOD, Arrays.copyOf(jpeg, 20), "success", 320, 240, null, null));
    byte[] noise = new byte[6000];
    RANDOM.nextBytes(noise);
    noise[0] = 0x13;
    PAIRS.add(new Pair("i-random", GOOD, noise, "success", 320, 240, null, null));
    byte[] junkJpeg = new byte[6000];
    RANDOM.nextBytes(junkJpeg);
    junkJpeg[0] = (byte) 0xFF;
    junkJpeg[1] = (byte) 0xD8;
    PAIRS.add(new Pair("i-jpeg-magic-junk", GOOD, junkJpeg, "success", 320, 240, null, null));
    PAIRS.add(new Pair("i-empty", GOOD, new byte[0], "success", 320, 240, null, null));
    PAIRS.add(new Pair("i-failed", GOOD, null, "failed_to_download", null, null, null, null));
    // img2dataset's width/height columns contradict the bytes: the bytes decide.
    PAIRS.add(
        new Pair("i-cols-too-big", GOOD, image("jpeg", 150, 150), "success", 1024, 1024, 150, 150));
    PAIRS.add(
        new Pair("i-cols-too-small", GOOD, image("jpeg", 640, 480), "success", 100, 100, 640, 480));
  }

  /** Noise, so that encoded sizes are far above the byte bound the run uses. */
  static byte[] image(String format, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, RANDOM.nextInt(0x1000000));
      }
    }
    return encode(img, format);
  }

  static byte[] flatPng(int w, int h) {
    return encode(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png");
  }

  static byte[] encode(BufferedImage img, String format) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    try {
      assertThat(ImageIO.write(img, format, o)).as("ImageIO writes " + format).isTrue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return o.toByteArray();
  }

  /** WebP through OpenCV's libwebp (the JDK writes no WebP). */
  static byte[] webp(int w, int h) {
    nu.pattern.OpenCV.loadLocally();
    Mat m = new Mat(h, w, CvType.CV_8UC3);
    Core.randu(m, 0, 256);
    MatOfByte buf = new MatOfByte();
    assertThat(Imgcodecs.imencode(".webp", m, buf)).as("libwebp encodes").isTrue();
    return buf.toArray();
  }

  // ------------------------------------------------------------------------------------ oracle

  static final Pattern PY_WHITESPACE = Pattern.compile("[\\p{javaWhitespace}\\p{Z}\\x85]+");

  /** Python's len(caption.split()). */
  static int pyWords(String caption) {
    return (int) Arrays.stream(PY_WHITESPACE.split(caption)).filter(s -> !s.isEmpty()).count();
  }

  /** The reason the oracle expects for a pair (null: kept), in the documented check order. */
  static String expected(Pair p, Bounds b) {
    boolean noCaption = p.caption() == null || p.caption().isBlank();
    boolean noImage = p.image() == null || p.image().length == 0;
    if (noCaption && noImage) {
      return PairStatus.MISSING_IMAGE_AND_CAPTION;
    }
    if (noImage) {
      return PairStatus.MISSING_IMAGE;
    }
    if (noCaption) {
      return PairStatus.MISSING_CAPTION;
    }
    int words = pyWords(p.caption());
    long chars = p.caption().codePoints().count();
    if (words < b.minWords()) {
      return RejectReason.CAPTION_TOO_FEW_WORDS;
    }
    if (b.maxWords() > 0 && words > b.maxWords()) {
      return RejectReason.CAPTION_TOO_MANY_WORDS;
    }
    if (chars < b.minChars()) {
      return RejectReason.CAPTION_TOO_SHORT;
    }
    if (b.maxChars() > 0 && chars > b.maxChars()) {
      return RejectReason.CAPTION_TOO_LONG;
    }
    if (p.image().length < b.minBytes()) {
      return RejectReason.IMAGE_FILE_TOO_SMALL;
    }
    if (p.drawnWidth() == null) {
      return RejectReason.IMAGE_SIZE_UNREADABLE;
    }
    int lo = Math.min(p.drawnWidth(), p.drawnHeight());
    int hi = Math.max(p.drawnWidth(), p.drawnHeight());
    if (lo < b.minSide()) {
      return RejectReason.IMAGE_TOO_SMALL;
    }
    if (b.maxAspect() > 0 && hi > b.maxAspect() * lo) {
      return RejectReason.EXTREME_ASPECT_RATIO;
    }
    return null;
  }

  /** uid → reason (null = kept) as written: data/ and rejects/. */
  static Map<String, String> outcome(String out) {
    Map<String, String> m = new HashMap<>();
    spark
        .read()
        .parquet(CurationOutput.data(out))
        .select(Columns.UID)
        .collectAsList()
        .forEach(r -> m.put(r.getString(0), null));
    spark
        .read()
        .parquet(CurationOutput.rejects(out))
        .collectAsList()
        .forEach(
            r -> {
              assertThat(r.<String>getAs(Columns.STAGE))
                  .as("stage label of %s", r.<String>getAs(Columns.UID))
                  .isEqualTo(Stages.REJECT_BASIC_FILTER);
              String uid = r.getAs(Columns.UID);
              assertThat(m.containsKey(uid)).as("uid %s rejected once and not kept", uid).isFalse();
              m.put(uid, r.getAs(Columns.REASON));
            });
    return m;
  }

  static Map<String, String> byKey(Map<String, String> byUid) {
    Map<String, String> m = new TreeMap<>();
    for (Pair p : PAIRS) {
      m.put(p.key(), byUid.getOrDefault(p.uid(), "(missing)"));
    }
    return m;
  }

  static Map<String, String> expectedByKey(Bounds b) {
    Map<String, String> m = new TreeMap<>();
    PAIRS.forEach(p -> m.put(p.key(), expected(p, b)));
    return m;
  }

  static CurationSummary run(String input, String out, Map<String, Object> keys) {
    StageConf c = StageConf.io(input, out);
    for (Map.Entry<String, Object> e : keys.entrySet()) {
      c = c.with(e.getKey(), e.getValue());
    }
    BasicFilterStage stage = new BasicFilterStage();
    return stage.run(spark, stage.options(c));
  }

  // ------------------------------------------------------------------------------------- tests

  @Test
  void everyBoundOnRejectsExactlyWhatTheOracleRejects() throws IOException {
    String out = tmp.resolve("all-bounds").toString();
    Bounds b = new Bounds(3, 8, 6, 60, 2000, 200, 3.0);
    CurationSummary s =
        run(
            raw,
            out,
            Map.of(
                BasicFilterJob.Options.MAX_CAPTION_WORDS, b.maxWords(),
                BasicFilterJob.Options.MAX_CAPTION_CHARS, b.maxChars(),
                BasicFilterJob.Options.MIN_IMAGE_BYTES, b.minBytes(),
                BasicFilterJob.Options.LANGUAGES, List.of("any")));
    assertThat(PAIRS.stream().filter(p -> p.key().equals("i-flat-png")).findFirst().orElseThrow())
        .as("the flat PNG is under the byte bound, the noise images over it")
        .matches(p -> p.image().length < b.minBytes());
    assertThat(
            PAIRS.stream()
                .filter(p -> p.drawnWidth() != null && !p.key().equals("i-flat-png"))
                .allMatch(p -> p.image().length >= b.minBytes()))
        .as("every drawn image but the flat PNG has at least %d bytes", b.minBytes())
        .isTrue();

    Map<String, String> expected = expectedByKey(b);
    assertThat(byKey(outcome(out))).as("reason per pair (null: kept)").isEqualTo(expected);
    assertThat(new TreeSet<>(expected.values().stream().filter(v -> v != null).toList()))
        .as("the fixture exercises every caption and image reason")
        .containsAll(
            List.of(
                RejectReason.CAPTION_TOO_FEW_WORDS,
                RejectReason.CAPTION_TOO_MANY_WORDS,
                RejectReason.CAPTION_TOO_SHORT,
                RejectReason.CAPTION_TOO_LONG,
                RejectReason.IMAGE_FILE_TOO_SMALL,
                RejectReason.IMAGE_SIZE_UNREADABLE,
                RejectReason.IMAGE_TOO_SMALL,
                RejectReason.EXTREME_ASPECT_RATIO,
                PairStatus.MISSING_IMAGE,
                PairStatus.MISSING_CAPTION));
    assertThat(expected.values()).as("and keeps some").containsNull();
    CurationChecks.assertAccounting(spark, "basic-filter, every bound", prepared(raw), out, s);
    assertThat(spark.read().parquet(CurationOutput.data(out)).schema().fieldNames())
        .as("no language columns without the language check")
        .doesNotContain(Columns.LANGUAGE, Columns.LANGUAGE_CONFIDENCE);
  }

  @Test
  void theCommandRunsTheStageWithItsFlags() {
    String out = tmp.resolve("cli").toString();
    int code =
        SparkclipCli.execute(
            "basic-filter",
            raw,
            "--out",
            out,
            "--quiet",
            "--languages",
            "any",
            "--min-image-bytes",
            "2000",
            "--max-caption-words",
            "8",
            "--max-caption-chars",
            "60");
    assertThat(code).as("exit code").isZero();
    assertThat(byKey(outcome(out)))
        .as("the flags are the keys: the same outcome as the stage with every bound")
        .isEqualTo(expectedByKey(new Bounds(3, 8, 6, 60, 2000, 200, 3.0)));
    assertThat(
            SparkclipCli.execute(
                "basic-filter",
                raw,
                "--out",
                tmp.resolve("bad").toString(),
                "--max-aspect-ratio",
                "0.5"))
        .as("a bad option: exit code 2 before any work")
        .isEqualTo(2);
  }

  @Test
  void theDefaultsAreDataCompsBasicFilter() throws IOException {
    String out = tmp.resolve("defaults").toString();
    CurationSummary s = run(raw, out, Map.of(BasicFilterJob.Options.LANGUAGES, List.of("any")));
    Bounds datacomp = new Bounds(3, 0, 6, 0, 0, 200, 3.0);
    assertThat(byKey(outcome(out)))
        .as("reason per pair under DataComp's bounds")
        .isEqualTo(expectedByKey(datacomp));
    assertThat(byKey(outcome(out)))
        .as("edge values: kept at the bounds, rejected just past them")
        .containsEntry("c2", null)
        .containsEntry("c1", RejectReason.CAPTION_TOO_SHORT)
        .containsEntry("c3", null)
        .containsEntry("c9", RejectReason.CAPTION_TOO_SHORT)
        .containsEntry("c10", null)
        .containsEntry("i-png-200", null)
        .containsEntry("i-jpeg-199", RejectReason.IMAGE_TOO_SMALL)
        .containsEntry("i-png-3to1", null)
        .containsEntry("i-jpeg-603", null)
        .containsEntry("i-jpeg-604", RejectReason.EXTREME_ASPECT_RATIO)
        .containsEntry("i-png-wide", RejectReason.EXTREME_ASPECT_RATIO)
        .containsEntry("i-webp-4to1", RejectReason.EXTREME_ASPECT_RATIO)
        .containsEntry("i-jpeg-half", null)
        .containsEntry("i-jpeg-20b", RejectReason.IMAGE_SIZE_UNREADABLE)
        .containsEntry("i-cols-too-big", RejectReason.IMAGE_TOO_SMALL)
        .containsEntry("i-cols-too-small", null)
        .containsEntry("i-empty", PairStatus.MISSING_IMAGE)
        .containsEntry("i-failed", PairStatus.MISSING_IMAGE);
    CurationChecks.assertAccounting(
        spark, "basic-filter, DataComp defaults", prepared(raw), out, s);
    Map<String, String> detail = new HashMap<>();
    spark
        .read()
        .parquet(CurationOutput.rejects(out))
        .collectAsList()
        .forEach(r -> detail.put(r.getAs(Columns.UID), r.getAs(Columns.DETAIL)));
    assertThat(detail.get(pair("i-jpeg-604").uid()))
        .as("the detail names the measured size and the bound")
        .isEqualTo("jpeg 604x201: aspect ratio 3.005 > 3");
    assertThat(detail.get(pair("i-cols-too-big").uid()))
        .as("the size is the header's, not the width/height columns'")
        .isEqualTo("jpeg 150x150: shortest side 150 < 200");
    assertThat(detail.get(pair("i-jpeg-20b").uid()))
        .as("why the header cannot be read")
        .startsWith("jpeg header unreadable");
    assertThat(s.details().get("image_size_from"))
        .as("summary: where sizes come from")
        .isEqualTo("image header (jpg)");
  }

  @Test
  void metadataOnlyInputIsCheckedOnItsOriginalSizeColumns() throws IOException {
    String out = tmp.resolve("datacomp-out").toString();
    CurationSummary s =
        run(metadata, out, Map.of(BasicFilterJob.Options.LANGUAGES, List.of("any")));
    Map<String, String> byUid = outcome(out);
    Map<String, String> got = new TreeMap<>();
    Map<String, String> want = new TreeMap<>();
    for (Row r : DATACOMP) {
      String uid = Uid.of(r.getString(1), r.getString(2));
      got.put(r.getString(0), byUid.getOrDefault(uid, "(missing)"));
      Integer w = (Integer) r.get(3);
      Integer h = (Integer) r.get(4);
      String e;
      if (w == null || h == null || w <= 0 || h <= 0) {
        e = RejectReason.IMAGE_SIZE_UNREADABLE;
      } else if (Math.min(w, h) < 200) {
        e = RejectReason.IMAGE_TOO_SMALL;
      } else if (Math.max(w, h) > 3.0 * Math.min(w, h)) {
        e = RejectReason.EXTREME_ASPECT_RATIO;
      } else {
        e = null;
      }
      want.put(r.getString(0), e);
    }
    assertThat(got).as("reason per DataComp row (null: kept)").isEqualTo(want);
    assertThat(want.values()).as("every size reason occurs, and kept rows").containsNull();
    assertThat(s.details().get("image_size_from"))
        .as("summary: where sizes come from")
        .isEqualTo("original_width x original_height columns");
    CurationChecks.assertAccounting(spark, "basic-filter, metadata", prepared(metadata), out, s);
  }

  /** DataComp metadata rows: its uid, url, text, original_width, original_height. */
  static final List<Row> DATACOMP =
      List.of(
          RowFactory.create("00000000000000000000000000000001", "https://d/1", GOOD, 200, 200),
          RowFactory.create("00000000000000000000000000000002", "https://d/2", GOOD, 199, 500),
          RowFactory.create("00000000000000000000000000000003", "https://d/3", GOOD, 600, 200),
          RowFactory.create("00000000000000000000000000000004", "https://d/4", GOOD, 601, 200),
          RowFactory.create("00000000000000000000000000000005", "https://d/5", GOOD, null, 300),
          RowFactory.create("00000000000000000000000000000006", "https://d/6", GOOD, 300, 0),
          RowFactory.create("00000000000000000000000000000007", "https://d/7", GOOD, 4000, 3000));

  static void writeDataCompMetadata(String path) {
    StructType schema =
        new StructType()
            .add(Columns.DATACOMP_UID, DataTypes.StringType, false /* nullable */)
            .add(Columns.URL, DataTypes.StringType, false /* nullable */)
            .add(Columns.TEXT, DataTypes.StringType, true /* nullable */)
            .add(Columns.ORIGINAL_WIDTH, DataTypes.IntegerType, true /* nullable */)
            .add(Columns.ORIGINAL_HEIGHT, DataTypes.IntegerType, true /* nullable */);
    spark.createDataFrame(DATACOMP, schema).write().parquet(path);
  }

  static Pair pair(String key) {
    return PAIRS.stream().filter(p -> p.key().equals(key)).findFirst().orElseThrow();
  }

  static org.apache.spark.sql.Dataset<Row> prepared(String path) {
    return CurationInput.read(spark, path, ColumnMapping.DETECT).pairs();
  }

  @Test
  void laionMetadataKeepsItsLanguageColumnAndIsCheckedOnItsSizeColumns() {
    StructType schema =
        new StructType()
            .add(Columns.LAION_URL, DataTypes.StringType, false /* nullable */)
            .add(Columns.LAION_TEXT, DataTypes.StringType, true /* nullable */)
            .add("WIDTH", DataTypes.IntegerType, true /* nullable */)
            .add("HEIGHT", DataTypes.IntegerType, true /* nullable */)
            .add("LANGUAGE", DataTypes.StringType, true /* nullable: LAION-2B-multi */);
    String in = tmp.resolve("laion-multi").toString();
    String caption = "a dog running on the beach";
    spark
        .createDataFrame(
            List.of(
                RowFactory.create("https://l/1", caption, 640, 480, "en"),
                RowFactory.create("https://l/2", caption, 150, 300, "en")),
            schema)
        .write()
        .parquet(in);
    String out = tmp.resolve("laion-multi-out").toString();
    CurationSummary s = run(in, out, Map.of());
    Row r = spark.read().parquet(CurationOutput.data(out)).first();
    assertThat(Set.of(r.schema().fieldNames()))
        .as("LAION's LANGUAGE as source_language, beside ours")
        .contains("source_language", Columns.LANGUAGE, Columns.LANGUAGE_CONFIDENCE)
        .doesNotContain("LANGUAGE");
    assertThat(r.<String>getAs(Columns.LANGUAGE)).as("identified").isEqualTo("en");
    assertThat(r.<String>getAs(Columns.LAION_URL))
        .as("the 640x480 row kept")
        .isEqualTo("https://l/1");
    assertThat(outcome(out))
        .as("the 150x300 row: too small by LAION's WIDTH/HEIGHT columns")
        .containsEntry(Uid.of("https://l/2", caption), RejectReason.IMAGE_TOO_SMALL)
        .hasSize(2);
    assertThat(s.details().get("image_size_from"))
        .as("summary: where sizes come from")
        .isEqualTo("WIDTH x HEIGHT columns");
  }
}
