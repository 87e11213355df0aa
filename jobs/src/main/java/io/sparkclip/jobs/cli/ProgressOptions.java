package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.stage.ConsoleProgress;
import picocli.CommandLine.Option;

/** How a command shows progress on stderr. */
public final class ProgressOptions {
  @Option(
      names = "--quiet",
      description = "No progress output (scripts); the summary is still printed.")
  boolean quiet;

  @Option(
      names = "--progress",
      description =
          "auto (a bar on a terminal, one line per step otherwise), bar, lines or quiet"
              + " (default: auto).")
  ConsoleProgress.Mode mode = ConsoleProgress.Mode.AUTO;

  public ConsoleProgress.Mode mode() {
    return quiet ? ConsoleProgress.Mode.QUIET : mode;
  }
}
