package io.sparkclip.udfs.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Pure properties of the Pillow port (bit-exactness itself is in PreprocessParityTest). */
class PillowResampleTest {
  @Test
  void fixedPointWeightsSumToOne() {
    for (PillowResample.Filter f : PillowResample.Filter.values()) {
      for (int[] io : new int[][] {{1000, 224}, {224, 224 * 3}, {17, 5}, {5, 17}}) {
        PillowResample.Coeffs c = PillowResample.coeffs(io[0], io[1], f);
        for (int x = 0; x < io[1]; x++) {
          int sum = 0;
          for (int k = 0; k < c.ksize; k++) {
            sum += c.kk[x * c.ksize + k];
          }
          assertThat(sum)
              .as("%s %d->%d weights of output %d", f, io[0], io[1], x)
              .isBetween(
                  (1 << PillowResample.PRECISION_BITS) - c.ksize,
                  (1 << PillowResample.PRECISION_BITS) + c.ksize);
        }
      }
    }
  }

  @Test
  void downscaleSupportGrowsWithTheFactor() {
    assertThat(PillowResample.coeffs(1000, 100, PillowResample.Filter.BICUBIC).ksize)
        .as("bicubic support 2 x factor 10 -> 2*20+1 taps (antialiasing)")
        .isEqualTo(41);
    assertThat(PillowResample.coeffs(100, 1000, PillowResample.Filter.BICUBIC).ksize)
        .as("upscaling keeps support 2")
        .isEqualTo(5);
  }

  @Test
  void constantImageStaysConstantAndWindowEqualsCrop() {
    byte[] flat = new byte[90 * 70 * 3];
    Arrays.fill(flat, (byte) 200);
    Raster8 r =
        PillowResample.resize(
            new Raster8(90, 70, PilMode.RGB, flat),
            40,
            31,
            PillowResample.Filter.BICUBIC,
            0,
            0,
            40,
            31);
    for (byte b : r.data) {
      assertThat(b & 0xff).as("flat stays flat").isEqualTo(200);
    }
    byte[] noise = new byte[90 * 70 * 3];
    new Random(7).nextBytes(noise);
    Raster8 src = new Raster8(90, 70, PilMode.RGB, noise);
    Raster8 full = PillowResample.resize(src, 50, 37, PillowResample.Filter.BICUBIC, 0, 0, 50, 37);
    Raster8 window =
        PillowResample.resize(src, 50, 37, PillowResample.Filter.BICUBIC, 7, 3, 30, 30);
    assertThat(window.data)
        .as("computing a window equals resize-then-crop")
        .isEqualTo(PillowResample.crop(full, 7, 3, 30, 30).data);
  }

  @Test
  void nearestTableMatchesPillowStepping() {
    assertThat(PillowResample.nearestTable(10, 4)).as("10 -> 4").containsExactly(1, 3, 6, 8);
    assertThat(PillowResample.nearestTable(3, 6)).as("3 -> 6").containsExactly(0, 0, 1, 1, 2, 2);
  }

  @Test
  void torchvisionResizeAndCropArithmetic() {
    assertThat(ClipImageTransform.resizedSize(640, 90, 224))
        .as("long side int(size*long/short)")
        .containsExactly(1592, 224);
    assertThat(ClipImageTransform.resizedSize(150, 280, 64))
        .as("portrait")
        .containsExactly(64, 119);
    assertThat(ClipImageTransform.cropOffset(301, 224))
        .as("38.5 rounds half to even")
        .isEqualTo(38);
    assertThat(ClipImageTransform.cropOffset(303, 224))
        .as("39.5 rounds half to even")
        .isEqualTo(40);
  }
}
