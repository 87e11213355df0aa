package io.sparkclip.udfs.preprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.RowStatus;
import io.sparkclip.udfs.model.PreprocessConfig;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
  @Test
  void headersGiveDimensionsOfEveryFixture() {
    for (JsonNode e : Fixtures.manifest().get("images")) {
      ImageHeader h = ImageHeader.sniff(Fixtures.image(e));
      assertThat(h.width).as("header width of %s", e.get("name")).isEqualTo(e.get("width").asInt());
      assertThat(h.height)
          .as("header height of %s", e.get("name"))
          .isEqualTo(e.get("height").asInt());
    }
  }

  /** A PNG whose header claims 40000 x 40000 (1.6 G pixels) followed by no real data. */
  static byte[] bombPng() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(17);
    ihdr.put(new byte[] {'I', 'H', 'D', 'R'}).putInt(40_000).putInt(40_000);
    ihdr.put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(13).array());
    out.writeBytes(ihdr.array());
    CRC32 crc = new CRC32();
    crc.update(ihdr.array());
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    return out.toByteArray();
  }

  @Test
  void decompressionBombIsRefusedFromTheHeader() {
    for (ImageDecoder.Backend b : ImageDecoder.Backend.values()) {
      assertThatThrownBy(
              () -> new ImageDecoder(b, ImageDecoder.DEFAULT_MAX_PIXELS, 0).decode(bombPng()))
          .as("1.6 G pixel PNG via %s", b)
          .isInstanceOf(BadImageException.class)
          .hasMessageContaining("40000x40000")
          .satisfies(
              t ->
                  assertThat(((BadImageException) t).status())
                      .as("status")
                      .isEqualTo(RowStatus.TOO_LARGE));
    }
  }

  @Test
  void limitIsConfigurable() throws Exception {
    byte[] jpg = Fixtures.image(Fixtures.manifest().get("images").get(0)); // 320x240
    assertThat(new ImageDecoder(ImageDecoder.Backend.AUTO, 320 * 240, 0).decode(jpg).width)
        .as("at the limit")
        .isEqualTo(320);
    assertThatThrownBy(
            () -> new ImageDecoder(ImageDecoder.Backend.AUTO, 320 * 240 - 1, 0).decode(jpg))
        .as("one pixel over")
        .isInstanceOf(BadImageException.class);
  }

  /** libjpeg pads a cut-short JPEG with grey and only warns; PIL refuses it, and so do we. */
  @Test
  void truncatedJpegIsADecodeErrorOnEveryBackend() throws Exception {
    byte[] jpg = Fixtures.image(Fixtures.manifest().get("images").get(0));
    assertThat(ImageHeader.truncatedJpeg(jpg)).as("the intact fixture").isFalse();
    byte[] padded = java.util.Arrays.copyOf(jpg, jpg.length + 100);
    assertThat(ImageHeader.truncatedJpeg(padded)).as("trailing zero padding after EOI").isFalse();
    for (double keep : new double[] {0.3, 0.6, 0.95}) {
      byte[] cut = java.util.Arrays.copyOf(jpg, (int) (jpg.length * keep));
      for (ImageDecoder.Backend b : ImageDecoder.Backend.values()) {
        assertThatThrownBy(
                () -> new ImageDecoder(b, ImageDecoder.DEFAULT_MAX_PIXELS, 0).decode(cut))
            .as("JPEG cut to %.0f%% via %s", keep * 100, b)
            .isInstanceOf(BadImageException.class)
            .hasMessageContaining("truncated")
            .satisfies(
                t ->
                    assertThat(((BadImageException) t).status())
                        .as("status")
                        .isEqualTo(RowStatus.DECODE_ERROR));
      }
    }
  }

  /** The opt-in DCT-scaled JPEG decode: its parity cost on the 2048x1536 fixture. */
  @Test
  void reducedJpegDecodeIsApproximateButClose() throws Exception {
    Assumptions.assumeTrue(ImageDecoder.openCvAvailable(), "needs OpenCV");
    JsonNode large = null;
    for (JsonNode e : Fixtures.manifest().get("images")) {
      if (e.get("name").asText().equals("large_jpeg")) {
        large = e;
      }
    }
    ClipImageTransform t = new ClipImageTransform(PreprocessConfig.clip(64));
    Raster8 r =
        new ImageDecoder(ImageDecoder.Backend.AUTO, ImageDecoder.DEFAULT_MAX_PIXELS, 64)
            .decode(Fixtures.image(large));
    assertThat(r.width).as("decoded at 1/8 scale").isEqualTo(256);
    float[] approx = new float[t.tensorSize()];
    t.normalize(t.toRgb8(r), approx, 0);
    double mad =
        PreprocessParityTest.meanAbsDiff(approx, Fixtures.floats(large.get("tensor").asText()));
    System.out.printf("reduced JPEG decode (1/8) mean |diff| vs PIL: %.5f%n", mad);
    assertThat(mad).as("approximate mode stays close").isLessThan(0.05).isGreaterThan(0.0);
  }
}
