package io.sparkclip.jobs.generate;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.InputLayout;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.Pairs;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateJobTest {
  private static SparkSession spark;
  @TempDir static Path tmp;
  private static String raw;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("GenerateJobTest");
    raw = tmp.resolve("raw").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(3000, raw).shardSize(1000).seed(7).build())
        .run();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static Dataset<Row> read(String dir) {
    return Paths.readParquet(spark, dir);
  }

  @Test
  void writesImg2datasetShardsThatDetectAsImg2dataset() {
    assertThat(new File(raw).list())
        .as("img2dataset shard names, ground truth, query list, summary")
        .contains(
            "00000.parquet",
            "00001.parquet",
            "00002.parquet",
            "_ground_truth",
            "_ground_truth_scenes",
            "queries.txt",
            "_sparkclip_generate.json");
    Dataset<Row> df = read(raw);
    assertThat(df.count()).as("row count").isEqualTo(3000);
    assertThat(LayoutDetector.detect(df.schema()).layout())
        .as("layout")
        .isEqualTo(InputLayout.IMG2DATASET);
    assertThat(df.select(Columns.KEY).distinct().count()).as("keys unique").isEqualTo(3000);
    assertThat(df.filter(col(Columns.KEY).equalTo("000021234")).count())
        .as("key = 5-digit shard + 4-digit index")
        .isEqualTo(0);
    assertThat(df.filter(col(Columns.KEY).equalTo("000020999")).count())
        .as("last key of shard 2")
        .isEqualTo(1);
  }

  @Test
  void sameSeedGivesByteIdenticalRowsDifferentSeedDoesNot() {
    String again = tmp.resolve("again").toString();
    String other = tmp.resolve("other").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(3000, again).shardSize(1000).seed(7).build())
        .run();
    new GenerateJob(spark, GenerateJob.Options.builder(3000, other).shardSize(1000).seed(8).build())
        .run();
    Dataset<Row> a = read(raw);
    Dataset<Row> b = read(again);
    assertThat(a.except(b).count()).as("rows of run 1 missing from run 2").isZero();
    assertThat(b.except(a).count()).as("rows of run 2 missing from run 1").isZero();
    for (String shard : List.of("00000.parquet", "00001.parquet", "00002.parquet")) {
      assertThat(new File(again, shard))
          .as("shard file " + shard + " byte-identical")
          .hasSameBinaryContentAs(new File(raw, shard));
    }
    assertThat(read(other).except(a).count())
        .as("another seed gives other rows")
        .isGreaterThan(2900);
  }

  @Test
  void everyFaultKindAppearsAndMatchesItsGroundTruth() throws IOException {
    Dataset<Row> gt = spark.read().parquet(raw + "/_ground_truth");
    Map<String, Long> counts = new HashMap<>();
    gt.groupBy(Columns.FAULT)
        .count()
        .toLocalIterator()
        .forEachRemaining(r -> counts.put(r.getString(0), r.getLong(1)));
    // Eval copies are opt-in (--eval-copies): DecontaminateJobTest generates and checks them.
    assertThat(counts.keySet())
        .as("every default fault kind injected")
        .containsExactlyInAnyOrderElementsOf(
            FaultKind.labels().stream()
                .filter(l -> !l.equals(FaultKind.EVAL_COPY.label()))
                .toList());

    Dataset<Row> rows = read(raw);
    Dataset<Row> pairs = Pairs.prepare(rows, LayoutDetector.detect(rows.schema()));
    // A few hundred ground-truth rows joined with their rows: small enough to check in the test.
    List<Row> faulty =
        pairs
            .join(gt.withColumnRenamed(Columns.KEY, "gt_key"), Columns.UID)
            .select(
                Columns.UID,
                Columns.FAULT,
                Columns.ORIGINAL_UID,
                Columns.DETAIL,
                Columns.CAPTION,
                Columns.URL,
                Columns.JPG,
                Columns.STATUS,
                Columns.PAIR_STATUS)
            .collectAsList();
    assertThat(faulty).as("every ground-truth uid is a row").hasSize((int) gt.count());
    Map<String, Row> byUid = new HashMap<>();
    pairs
        .join(gt.select(col(Columns.ORIGINAL_UID).as(Columns.UID)).distinct(), Columns.UID)
        .select(Columns.UID, Columns.CAPTION, Columns.URL, Columns.JPG)
        .collectAsList()
        .forEach(r -> byUid.put(r.getAs(Columns.UID), r));

    Map<String, Object[]> nearDuplicates = new HashMap<>();
    for (Row r : faulty) {
      FaultKind kind = FaultKind.fromLabel(r.getAs(Columns.FAULT));
      String what = kind.label() + " " + r.getAs(Columns.UID);
      byte[] jpg = r.getAs(Columns.JPG);
      switch (kind) {
        case EXACT_DUPLICATE, URL_DUPLICATE -> {
          Row orig = byUid.get(r.<String>getAs(Columns.ORIGINAL_UID));
          assertThat(orig).as(what + ": original exists").isNotNull();
          assertThat(jpg).as(what + ": same bytes").isEqualTo(orig.getAs(Columns.JPG));
          assertThat((String) r.getAs(Columns.CAPTION))
              .as(what + ": same caption")
              .isEqualTo(orig.getAs(Columns.CAPTION));
          assertThat((String) r.getAs(Columns.URL))
              .as(what + ": another url string")
              .isNotEqualTo(orig.getAs(Columns.URL));
          if (kind == FaultKind.URL_DUPLICATE) {
            assertThat(normalise(r.getAs(Columns.URL)))
                .as(what + ": same url once normalised")
                .isEqualTo(normalise(orig.getAs(Columns.URL)));
          }
        }
        case NEAR_DUPLICATE -> {
          Row orig = byUid.get(r.<String>getAs(Columns.ORIGINAL_UID));
          assertThat(orig).as(what + ": original exists").isNotNull();
          assertThat(jpg).as(what + ": other bytes").isNotEqualTo(orig.getAs(Columns.JPG));
          BufferedImage img = decode(jpg);
          assertThat(img).as(what + ": decodes").isNotNull();
          nearDuplicates.put(what, new Object[] {thumbnail(img), orig.getAs(Columns.UID)});
        }
        case SHUFFLED_CAPTION -> {
          String detail = r.getAs(Columns.DETAIL);
          String pictured = detail.substring(detail.lastIndexOf(" on a ") + 6);
          assertThat((String) r.getAs(Columns.CAPTION))
              .as(what + ": caption does not name the pictured " + pictured)
              .doesNotContain(pictured);
        }
        case CORRUPT_IMAGE -> {
          assertThat(jpg).as(what + ": bytes present").isNotNull();
          assertThat(jpg.length == 0 || decodesBroken(jpg) || !isCompleteImageFile(jpg))
              .as(what + ": empty, undecodable, or cut short (" + r.getAs(Columns.DETAIL) + ")")
              .isTrue();
        }
        case MISSING_CAPTION ->
            assertThat((String) r.getAs(Columns.PAIR_STATUS))
                .as(what)
                .isEqualTo(PairStatus.MISSING_CAPTION);
        case FAILED_DOWNLOAD -> {
          assertThat(jpg).as(what + ": null bytes like img2dataset").isNull();
          assertThat((String) r.getAs(Columns.STATUS)).as(what).isEqualTo("failed_to_download");
        }
        default -> throw new AssertionError(what);
      }
    }
    assertNearDuplicatesLookLikeTheirOriginals(nearDuplicates, byUid);
  }

  @Test
  void cleanImagesDecodeWithVariedSizesFormatsAndSkewedQueries() throws IOException {
    Dataset<Row> df = read(raw);
    Dataset<Row> gt = spark.read().parquet(raw + "/_ground_truth");
    Dataset<Row> clean =
        Pairs.prepare(df, LayoutDetector.detect(df.schema()))
            .join(gt, new String[] {Columns.UID}, "left_anti");
    List<Row> sample =
        clean.select(Columns.JPG, Columns.WIDTH, Columns.HEIGHT).limit(200).collectAsList();
    int png = 0;
    int nonSquare = 0;
    for (Row r : sample) {
      byte[] bytes = r.getAs(Columns.JPG);
      BufferedImage img = decode(bytes);
      assertThat(img).as("clean image decodes").isNotNull();
      assertThat(img.getWidth())
          .as("width column")
          .isEqualTo((int) r.<Integer>getAs(Columns.WIDTH));
      assertThat(img.getHeight())
          .as("height column")
          .isEqualTo((int) r.<Integer>getAs(Columns.HEIGHT));
      assertThat(img.getWidth()).as("side range").isBetween(64, 512);
      png += ShapeRenderer.isPng(bytes) ? 1 : 0;
      nonSquare += img.getWidth() != img.getHeight() ? 1 : 0;
    }
    assertThat(png).as("some PNGs among 200").isBetween(3, 60);
    assertThat(nonSquare).as("some non-square images among 200").isGreaterThan(20);

    List<Row> perQuery =
        df.groupBy(Columns.QUERY)
            .count()
            .orderBy(col("count").desc())
            .collectAsList(); // ≤ 1000 rows
    long top = perQuery.get(0).getLong(1);
    long singletons = perQuery.stream().filter(r -> r.getLong(1) <= 2).count();
    assertThat(top).as("the top query finds over 10% of pairs (Zipf)").isGreaterThan(300);
    assertThat(singletons).as("many rare queries").isGreaterThan(100);
    List<String> queries = Files.readAllLines(Path.of(raw, "queries.txt"));
    assertThat(queries)
        .as("query list written in rank order")
        .hasSize(1000)
        .doesNotHaveDuplicates();
  }

  @Test
  void metadataOnlyWritesOneMillionRowsWithoutRowDataOnTheDriver() throws Exception {
    String meta = tmp.resolve("meta").toString();
    AtomicLong resultBytes = new AtomicLong();
    SparkListener listener =
        new SparkListener() {
          @Override
          public void onTaskEnd(SparkListenerTaskEnd end) {
            if (end.taskMetrics() != null) {
              resultBytes.addAndGet(end.taskMetrics().resultSize());
            }
          }
        };
    spark.sparkContext().addSparkListener(listener);
    try {
      new GenerateJob(
              spark, GenerateJob.Options.builder(1_000_000, meta).metadataOnly(true).build())
          .run();
      spark.sparkContext().listenerBus().waitUntilEmpty();
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
    Dataset<Row> df = read(meta);
    assertThat(df.count()).as("rows written").isEqualTo(1_000_000);
    try (Stream<Path> files = Files.list(Path.of(meta))) {
      assertThat(files.filter(p -> p.getFileName().toString().matches("\\d{5}\\.parquet")).count())
          .as("100 shards of 10,000")
          .isEqualTo(100);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    assertThat(LayoutDetector.detect(df.schema()).layout())
        .as("layout")
        .isEqualTo(InputLayout.METADATA_ONLY);
    // 1M rows are ~100 MB as Java objects; task results that reached the driver stay tiny.
    assertThat(resultBytes.get())
        .as("bytes of task results sent to the driver during generate")
        .isLessThan(4_000_000);
  }

  @Test
  void filesFormatWritesImagesAndCaptionsTsv() throws IOException {
    String files = tmp.resolve("files").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(300, files)
                .shardSize(100)
                .format(GenerateJob.Format.FILES)
                .build())
        .run();
    List<String> tsv = Files.readAllLines(Path.of(files, "captions.tsv"));
    assertThat(tsv.get(0)).as("header").isEqualTo("key\tfile\tcaption\tquery\tuid");
    long failed =
        spark
            .read()
            .parquet(files + "/_ground_truth")
            .filter(col(Columns.FAULT).equalTo("failed_download"))
            .count();
    assertThat(tsv)
        .as("one line per downloaded image plus header")
        .hasSize((int) (300 - failed + 1));
    for (String line : tsv.subList(1, tsv.size())) {
      String file = line.split("\t", -1)[1];
      assertThat(Path.of(files, file)).as("image file of " + line).exists();
    }
    assertThat(Arrays.stream(tsv.get(1).split("\t", -1)).count()).as("5 columns").isEqualTo(5);
  }

  private static String normalise(String url) {
    String u = url.replaceAll("#.*$", "").replaceAll("[?&](utm_[a-z]+|fbclid)=[^&]*", "");
    int hostEnd = u.indexOf('/', u.indexOf("://") + 3);
    return u.substring(0, hostEnd).toLowerCase(Locale.ROOT) + u.substring(hostEnd);
  }

  /**
   * A near-duplicate must look like its original, not merely decode: by a measure independent of
   * the dedup stage's (the Pearson correlation of 16x16 area-averaged grey thumbnails), each one's
   * original is the most similar of all originals, and clearly similar in absolute terms (seed 7:
   * the lowest is 0.82, a crop; other originals reach 0.94, as generated scenes share a style).
   */
  private static void assertNearDuplicatesLookLikeTheirOriginals(
      Map<String, Object[]> nearDuplicates, Map<String, Row> byUid) throws IOException {
    assertThat(nearDuplicates).as("near duplicates injected").hasSizeGreaterThan(5);
    Map<String, double[]> originals = new HashMap<>();
    for (Map.Entry<String, Row> e : byUid.entrySet()) {
      byte[] jpg = e.getValue().getAs(Columns.JPG);
      BufferedImage img = jpg == null ? null : decode(jpg);
      if (img != null) {
        originals.put(e.getKey(), thumbnail(img));
      }
    }
    double lowest = 1;
    for (Map.Entry<String, Object[]> nd : nearDuplicates.entrySet()) {
      double[] t = (double[]) nd.getValue()[0];
      String own = (String) nd.getValue()[1];
      double ownCorrelation = correlation(t, originals.get(own));
      lowest = Math.min(lowest, ownCorrelation);
      assertThat(ownCorrelation)
          .as(nd.getKey() + ": thumbnail correlation with its original")
          .isGreaterThanOrEqualTo(0.8);
      for (Map.Entry<String, double[]> o : originals.entrySet()) {
        if (!o.getKey().equals(own)) {
          assertThat(correlation(t, o.getValue()))
              .as(nd.getKey() + ": as similar to another original " + o.getKey())
              .isLessThan(ownCorrelation);
        }
      }
    }
    System.out.printf(
        "near duplicates: %d, lowest correlation with the original %.3f%n",
        nearDuplicates.size(), lowest);
  }

  /** 16x16 grey, area-averaged (a resize- and light-crop-tolerant view of the picture). */
  private static double[] thumbnail(BufferedImage img) {
    BufferedImage g = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    java.awt.Graphics2D d = g.createGraphics();
    d.drawImage(img.getScaledInstance(16, 16, java.awt.Image.SCALE_AREA_AVERAGING), 0, 0, null);
    d.dispose();
    double[] v = new double[256];
    g.getRaster().getPixels(0, 0, 16, 16, v);
    return v;
  }

  private static double correlation(double[] a, double[] b) {
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < a.length; i++) {
      ma += a[i] / a.length;
      mb += b[i] / b.length;
    }
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < a.length; i++) {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa == 0 || sbb == 0 ? 0 : sab / Math.sqrt(saa * sbb);
  }

  private static BufferedImage decode(byte[] bytes) throws IOException {
    return ImageIO.read(new ByteArrayInputStream(bytes));
  }

  /** A JPEG ends with the EOI marker FFD9, a PNG with the IEND chunk. */
  private static boolean isCompleteImageFile(byte[] b) {
    int n = b.length;
    boolean jpeg = n > 4 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8;
    if (jpeg) {
      return (b[n - 2] & 0xff) == 0xff && (b[n - 1] & 0xff) == 0xd9;
    }
    return ShapeRenderer.isPng(b)
        && new String(b, n - 8, 4, java.nio.charset.StandardCharsets.ISO_8859_1).equals("IEND");
  }

  private static boolean decodesBroken(byte[] bytes) {
    try {
      return ImageIO.read(new ByteArrayInputStream(bytes)) == null;
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  @Test
  void scenesGiveEveryPicturedRowItsBackgroundStyle() {
    Dataset<Row> scenes =
        spark
            .read()
            .schema(io.sparkclip.schemas.Schemas.SCENES)
            .json(raw + "/" + io.sparkclip.schemas.StageFiles.SCENES_DIR);
    Dataset<Row> gt = spark.read().parquet(raw + "/_ground_truth");
    // 3,000 rows of four short columns, checked in the test.
    List<Row> joined =
        read(raw)
            .select(col(Columns.KEY), col(Columns.JPG).isNull().as("no_image"), col(Columns.SHA256))
            .join(scenes, Columns.KEY)
            .join(gt.select(Columns.KEY, Columns.FAULT), new String[] {Columns.KEY}, "left")
            .collectAsList();
    assertThat(joined).as("one scene per generated row, joined by key").hasSize(3000);
    Map<String, String> styleBySha = new HashMap<>();
    int exactCopies = 0;
    for (Row r : joined) {
      String key = r.getString(r.fieldIndex(Columns.KEY));
      String style = r.getString(r.fieldIndex(Columns.BACKGROUND_STYLE));
      String fault = r.getString(r.fieldIndex(Columns.FAULT));
      boolean pictured = !r.getBoolean(r.fieldIndex("no_image")) && !"corrupt_image".equals(fault);
      assertThat(style != null)
          .as("a style exactly when %s has a picture", key)
          .isEqualTo(pictured);
      if (style == null) {
        continue;
      }
      assertThat(Vocabulary.STYLES).as("style of %s", key).contains(style);
      String sha = r.getString(r.fieldIndex(Columns.SHA256));
      String before = styleBySha.putIfAbsent(sha, style);
      if (before != null) {
        exactCopies++;
        assertThat(style).as("identical image bytes of %s, same style", key).isEqualTo(before);
      }
    }
    assertThat(exactCopies).as("exact copies checked").isGreaterThan(10);
  }
}
