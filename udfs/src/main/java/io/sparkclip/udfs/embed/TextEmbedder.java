package io.sparkclip.udfs.embed;

import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.RowStatus;
import io.sparkclip.udfs.session.OnnxTower;
import io.sparkclip.udfs.text.ClipTokenizer;
import java.util.ArrayList;
import java.util.List;

/** Captions -> CLIP text embeddings; null captions get {@link RowStatus#NULL_INPUT}. */
public final class TextEmbedder implements BatchEmbedder<String> {
  private final ClipTokenizer tokenizer;
  private final OnnxTower tower;

  /** The tower's session (its device and file; tests check which device a task got). */
  public OnnxTower tower() {
    return tower;
  }

  public TextEmbedder(ClipTokenizer tokenizer, OnnxTower tower) {
    this.tokenizer = tokenizer;
    this.tower = tower;
    int ctx = tower.contextLength();
    if (ctx > 0 && ctx != tokenizer.contextLength()) {
      throw ClipErrors.badConfig(
          "config.json",
          "text_cfg.context_length is "
              + tokenizer.contextLength()
              + " but "
              + tower.file()
              + " expects "
              + ctx
              + " tokens.",
          "set text_cfg.context_length to " + ctx + ".");
    }
  }

  @Override
  public PreparedBatch prepare(List<String> texts) {
    int n = texts.size();
    EmbedResult[] failures = new EmbedResult[n];
    List<String> good = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (texts.get(i) == null) {
        failures[i] = EmbedResult.failed(RowStatus.NULL_INPUT, "caption is null");
      } else {
        good.add(texts.get(i));
      }
    }
    long[] ids = new long[good.size() * tokenizer.contextLength()];
    if (!good.isEmpty()) {
      tokenizer.tokenize(good, ids);
    }
    return new PreparedBatch(failures, null, ids);
  }

  @Override
  public EmbedResult[] infer(PreparedBatch b) {
    if (b.good == 0) {
      return b.failures.clone();
    }
    return b.merge(tower.runTokens(b.tokens, b.good, tokenizer.contextLength()));
  }
}
