package io.sparkclip.udfs.preprocess;

import io.sparkclip.udfs.RowStatus;

/** One image could not be used; carries the row status. Never fails a batch. */
public final class BadImageException extends Exception {
  private static final long serialVersionUID = 1L;
  private final RowStatus status;

  public BadImageException(RowStatus status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public BadImageException(RowStatus status, String message) {
    this(status, message, null);
  }

  public RowStatus status() {
    return status;
  }
}
