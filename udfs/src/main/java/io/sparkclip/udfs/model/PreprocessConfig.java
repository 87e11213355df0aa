package io.sparkclip.udfs.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.udfs.ClipErrors;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** {@code visual/preprocess_cfg.json}: open_clip's eval image transform parameters. */
public final class PreprocessConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** open_clip's {@code resize_mode}. */
  public enum ResizeMode {
    /** Resize the shortest side to {@code size}, then center-crop (CLIP's default). */
    SHORTEST,
    /** Resize both sides to {@code size} directly, ignoring the aspect ratio. */
    SQUASH
  }

  /** Resampling filter (Pillow semantics). */
  public enum Interpolation {
    BICUBIC,
    BILINEAR,
    NEAREST
  }

  public static final float[] OPENAI_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
  public static final float[] OPENAI_STD = {0.26862954f, 0.26130258f, 0.27577711f};

  private final int size;
  private final float[] mean;
  private final float[] std;
  private final Interpolation interpolation;
  private final ResizeMode resizeMode;

  public PreprocessConfig(
      int size, float[] mean, float[] std, Interpolation interpolation, ResizeMode resizeMode) {
    this.size = size;
    this.mean = mean.clone();
    this.std = std.clone();
    this.interpolation = interpolation;
    this.resizeMode = resizeMode;
  }

  /** CLIP's defaults: bicubic, shortest side, OpenAI mean/std. */
  public static PreprocessConfig clip(int size) {
    return new PreprocessConfig(
        size, OPENAI_MEAN, OPENAI_STD, Interpolation.BICUBIC, ResizeMode.SHORTEST);
  }

  public static PreprocessConfig read(Path file) {
    JsonNode n;
    try {
      n = new ObjectMapper().readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw ClipErrors.unreadableJson(file.toString(), e);
    }
    return parse(n, file.toString());
  }

  static PreprocessConfig parse(JsonNode n, String file) {
    JsonNode sizeNode = n.path("size");
    int size;
    if (sizeNode.isArray()) {
      if (sizeNode.size() != 2 || sizeNode.get(0).asInt() != sizeNode.get(1).asInt()) {
        throw ClipErrors.badConfig(
            file, "size " + sizeNode + " is not square.", "use a square size such as [224, 224].");
      }
      size = sizeNode.get(0).asInt();
    } else if (sizeNode.isInt()) {
      size = sizeNode.asInt();
    } else {
      throw ClipErrors.badConfig(
          file, "field 'size' is missing.", "add \"size\": 224 (the model's image size).");
    }
    String mode = n.path("mode").asText("RGB");
    if (!mode.equals("RGB")) {
      throw ClipErrors.badConfig(
          file, "mode '" + mode + "' is not supported.", "use \"mode\": \"RGB\".");
    }
    float[] mean = floats(n.get("mean"), OPENAI_MEAN, file, "mean");
    float[] std = floats(n.get("std"), OPENAI_STD, file, "std");
    String interp = n.path("interpolation").asText("bicubic").toUpperCase(Locale.ROOT);
    Interpolation interpolation;
    try {
      interpolation = Interpolation.valueOf(interp);
    } catch (IllegalArgumentException e) {
      throw ClipErrors.unknownInterpolation(file, interp, Arrays.asList(Interpolation.values()));
    }
    String rm = n.path("resize_mode").asText("shortest").toUpperCase(Locale.ROOT);
    ResizeMode resizeMode;
    try {
      resizeMode = ResizeMode.valueOf(rm);
    } catch (IllegalArgumentException e) {
      throw ClipErrors.unknownResizeMode(
          file, n.path("resize_mode").asText(), Arrays.asList(ResizeMode.values()));
    }
    return new PreprocessConfig(size, mean, std, interpolation, resizeMode);
  }

  private static float[] floats(JsonNode n, float[] dflt, String file, String field) {
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isArray() || n.size() != 3) {
      throw ClipErrors.badConfig(
          file, "'" + field + "' is " + n + ", not 3 numbers.", "give one value per RGB channel.");
    }
    return new float[] {
      (float) n.get(0).asDouble(), (float) n.get(1).asDouble(), (float) n.get(2).asDouble()
    };
  }

  public int size() {
    return size;
  }

  public float[] mean() {
    return mean.clone();
  }

  public float[] std() {
    return std.clone();
  }

  public Interpolation interpolation() {
    return interpolation;
  }

  public ResizeMode resizeMode() {
    return resizeMode;
  }

  @Override
  public String toString() {
    return "PreprocessConfig{size="
        + size
        + ", interpolation="
        + interpolation
        + ", resizeMode="
        + resizeMode
        + ", mean="
        + Arrays.toString(mean)
        + ", std="
        + Arrays.toString(std)
        + "}";
  }
}
