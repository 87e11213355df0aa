package io.sparkclip.udfs.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.PreprocessConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Java preprocessing vs PIL/torchvision tensors written by tools/make_fixtures.py. */
class PreprocessParityTest {
  static List<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode img : Fixtures.manifest().get("images")) {
      for (ImageDecoder.Backend b :
          new ImageDecoder.Backend[] {ImageDecoder.Backend.AUTO, ImageDecoder.Backend.IMAGEIO}) {
        out.add(Arguments.of(img.get("name").asText(), b));
      }
    }
    return out;
  }

  private static JsonNode entry(String name) {
    for (JsonNode img : Fixtures.manifest().get("images")) {
      if (img.get("name").asText().equals(name)) {
        return img;
      }
    }
    throw new IllegalArgumentException(name);
  }

  static double meanAbsDiff(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs(a[i] - b[i]);
    }
    return s / a.length;
  }

  @ParameterizedTest(name = "{0} via {1}")
  @MethodSource("cases")
  void tensorMatchesOpenClip(String name, ImageDecoder.Backend backend) throws Exception {
    JsonNode e = entry(name);
    boolean webpWithoutOpenCv =
        name.equals("webp")
            && (backend == ImageDecoder.Backend.IMAGEIO || !ImageDecoder.openCvAvailable());
    org.junit.jupiter.api.Assumptions.assumeFalse(
        webpWithoutOpenCv, "the JDK has no WebP decoder; covered by the AUTO/OpenCV case");
    JsonNode p = Fixtures.manifest().get("preprocess");
    PreprocessConfig cfg = PreprocessConfig.clip(p.get("size").asInt());
    ClipImageTransform t = new ClipImageTransform(cfg);
    Raster8 r =
        new ImageDecoder(backend, ImageDecoder.DEFAULT_MAX_PIXELS, 0).decode(Fixtures.image(e));
    assertThat(r.width).as("decoded width of %s", name).isEqualTo(e.get("width").asInt());
    assertThat(r.height).as("decoded height of %s", name).isEqualTo(e.get("height").asInt());
    float[] java = new float[t.tensorSize()];
    t.normalize(t.toRgb8(r), java, 0);
    float[] ref = Fixtures.floats(e.get("tensor").asText());
    double mad = meanAbsDiff(java, ref);
    System.out.printf("parity %-14s %-8s mode=%-5s meanAbsDiff=%.6f%n", name, backend, r.mode, mad);
    assertThat(mad).as("mean |java - PIL| of %s (%s)", name, backend).isLessThanOrEqualTo(0.01);
  }

  static List<Arguments> u8Cases() {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode img : Fixtures.manifest().get("images")) {
      if (img.has("u8_224")) {
        out.add(Arguments.of(img.get("name").asText(), "bicubic_shortest"));
        out.add(Arguments.of(img.get("name").asText(), "bilinear_squash"));
      }
    }
    return out;
  }

  /** At CLIP's 224 px the 8-bit resize+crop+convert output is compared pixel by pixel. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("u8Cases")
  void rgb8At224MatchesPil(String name, String variant) throws Exception {
    JsonNode e = entry(name);
    PreprocessConfig cfg =
        variant.equals("bicubic_shortest")
            ? PreprocessConfig.clip(224)
            : new PreprocessConfig(
                224,
                PreprocessConfig.OPENAI_MEAN,
                PreprocessConfig.OPENAI_STD,
                PreprocessConfig.Interpolation.BILINEAR,
                PreprocessConfig.ResizeMode.SQUASH);
    Raster8 r = ImageDecoder.defaults().decode(Fixtures.image(e));
    byte[] java = new ClipImageTransform(cfg).toRgb8(r);
    byte[] ref = Fixtures.bytes(e.get("u8_224").get(variant).asText());
    assertThat(java.length).as("RGB bytes of %s", name).isEqualTo(ref.length);
    int maxDiff = 0;
    long equal = 0;
    for (int i = 0; i < ref.length; i++) {
      int d = Math.abs((java[i] & 0xff) - (ref[i] & 0xff));
      maxDiff = Math.max(maxDiff, d);
      equal += d == 0 ? 1 : 0;
    }
    double equalFraction = (double) equal / ref.length;
    System.out.printf("u8 %-14s %-17s equal=%.5f max=%d%n", name, variant, equalFraction, maxDiff);
    assertThat(equalFraction)
        .as("fraction of bytes equal to PIL for %s %s", name, variant)
        .isGreaterThanOrEqualTo(0.99);
    assertThat(maxDiff)
        .as("largest byte difference for %s %s", name, variant)
        .isLessThanOrEqualTo(2);
  }

  /** Negative control: the comparison does detect a different filter. */
  @org.junit.jupiter.api.Test
  void wrongFilterIsDetected() throws Exception {
    JsonNode e = entry("rgb_jpeg");
    PreprocessConfig bilinear =
        new PreprocessConfig(
            Fixtures.manifest().get("preprocess").get("size").asInt(),
            PreprocessConfig.OPENAI_MEAN,
            PreprocessConfig.OPENAI_STD,
            PreprocessConfig.Interpolation.BILINEAR,
            PreprocessConfig.ResizeMode.SHORTEST);
    ClipImageTransform t = new ClipImageTransform(bilinear);
    float[] java = new float[t.tensorSize()];
    t.normalize(t.toRgb8(ImageDecoder.defaults().decode(Fixtures.image(e))), java, 0);
    assertThat(meanAbsDiff(java, Fixtures.floats(e.get("tensor").asText())))
        .as("bilinear output must differ measurably from the bicubic reference")
        .isGreaterThan(0.001);
  }
}
