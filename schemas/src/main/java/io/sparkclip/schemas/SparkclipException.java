package io.sparkclip.schemas;

import java.util.Objects;

/**
 * A user-facing failure that states the problem, why it occurred, and how to fix it (Delta's rule).
 * Build instances through {@link Errors} (or the engine's ClipErrors) so that messages stay
 * consistent; each carries a stable {@link ErrorId} that its message starts with.
 */
public class SparkclipException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorId id;
  private final String problem;
  private final String reason;
  private final String fix;

  public SparkclipException(ErrorId id, String problem, String reason, String fix) {
    this(id, problem, reason, fix, null);
  }

  public SparkclipException(
      ErrorId id, String problem, String reason, String fix, Throwable cause) {
    super(format(Objects.requireNonNull(id, "id"), problem, reason, fix), cause);
    this.id = id;
    this.problem = problem;
    this.reason = reason;
    this.fix = fix;
  }

  public ErrorId id() {
    return id;
  }

  public String problem() {
    return problem;
  }

  public String reason() {
    return reason;
  }

  public String fix() {
    return fix;
  }

  static String format(ErrorId id, String problem, String reason, String fix) {
    return "[" + id.name() + "] " + problem + "\n  Cause: " + reason + "\n  Fix:   " + fix;
  }
}
