package io.sparkclip.udfs.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.udfs.Fixtures;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Image sizes read from headers only, against the sizes PIL reported for the committed fixture
 * images (tools/make_fixtures.py writes them into manifest.json): JPEG (RGB, grey, CMYK), PNG (RGB,
 * RGBA, palette), GIF, BMP and WebP.
 */
class ImageDimensionsTest {

  @Test
  void everyFixtureImageHasTheSizePilReported() {
    int n = 0;
    for (JsonNode img : Fixtures.manifest().get("images")) {
      ImageDimensions.Result r = ImageDimensions.read(Fixtures.image(img));
      String name = img.get("name").asText();
      assertThat(r.error()).as("%s: header readable", name).isNull();
      assertThat(new int[] {r.width(), r.height()})
          .as("%s: width and height as PIL reads them", name)
          .containsExactly(img.get("width").asInt(), img.get("height").asInt());
      n++;
    }
    assertThat(n).as("fixture images checked").isGreaterThanOrEqualTo(12);
  }

  @Test
  void formatsAreNamedByTheirReader() {
    assertThat(ImageDimensions.read(Fixtures.bytes("images/rgb_jpeg.jpg")).format())
        .as("JPEG")
        .isEqualTo("jpeg");
    assertThat(ImageDimensions.read(Fixtures.bytes("images/rgba_png.png")).format())
        .as("PNG")
        .isEqualTo("png");
    assertThat(ImageDimensions.read(Fixtures.bytes("images/webp.webp")).format())
        .as("WebP (no JDK reader: its VP8 header)")
        .isEqualTo("webp");
  }

  @Test
  void onlyTheHeaderIsRead() {
    // The frame header of a real JPEG rewritten to claim 60000 x 60000 (3.6 gigapixels): a
    // decode would need more than 10 GB; the header read answers at once.
    byte[] jpeg = Fixtures.bytes("images/rgb_jpeg.jpg");
    int sof = -1;
    for (int i = 2; i + 8 < jpeg.length; i++) {
      if ((jpeg[i] & 0xff) == 0xFF
          && ((jpeg[i + 1] & 0xff) == 0xC0 || (jpeg[i + 1] & 0xff) == 0xC2)) {
        sof = i;
        break;
      }
    }
    assertThat(sof).as("the fixture has a baseline or progressive frame header").isPositive();
    byte[] bomb = jpeg.clone();
    bomb[sof + 5] = (byte) 0xEA; // height 60000 = 0xEA60
    bomb[sof + 6] = 0x60;
    bomb[sof + 7] = (byte) 0xEA; // width
    bomb[sof + 8] = 0x60;
    long t0 = System.nanoTime();
    ImageDimensions.Result r = ImageDimensions.read(bomb);
    double ms = (System.nanoTime() - t0) / 1e6;
    assertThat(new int[] {r.width(), r.height()})
        .as("the size the header claims")
        .containsExactly(60000, 60000);
    assertThat(ms).as("milliseconds for a header read").isLessThan(1000);
  }

  @Test
  void aCutOrForeignHeaderSaysWhyAndNeverThrows() {
    byte[] jpeg = Fixtures.bytes("images/rgb_jpeg.jpg");
    ImageDimensions.Result halfJpeg = ImageDimensions.read(Arrays.copyOf(jpeg, jpeg.length / 2));
    assertThat(new int[] {halfJpeg.width(), halfJpeg.height()})
        .as("a JPEG cut in its scan data still has its header (embed rejects it later)")
        .containsExactly(320, 240);

    ImageDimensions.Result cutJpeg = ImageDimensions.read(Arrays.copyOf(jpeg, 20));
    assertThat(cutJpeg.readable()).as("JPEG cut before its frame header").isFalse();
    assertThat(cutJpeg.error()).as("why").startsWith("jpeg header unreadable");

    byte[] png = Fixtures.bytes("images/rgba_png.png");
    assertThat(ImageDimensions.read(Arrays.copyOf(png, 12)).readable())
        .as("PNG cut inside IHDR")
        .isFalse();

    byte[] webp = Fixtures.bytes("images/webp.webp");
    assertThat(ImageDimensions.read(Arrays.copyOf(webp, 20)).readable())
        .as("WebP cut before its VP8 header")
        .isFalse();
    ImageDimensions.Result headOfWebp = ImageDimensions.read(Arrays.copyOf(webp, 30));
    assertThat(new int[] {headOfWebp.width(), headOfWebp.height()})
        .as("the first 30 bytes of a WebP hold its size")
        .containsExactly(128, 96);

    byte[] noise = new byte[5000];
    new Random(7).nextBytes(noise);
    noise[0] = 0x13; // no magic number any reader claims
    ImageDimensions.Result random = ImageDimensions.read(noise);
    assertThat(random.error()).as("random bytes").startsWith("no image reader recognises");

    assertThat(ImageDimensions.read(new byte[0]).error()).as("empty").isEqualTo("no image bytes");
    assertThat(ImageDimensions.read(null).readable()).as("null").isFalse();
  }

  @Test
  void aspectRatioIsLongestOverShortestSide() {
    assertThat(ImageDimensions.read(Fixtures.bytes("images/wide_jpeg.jpg")).aspectRatio())
        .as("640 x 90")
        .isEqualTo(640.0 / 90);
    assertThat(ImageDimensions.read(Fixtures.bytes("images/rgb_png_tall.png")).aspectRatio())
        .as("150 x 280, portrait")
        .isEqualTo(280.0 / 150);
    assertThat(ImageDimensions.read(Fixtures.bytes("images/rgb_png_tall.png")).shortestSide())
        .as("shortest side")
        .isEqualTo(150);
  }
}
