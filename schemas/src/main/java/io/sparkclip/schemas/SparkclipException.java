package io.sparkclip.schemas;

/**
 * A user-facing failure that states the problem, why it occurred, and how to fix it (Delta's rule).
 * Build instances through {@link Errors} so that messages stay consistent.
 */
public class SparkclipException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String problem;
  private final String reason;
  private final String fix;

  public SparkclipException(String problem, String reason, String fix) {
    this(problem, reason, fix, null);
  }

  public SparkclipException(String problem, String reason, String fix, Throwable cause) {
    super(format(problem, reason, fix), cause);
    this.problem = problem;
    this.reason = reason;
    this.fix = fix;
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

  static String format(String problem, String reason, String fix) {
    return problem + "\n  Cause: " + reason + "\n  Fix:   " + fix;
  }
}
