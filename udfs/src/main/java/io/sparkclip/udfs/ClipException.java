package io.sparkclip.udfs;

/** A user-facing failure of the CLIP engine; the message states problem, cause and fix. */
public class ClipException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ClipException(String message) {
    super(message);
  }

  public ClipException(String message, Throwable cause) {
    super(message, cause);
  }
}
