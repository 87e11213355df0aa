package io.sparkclip.udfs.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.udfs.ClipErrors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CLIP tokenization with DJL's Hugging Face tokenizers binding on {@code textual/tokenizer.json},
 * packed the way open_clip's {@code tokenize()} does ({@link TokenPacker}): {@code <|startoftext|>
 * ... <|endoftext|>}, truncated keeping the end token, padded with 0. Thread-safe.
 */
public final class ClipTokenizer implements AutoCloseable {
  public static final String SOT = "<|startoftext|>";
  public static final String EOT = "<|endoftext|>";

  private final HuggingFaceTokenizer tokenizer;
  private final TokenPacker packer;
  private final int maxChars;

  private ClipTokenizer(HuggingFaceTokenizer tokenizer, TokenPacker packer) {
    this.tokenizer = tokenizer;
    this.packer = packer;
    this.maxChars = 32 * packer.contextLength();
  }

  public static ClipTokenizer load(Path tokenizerJson, int contextLength) {
    try {
      JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(tokenizerJson));
      int sot = specialId(root, SOT);
      int eot = specialId(root, EOT);
      Map<String, String> opts = new HashMap<>();
      opts.put("addSpecialTokens", "true");
      opts.put("truncation", "false");
      opts.put("padding", "false");
      opts.put("modelMaxLength", String.valueOf(Integer.MAX_VALUE));
      HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(tokenizerJson, opts);
      return new ClipTokenizer(t, new TokenPacker(contextLength, sot, eot, 0));
    } catch (Exception | UnsatisfiedLinkError e) {
      throw ClipErrors.tokenizerFailed(tokenizerJson.toString(), e);
    }
  }

  private static int specialId(JsonNode root, String token) {
    for (JsonNode t : root.path("added_tokens")) {
      if (token.equals(t.path("content").asText())) {
        return t.path("id").asInt();
      }
    }
    JsonNode v = root.path("model").path("vocab").get(token);
    if (v == null) {
      throw new IllegalArgumentException("tokenizer.json has no " + token + " token");
    }
    return v.asInt();
  }

  public int contextLength() {
    return packer.contextLength();
  }

  /**
   * Very long texts (web alt text) are cut at a whitespace after {@code 32 * context} chars first:
   * at least one char per token means the cut never changes the kept tokens.
   */
  String clip(String text) {
    if (text.length() <= maxChars) {
      return text;
    }
    int cut = maxChars;
    while (cut < text.length() && !Character.isWhitespace(text.charAt(cut))) {
      cut++;
    }
    return text.substring(0, cut);
  }

  /** Packed ids of one text (length = context length). */
  public long[] tokenize(String text) {
    return packer.pack(tokenizer.encode(clip(text)).getIds());
  }

  /** Packs {@code texts} into {@code out} ([n, context] row-major); returns unpadded lengths. */
  public int[] tokenize(List<String> texts, long[] out) {
    String[] clipped = new String[texts.size()];
    for (int i = 0; i < clipped.length; i++) {
      clipped[i] = clip(texts.get(i));
    }
    Encoding[] enc = tokenizer.batchEncode(clipped);
    int[] lengths = new int[enc.length];
    for (int i = 0; i < enc.length; i++) {
      lengths[i] = packer.pack(enc[i].getIds(), out, i * packer.contextLength());
    }
    return lengths;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
