package io.sparkclip.udfs.embed;

import io.sparkclip.udfs.RowStatus;

/** The outcome for one input row: an L2-normalized embedding, or a status and error message. */
public final class EmbedResult {
  public final RowStatus status;
  public final String error;
  public final float[] embedding;

  private EmbedResult(RowStatus status, String error, float[] embedding) {
    this.status = status;
    this.error = error;
    this.embedding = embedding;
  }

  public static EmbedResult ok(float[] embedding) {
    return new EmbedResult(RowStatus.OK, null, embedding);
  }

  public static EmbedResult failed(RowStatus status, String error) {
    return new EmbedResult(status, error, null);
  }

  public boolean isOk() {
    return status == RowStatus.OK;
  }
}
