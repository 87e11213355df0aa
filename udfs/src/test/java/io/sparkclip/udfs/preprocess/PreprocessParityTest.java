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

  /**
   * The acceptance bound on every tensor element. The Java path is Pillow-exact, so the only
   * difference left is float rounding in the normalisation; a wrong resampling filter moves
   * elements by 1e-2 and more (see {@link #wrongFilterIsRejectedOnEveryFixture}).
   */
  static final double MAX_ABS_DIFF = 1e-6;

  /** Mean |a - b|: how far an approximate mode (reduced-DCT decode) lands from the reference. */
  static double meanAbsDiff(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs(a[i] - b[i]);
    }
    return s / a.length;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    assertThat(a.length).as("tensor lengths").isEqualTo(b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
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
    double max = maxAbsDiff(java, ref);
    System.out.printf("parity %-14s %-8s mode=%-5s maxAbsDiff=%.2e%n", name, backend, r.mode, max);
    assertThat(max)
        .as("max |java - PIL| of %s (%s)", name, backend)
        .isLessThanOrEqualTo(MAX_ABS_DIFF);
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
    assertThat(maxDiff)
        .as("the 8-bit output is Pillow-exact: largest byte difference for %s %s", name, variant)
        .isZero();
  }

  /**
   * Negative control: the acceptance bound used above rejects bilinear resampling in place of
   * bicubic on every fixture the JDK decodes, so a wrong filter cannot pass the parity test.
   * Palette images are the exception that proves the emulation: Pillow resizes mode P with NEAREST
   * whatever filter is asked for (open_clip converts to RGB only after the resize), so there the
   * bilinear output must equal the reference exactly.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("decodableNames")
  void wrongFilterIsRejectedOnEveryFixture(String name) throws Exception {
    JsonNode e = entry(name);
    PreprocessConfig bilinear =
        new PreprocessConfig(
            Fixtures.manifest().get("preprocess").get("size").asInt(),
            PreprocessConfig.OPENAI_MEAN,
            PreprocessConfig.OPENAI_STD,
            PreprocessConfig.Interpolation.BILINEAR,
            PreprocessConfig.ResizeMode.SHORTEST);
    ClipImageTransform t = new ClipImageTransform(bilinear);
    Raster8 r = ImageDecoder.defaults().decode(Fixtures.image(e));
    float[] java = new float[t.tensorSize()];
    t.normalize(t.toRgb8(r), java, 0);
    double max = maxAbsDiff(java, Fixtures.floats(e.get("tensor").asText()));
    System.out.printf("bilinear %-14s mode=%-5s maxAbsDiff=%.2e%n", name, r.mode, max);
    if (r.mode == PilMode.P) {
      assertThat(max)
          .as("palette image %s: Pillow ignores the filter (NEAREST), so must we", name)
          .isLessThanOrEqualTo(MAX_ABS_DIFF);
    } else {
      assertThat(max)
          .as("bilinear output of %s must fall outside the parity bound %s", name, MAX_ABS_DIFF)
          .isGreaterThan(MAX_ABS_DIFF);
    }
  }

  static List<String> decodableNames() {
    List<String> out = new ArrayList<>();
    for (JsonNode img : Fixtures.manifest().get("images")) {
      String name = img.get("name").asText();
      if (!name.equals("webp") || ImageDecoder.openCvAvailable()) {
        out.add(name);
      }
    }
    return out;
  }
}
