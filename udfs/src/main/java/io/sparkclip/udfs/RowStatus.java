package io.sparkclip.udfs;

/**
 * Per-row outcome written to the status column; rows that are not {@link #OK} have no embedding.
 */
public enum RowStatus {
  OK("ok"),
  /** The input is null (image bytes or caption). */
  NULL_INPUT("null_input"),
  /** Zero-length image bytes. */
  EMPTY_IMAGE("empty_image"),
  /** No decoder understood the bytes, or decoding failed. */
  DECODE_ERROR("decode_error"),
  /** Width x height above the configured pixel limit (decompression-bomb guard). */
  TOO_LARGE("too_large");

  private final String value;

  RowStatus(String value) {
    this.value = value;
  }

  /** The string stored in the status column. */
  public String value() {
    return value;
  }
}
