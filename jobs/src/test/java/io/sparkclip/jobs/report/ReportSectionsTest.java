package io.sparkclip.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
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
}
