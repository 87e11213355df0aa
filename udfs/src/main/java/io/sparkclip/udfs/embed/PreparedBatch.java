package io.sparkclip.udfs.embed;

import io.sparkclip.udfs.session.ImageInput;
import java.util.Arrays;

/**
 * A batch after preprocessing, ready for the session: model inputs of the usable rows packed
 * contiguously, plus the failure of each unusable row.
 */
public final class PreparedBatch {
  /** Rows in the batch. */
  public final int size;

  /** Per row: null if usable, else its failure. */
  public final EmbedResult[] failures;

  /** Indices (into the batch) of usable rows, in order; {@code good} of them are valid. */
  public final int[] goodIndex;

  public final int good;

  /** Image tensors [good,3,S,S] in the tower's direct input buffer (visual), or null. */
  public final ImageInput images;

  /** Token ids [good,L] (textual) or null. */
  public final long[] tokens;

  PreparedBatch(EmbedResult[] failures, ImageInput images, long[] tokens) {
    this.size = failures.length;
    this.failures = failures;
    int[] idx = new int[size];
    int g = 0;
    for (int i = 0; i < size; i++) {
      if (failures[i] == null) {
        idx[g++] = i;
      }
    }
    this.goodIndex = Arrays.copyOf(idx, g);
    this.good = g;
    this.images = images;
    this.tokens = tokens;
  }

  /** Scatters the embeddings of the usable rows back between the failures. */
  public EmbedResult[] merge(float[][] embeddings) {
    if (embeddings.length != good) {
      throw new IllegalArgumentException(embeddings.length + " embeddings for " + good + " rows");
    }
    EmbedResult[] out = failures.clone();
    for (int k = 0; k < good; k++) {
      out[goodIndex[k]] = EmbedResult.ok(embeddings[k]);
    }
    return out;
  }
}
