package io.sparkclip.udfs.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class VectorsTest {
  @Test
  void halfFloatKnownValues() {
    assertThat(Vectors.toHalf(1.0f)).as("1.0").isEqualTo((short) 0x3c00);
    assertThat(Vectors.toHalf(-2.0f)).as("-2.0").isEqualTo((short) 0xc000);
    assertThat(Vectors.toHalf(65504f)).as("max half").isEqualTo((short) 0x7bff);
    assertThat(Vectors.toHalf(1e6f)).as("overflow to inf").isEqualTo((short) 0x7c00);
    assertThat(Vectors.toHalf(5.9604645e-8f)).as("smallest subnormal").isEqualTo((short) 0x0001);
    assertThat(Vectors.toHalf(1.0009766f)).as("1 + 2^-10").isEqualTo((short) 0x3c01);
    assertThat(Vectors.toHalf(1.00048828125f)).as("tie rounds to even").isEqualTo((short) 0x3c00);
    assertThat(Vectors.fromHalf((short) 0x3555)).as("0x3555").isCloseTo(0.33325195f, within(1e-8f));
  }

  @Test
  void halfRoundTripIsWithinHalfPrecision() {
    for (float f = -3f; f < 3f; f += 0.0137f) {
      float back = Vectors.fromHalf(Vectors.toHalf(f));
      assertThat(back).as("round trip of %s", f).isCloseTo(f, within(Math.abs(f) / 1024f + 1e-7f));
    }
    float[] v = {0.1f, -0.5f, 0.25f};
    assertThat(Vectors.unpackFp16(Vectors.packFp16(v)))
        .as("pack/unpack")
        .containsExactly(new float[] {0.099975586f, -0.5f, 0.25f}, within(1e-8f));
    assertThat(Vectors.packFp16(new float[] {1f})).as("little endian").containsExactly(0x00, 0x3c);
  }

  @Test
  void cosineAndNormalize() {
    float[] a = Vectors.l2NormalizeInPlace(new float[] {3, 4});
    assertThat(a).as("unit length").containsExactly(new float[] {0.6f, 0.8f}, within(1e-7f));
    assertThat(Vectors.cosine(new float[] {1, 0}, new float[] {0, 2}))
        .as("orthogonal")
        .isEqualTo(0.0);
    assertThat(Vectors.cosine(new float[] {1, 1}, new float[] {2, 2}))
        .as("parallel")
        .isCloseTo(1.0, within(1e-12));
    assertThat(Vectors.cosine(new float[] {0, 0}, new float[] {1, 2}))
        .as("zero vector")
        .isEqualTo(0.0);
    assertThat(Vectors.l2NormalizeInPlace(new float[] {0, 0}))
        .as("zero stays zero")
        .containsExactly(0f, 0f);
  }
}
