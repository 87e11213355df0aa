package io.sparkclip.udfs.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.udfs.ClipErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;

/**
 * A CLIP model directory in the open_clip / Immich ONNX layout, on the local disk:
 *
 * <pre>
 * config.json                  embed_dim, vision_cfg, text_cfg.context_length [, logit_scale]
 * logit_scale.json             optional: {"logit_scale": ln(scale)} (written by tools/clip_tiny.py)
 * visual/model.onnx            image [N,3,H,W] float32|float16 -> embedding [N,D]
 * visual/preprocess_cfg.json   size, mode, mean, std, interpolation, resize_mode
 * textual/model.onnx           text [N,L] int32|int64 -> embedding [N,D]
 * textual/tokenizer.json       Hugging Face tokenizer
 * </pre>
 *
 * Use {@link ModelCache#localize} to get one from a Hadoop path. Files of a tower are checked when
 * that tower is asked for, so an image-only job does not need the text tower.
 */
public final class ModelDirectory {
  public static final String CONFIG = "config.json";
  public static final String LOGIT_SCALE = "logit_scale.json";
  public static final String VISUAL_ONNX = "visual/model.onnx";
  public static final String PREPROCESS_CFG = "visual/preprocess_cfg.json";
  public static final String TEXTUAL_ONNX = "textual/model.onnx";
  public static final String TOKENIZER = "textual/tokenizer.json";

  /** open_clip clamps the learned temperature at 100. */
  public static final double MAX_LOGIT_SCALE = 100.0;

  private final Path root;
  private final String source;
  private final int embedDim;
  private final int contextLength;
  private final int imageSize;
  private final OptionalDouble logLogitScale;

  private ModelDirectory(
      Path root,
      String source,
      int embedDim,
      int contextLength,
      int imageSize,
      OptionalDouble logLogitScale) {
    this.root = root;
    this.source = source;
    this.embedDim = embedDim;
    this.contextLength = contextLength;
    this.imageSize = imageSize;
    this.logLogitScale = logLogitScale;
  }

  /** Opens a local model directory; {@code source} names it in messages (e.g. the hdfs:// URI). */
  public static ModelDirectory open(Path root, String source) {
    Path cfgFile = require(root, CONFIG, source);
    JsonNode cfg = readJson(cfgFile);
    JsonNode embed = cfg.get("embed_dim");
    if (embed == null || !embed.canConvertToInt() || embed.asInt() <= 0) {
      throw ClipErrors.badConfig(
          cfgFile.toString(),
          "embed_dim is missing or not a positive integer.",
          "add the open_clip field \"embed_dim\" (e.g. 512 for ViT-B/32).");
    }
    int context = cfg.path("text_cfg").path("context_length").asInt(77);
    int imageSize = cfg.path("vision_cfg").path("image_size").asInt(-1);
    OptionalDouble scale = OptionalDouble.empty();
    if (cfg.has("logit_scale")) {
      scale = OptionalDouble.of(cfg.get("logit_scale").asDouble());
    } else if (Files.isRegularFile(root.resolve(LOGIT_SCALE))) {
      JsonNode ls = readJson(root.resolve(LOGIT_SCALE));
      if (!ls.path("logit_scale").isNumber()) {
        throw ClipErrors.badConfig(
            root.resolve(LOGIT_SCALE).toString(),
            "field logit_scale is missing or not a number.",
            "write {\"logit_scale\": <ln of the temperature>} or delete the file.");
      }
      scale = OptionalDouble.of(ls.get("logit_scale").asDouble());
    }
    return new ModelDirectory(root, source, embed.asInt(), context, imageSize, scale);
  }

  public static ModelDirectory open(Path root) {
    return open(root, root.toString());
  }

  private static Path require(Path root, String rel, String source) {
    Path p = root.resolve(rel);
    if (!Files.isRegularFile(p)) {
      throw ClipErrors.missingFile(source + "/" + rel, source);
    }
    return p;
  }

  private static JsonNode readJson(Path file) {
    try {
      return new ObjectMapper().readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw ClipErrors.unreadableJson(file.toString(), e);
    }
  }

  public Path root() {
    return root;
  }

  /** Where the directory came from (a Hadoop URI or the local path). */
  public String source() {
    return source;
  }

  public int embedDim() {
    return embedDim;
  }

  public int contextLength() {
    return contextLength;
  }

  /** {@code vision_cfg.image_size}, or -1 when config.json does not say. */
  public int imageSize() {
    return imageSize;
  }

  /** The learned temperature as stored by open_clip (natural log), if the directory has one. */
  public OptionalDouble logLogitScale() {
    return logLogitScale;
  }

  /** {@code exp(logit_scale)} clamped at 100 like open_clip, or CLIP's init 1/0.07 if absent. */
  public double logitScale() {
    return Math.min(MAX_LOGIT_SCALE, Math.exp(logLogitScale.orElse(Math.log(1 / 0.07))));
  }

  public Path visualOnnx() {
    return require(root, VISUAL_ONNX, source);
  }

  public Path textualOnnx() {
    return require(root, TEXTUAL_ONNX, source);
  }

  public Path tokenizerJson() {
    return require(root, TOKENIZER, source);
  }

  public PreprocessConfig preprocessConfig() {
    PreprocessConfig p = PreprocessConfig.read(require(root, PREPROCESS_CFG, source));
    if (imageSize > 0 && p.size() != imageSize) {
      throw ClipErrors.badConfig(
          source + "/" + PREPROCESS_CFG,
          "size " + p.size() + " differs from config.json vision_cfg.image_size " + imageSize + ".",
          "make both the image size the visual model was exported with.");
    }
    return p;
  }

  @Override
  public String toString() {
    return "ModelDirectory{" + source + " at " + root + ", embed_dim=" + embedDim + "}";
  }
}
