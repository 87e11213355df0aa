package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.stage.Sparks;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Spark options every command takes. */
public final class SparkOptions {
  @Option(
      names = "--master",
      description =
          "Spark master URL. Default: the one spark-submit gives, else local[*] (embedded).")
  String master;

  @Option(
      names = {"-c", "--conf"},
      description = "Extra Spark configuration, key=value (repeatable).",
      paramLabel = "KEY=VALUE")
  Map<String, String> conf = new LinkedHashMap<>();

  public Sparks open(String command) {
    return Sparks.open("sparkclip " + command, master, conf);
  }
}
