package io.sparkclip.jobs;

import io.sparkclip.jobs.cli.BalanceCommand;
import io.sparkclip.jobs.cli.BasicFilterCommand;
import io.sparkclip.jobs.cli.CurateCommand;
import io.sparkclip.jobs.cli.DecontaminateCommand;
import io.sparkclip.jobs.cli.DedupCommand;
import io.sparkclip.jobs.cli.DemoCommand;
import io.sparkclip.jobs.cli.DownloadCommand;
import io.sparkclip.jobs.cli.EmbedCommand;
import io.sparkclip.jobs.cli.EvaluateCommand;
import io.sparkclip.jobs.cli.ExportCommand;
import io.sparkclip.jobs.cli.FilterCommand;
import io.sparkclip.jobs.cli.GenerateCommand;
import io.sparkclip.jobs.cli.InspectCommand;
import io.sparkclip.jobs.cli.MatchQueriesCommand;
import io.sparkclip.jobs.cli.ReportCommand;
import io.sparkclip.jobs.cli.ScoreCommand;
import io.sparkclip.jobs.cli.SemDedupCommand;
import io.sparkclip.schemas.SparkclipException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one entry point: {@code sparkclip <command> [options]}. Each command is a class that parses
 * its options and delegates to a job's {@code run()}. Also the shaded jar's Main-Class, so {@code
 * spark-submit sparkclip-jobs.jar <command> …} works.
 */
@Command(
    name = "sparkclip",
    mixinStandardHelpOptions = true,
    version = "sparkclip 0.1.0",
    description = "Curate web-scale image-text pairs into an embedded CLIP dataset, on Spark.",
    subcommands = {
      GenerateCommand.class,
      InspectCommand.class,
      DownloadCommand.class,
      MatchQueriesCommand.class,
      BasicFilterCommand.class,
      DedupCommand.class,
      DecontaminateCommand.class,
      BalanceCommand.class,
      EmbedCommand.class,
      ScoreCommand.class,
      FilterCommand.class,
      SemDedupCommand.class,
      CurateCommand.class,
      DemoCommand.class,
      EvaluateCommand.class,
      ReportCommand.class,
      ExportCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Run 'sparkclip <command> --help' for a command's options and examples.",
      "Exit codes: 0 ok, 1 failure, 2 bad input or usage (the message says how to fix it)."
    })
public final class SparkclipCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command in-process and returns its exit code (tests and notebooks call this). */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new SparkclipCli());
    cl.setExecutionExceptionHandler(SparkclipCli::handle);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    return cl.execute(args);
  }

  private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
    PrintWriter err = cl.getErr();
    SparkclipException known = find(e);
    if (known != null) {
      // The message starts with the error id, e.g. "[OUTPUT_EXISTS] …" (see docs/errors.md).
      err.println("sparkclip " + cl.getCommandName() + ": " + known.getMessage());
      err.flush();
      return 2;
    }
    err.println("sparkclip " + cl.getCommandName() + " failed: " + e);
    e.printStackTrace(err);
    err.flush();
    return 1;
  }

  /** A user error (bad input, options or model directory), possibly wrapped by Spark. */
  private static SparkclipException find(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SparkclipException s) {
        return s;
      }
    }
    return null;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
