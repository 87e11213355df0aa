package io.sparkclip.udfs.text;

/**
 * open_clip's {@code tokenize()} post-processing on ids that already carry start/end tokens:
 * truncate to the context length keeping the end-of-text token last, then pad with the pad id.
 */
public final class TokenPacker {
  private final int contextLength;
  private final int sot;
  private final int eot;
  private final int pad;

  public TokenPacker(int contextLength, int sot, int eot, int pad) {
    if (contextLength < 2) {
      throw new IllegalArgumentException("context length " + contextLength + " < 2");
    }
    this.contextLength = contextLength;
    this.sot = sot;
    this.eot = eot;
    this.pad = pad;
  }

  public int contextLength() {
    return contextLength;
  }

  /**
   * Writes the packed ids of one text into {@code out[offset .. offset+contextLength)}. Adds
   * start/end tokens when the tokenizer did not.
   *
   * @return the number of non-pad tokens written
   */
  public int pack(long[] ids, long[] out, int offset) {
    int n = 0;
    int i = 0;
    if (ids.length == 0 || ids[0] != sot) {
      out[offset + n++] = sot;
    }
    for (; i < ids.length && n < contextLength; i++) {
      out[offset + n++] = ids[i];
    }
    if (out[offset + n - 1] != eot) {
      if (n < contextLength) {
        out[offset + n++] = eot;
      } else {
        out[offset + contextLength - 1] = eot; // truncated: end-of-text stays last
      }
    } else if (i < ids.length) {
      out[offset + contextLength - 1] = eot;
    }
    for (int k = n; k < contextLength; k++) {
      out[offset + k] = pad;
    }
    return n;
  }

  public long[] pack(long[] ids) {
    long[] out = new long[contextLength];
    pack(ids, out, 0);
    return out;
  }
}
