package io.sparkclip.udfs.head;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.session.OnnxHead;
import io.sparkclip.udfs.session.SessionCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A score head directory on the local disk:
 *
 * <pre>
 * model.onnx   float [N, D] (L2-normalised embeddings) -> float [N, 1] or [N]
 * head.json    {"input": "image" | "text", "embedding_dim": D, "description": "...",
 *               "output": "score"}   (output: optional, the output to read when there are several)
 * </pre>
 *
 * {@link #open} checks head.json; {@link #checkOnnx} loads model.onnx once and checks its signature
 * against it, so a bad head fails on the driver before any Spark work, not in a task.
 */
public final class HeadDirectory {
  public static final String MODEL_ONNX = "model.onnx";
  public static final String HEAD_JSON = "head.json";

  /** Which embedding a head reads. */
  public enum Input {
    IMAGE,
    TEXT;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Path root;
  private final String source;
  private final Input input;
  private final int embeddingDim;
  private final String description;
  private final String output;

  private HeadDirectory(
      Path root, String source, Input input, int embeddingDim, String description, String output) {
    this.root = root;
    this.source = source;
    this.input = input;
    this.embeddingDim = embeddingDim;
    this.description = description;
    this.output = output;
  }

  /** Opens a local head directory; {@code source} names it in messages (e.g. an hdfs:// URI). */
  public static HeadDirectory open(Path root, String source) {
    Path json = root.resolve(HEAD_JSON);
    if (!Files.isRegularFile(root.resolve(MODEL_ONNX)) || !Files.isRegularFile(json)) {
      throw ClipErrors.headDirectoryInvalid(
          source,
          "it has no "
              + (Files.isRegularFile(json) ? MODEL_ONNX : HEAD_JSON)
              + " (found: "
              + listing(root)
              + ").");
    }
    JsonNode cfg;
    try {
      cfg = new ObjectMapper().readTree(json.toFile());
    } catch (IOException e) {
      throw ClipErrors.headDirectoryInvalid(
          source, HEAD_JSON + " is not valid JSON (" + e.getMessage() + ").");
    }
    if (cfg == null || !cfg.isObject()) {
      throw ClipErrors.headDirectoryInvalid(source, HEAD_JSON + " is not a JSON object.");
    }
    String in = cfg.path("input").asText("");
    Input input;
    if (in.equals("image")) {
      input = Input.IMAGE;
    } else if (in.equals("text")) {
      input = Input.TEXT;
    } else {
      throw ClipErrors.headDirectoryInvalid(
          source, HEAD_JSON + " field \"input\" is '" + in + "', not \"image\" or \"text\".");
    }
    JsonNode dim = cfg.get("embedding_dim");
    if (dim == null || !dim.canConvertToInt() || !dim.isIntegralNumber() || dim.asInt() <= 0) {
      throw ClipErrors.headDirectoryInvalid(
          source, HEAD_JSON + " field \"embedding_dim\" is missing or not a positive integer.");
    }
    String description = cfg.path("description").asText("");
    if (description.isBlank()) {
      throw ClipErrors.headDirectoryInvalid(
          source,
          HEAD_JSON
              + " field \"description\" is missing or empty; say what the score means and its"
              + " range.");
    }
    JsonNode out = cfg.get("output");
    if (out != null && !out.isNull() && (!out.isTextual() || out.asText().isBlank())) {
      throw ClipErrors.headDirectoryInvalid(
          source, HEAD_JSON + " field \"output\" is not an output name.");
    }
    return new HeadDirectory(
        root,
        source,
        input,
        dim.asInt(),
        description,
        out == null || out.isNull() ? null : out.asText());
  }

  private static String listing(Path root) {
    if (!Files.isDirectory(root)) {
      return "no such directory";
    }
    try (var s = Files.list(root)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList().toString();
    } catch (IOException e) {
      return "unreadable: " + e.getMessage();
    }
  }

  /**
   * Loads model.onnx once (outside the session cache) and checks it against head.json: one float
   * input whose width, when fixed, is {@code embedding_dim}, and one score output. Returns the name
   * of the output to read.
   */
  public String checkOnnx() {
    try (OnnxHead h = SessionCache.openHead(modelOnnx())) {
      if (h.inputWidth() > 0 && h.inputWidth() != embeddingDim) {
        throw ClipErrors.headDirectoryInvalid(
            source,
            HEAD_JSON
                + " says embedding_dim "
                + embeddingDim
                + " but "
                + MODEL_ONNX
                + " reads inputs of width "
                + h.inputWidth()
                + ".");
      }
      return h.output(output);
    }
  }

  /**
   * Fails unless the head reads embeddings of {@code width}: the width of the {@code input}
   * embeddings of the model {@code model} (which embedded the pairs).
   */
  public void checkWidth(String headName, int width, String model) {
    if (width != embeddingDim) {
      throw ClipErrors.headWidthMismatch(
          headName, source, input.label(), embeddingDim, width, model);
    }
  }

  public Path root() {
    return root;
  }

  public String source() {
    return source;
  }

  public Path modelOnnx() {
    return root.resolve(MODEL_ONNX);
  }

  public Input input() {
    return input;
  }

  public int embeddingDim() {
    return embeddingDim;
  }

  public String description() {
    return description;
  }

  /** The output named in head.json, or null (the model's only output). */
  public String output() {
    return output;
  }

  @Override
  public String toString() {
    return "HeadDirectory{" + source + ", " + input.label() + " [N," + embeddingDim + "]}";
  }
}
