package io.sparkclip.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Schemas;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import io.sparkclip.schemas.Uid;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
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

/**
 * The report's basic-filter and duplicate sections apart from the demo: what they measure, which
 * bounds they mark, and what they say when their stage did not run.
 */
class ReportSectionsTest {
  @TempDir static Path tmp;
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("ReportSectionsTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void aRunWithoutBasicFilterOrDedupSaysSoInTheirSections() throws Exception {
    Path curated = Files.createDirectories(tmp.resolve("curated"));
    Files.writeString(
        curated.resolve(StageFiles.FUNNEL_FILE), "{\"model\":\"m\",\"seconds\":1,\"stages\":[]}");
    String out = tmp.resolve("report.html").toString();
    new ReportJob(spark, curated.toString(), out, 4).run();
    String html = Files.readString(Path.of(out));
    assertThat(html)
        .as("basic-filter section without the stage")
        .contains(
            "<section id=\"basic-filter\"><h2>Basic filters</h2><p class=\"na\">basic-filter did"
                + " not run.</p></section>");
    assertThat(html)
        .as("duplicate gallery without the stage")
        .contains(
            "<section id=\"dup-clusters\"><h2>Near-duplicate clusters</h2><p class=\"na\">dedup"
                + " did not run.</p></section>");
  }

  @Test
  void aMeasureIsMarkedWithTheBoundsOfItsChecksThatRan() {
    Map<String, Double> bounds =
        Map.of(
            RejectReason.CAPTION_TOO_MANY_WORDS, 40.0,
            RejectReason.CAPTION_TOO_FEW_WORDS, 3.0,
            RejectReason.EXTREME_ASPECT_RATIO, 1.5);
    assertThat(BasicFilterSection.markers(BasicFilterSection.Measure.CAPTION_WORDS, bounds))
        .as("both word bounds, lowest first")
        .containsExactly(new ReportJob.Marker("min 3", 3.0), new ReportJob.Marker("max 40", 40.0));
    assertThat(BasicFilterSection.markers(BasicFilterSection.Measure.IMAGE_ASPECT_RATIO, bounds))
        .as("aspect ratio bound as the option spells it")
        .containsExactly(new ReportJob.Marker("max 1.5", 1.5));
    assertThat(BasicFilterSection.markers(BasicFilterSection.Measure.IMAGE_BYTES, bounds))
        .as("the byte size check did not run: no chart")
        .isEmpty();
  }

  @Test
  void theMeasuresAreWhatBasicFilterChecks() throws Exception {
    BufferedImage img = new BufferedImage(50, 120, BufferedImage.TYPE_INT_RGB);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(img, "png", png);
    BasicFilterSection.Measurer m = new BasicFilterSection.Measurer(true, false);
    Row r = m.measure(RowFactory.create("a red\u00a0circle  ", png.toByteArray()));
    assertThat(r.getInt(0)).as("words, a no-break space splits").isEqualTo(3);
    assertThat(r.getInt(1)).as("characters, padding counts").isEqualTo(14);
    assertThat(r.getLong(2)).as("image bytes").isEqualTo(png.size());
    assertThat(r.getInt(3)).as("shortest side from the header").isEqualTo(50);
    assertThat(r.getDouble(4)).as("aspect ratio").isEqualTo(120 / 50.0);
    Row bad = m.measure(RowFactory.create("a red circle", new byte[] {'<', 'h', 't'}));
    assertThat(List.of(bad.isNullAt(3), bad.isNullAt(4)))
        .as("unreadable header: no size, no ratio")
        .containsExactly(true, true);
    assertThat(bad.getLong(2)).as("bytes still counted").isEqualTo(3);
  }

  static byte[] png(int w, int h) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
    return out.toByteArray();
  }

  static final Pattern CLUSTER =
      Pattern.compile(
          "<div class=\"cluster\" data-kept-uid=\"([0-9a-f]+)\">(.*?)</div>(?=<div class=\"cluster\"|</section>)");

  /**
   * A dedup output written by hand: kept rows k1..k3 and rejects that name them (one names a row
   * dedup did not keep, one is a pair-status reject), over an input of five pairs.
   */
  @Test
  void theGalleryGroupsRemovedRowsUnderTheKeptRowTheyDuplicate() throws Exception {
    Path curated = Files.createDirectories(tmp.resolve("gallery"));
    Files.writeString(
        curated.resolve(StageFiles.FUNNEL_FILE), "{\"model\":\"m\",\"seconds\":1,\"stages\":[]}");
    Path dedup = curated.resolve("1-" + Stages.DEDUP);
    Path input = tmp.resolve("gallery-input");
    StructType pairs =
        new StructType()
            .add(Columns.URL, DataTypes.StringType)
            .add(Columns.CAPTION, DataTypes.StringType)
            .add("jpg", DataTypes.BinaryType);
    List<String> names = List.of("k1", "k2", "k3", "r1", "r2", "r3", "gone", "r4");
    Map<String, String> uid = new HashMap<>();
    List<Row> rows = new ArrayList<>();
    for (String n : names) {
      String url = "https://example.com/" + n + ".png";
      String caption = "a picture called " + n;
      uid.put(n, Uid.of(url, caption));
      rows.add(RowFactory.create(url, caption, png(40, 30)));
    }
    spark.createDataFrame(rows, pairs).write().parquet(input.toString());
    spark
        .createDataFrame(
            List.of(
                RowFactory.create(uid.get("k1")),
                RowFactory.create(uid.get("k2")),
                RowFactory.create(uid.get("k3"))),
            new StructType().add(Columns.UID, DataTypes.StringType))
        .write()
        .parquet(CurationOutput.data(dedup.toString()));
    spark
        .createDataFrame(
            List.of(
                reject(uid.get("r3"), RejectReason.DUPLICATE_EXACT_URL, uid.get("k2")),
                reject(uid.get("r1"), RejectReason.NEAR_DUPLICATE_IMAGE, uid.get("k1")),
                reject(uid.get("r2"), RejectReason.DUPLICATE_IMAGE_HASH, uid.get("k1")),
                reject(uid.get("r4"), RejectReason.NEAR_DUPLICATE_IMAGE, uid.get("gone")),
                reject(uid.get("gone"), "missing_image", null)),
            Schemas.REJECTS)
        .write()
        .parquet(CurationOutput.rejects(dedup.toString()));
    Files.writeString(
        dedup.resolve(StageFiles.SUMMARY_FILE), "{\"job\":\"dedup\",\"input\":\"" + input + "\"}");

    String html = gallery(curated);
    Matcher m = CLUSTER.matcher(html);
    Map<String, String> clusters = new LinkedHashMap<>();
    while (m.find()) {
      clusters.put(m.group(1), m.group(2));
    }
    assertThat(clusters.keySet())
        .as("k1 (a near-duplicate image, two copies) before k2; nothing under a row not kept")
        .containsExactly(uid.get("k1"), uid.get("k2"));
    String k1 = clusters.get(uid.get("k1"));
    assertThat(k1)
        .as("k1's cluster: kept row with its caption and thumbnail, then its two copies")
        .containsSubsequence(
            "class=\"sample kept\" data-uid=\"" + uid.get("k1") + "\"",
            "data:image/jpeg",
            "a picture called k1",
            "class=\"sample removed\" data-uid=\""
                + uid.get("r1")
                + "\" data-related-uid=\""
                + uid.get("k1")
                + "\"",
            "a picture called r1",
            RejectReason.NEAR_DUPLICATE_IMAGE,
            "class=\"sample removed\" data-uid=\"" + uid.get("r2") + "\"",
            RejectReason.DUPLICATE_IMAGE_HASH)
        .doesNotContain(uid.get("r3"));
    assertThat(clusters.get(uid.get("k2")))
        .as("k2's cluster")
        .contains("data-uid=\"" + uid.get("r3") + "\"", RejectReason.DUPLICATE_EXACT_URL)
        .doesNotContain(uid.get("r1"));
    assertThat(html)
        .as("totals over the kept rows' clusters")
        .contains("3 rows removed as copies of 2 kept rows; 2 clusters shown");

    Files.walk(input).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    String gone = gallery(curated);
    assertThat(gone)
        .as("input deleted: the clusters remain, without thumbnails or captions")
        .contains("which is no longer there", "(not in dedup's input)")
        .contains("data-kept-uid=\"" + uid.get("k1") + "\"")
        .doesNotContain("data:image/jpeg");
  }

  private static Row reject(String uid, String reason, String related) {
    return RowFactory.create(uid, Stages.REJECT_DEDUP_IMAGE, reason, "same as " + related, related);
  }

  private static String gallery(Path curated) {
    StringBuilder h = new StringBuilder();
    new DuplicateGallery(new CuratedRun(spark, curated.toString()), 8, 4).render(h);
    return h.toString();
  }
}
