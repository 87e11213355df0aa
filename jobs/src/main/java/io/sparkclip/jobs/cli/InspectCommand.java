package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.inspect.InspectJob;
import io.sparkclip.jobs.stage.Sparks;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Detect the layout of a Parquet dataset and print its row count, layout, column mapping,",
      "status counts and a few sample rows."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip inspect /tmp/raw",
      "  sparkclip inspect s3a://bucket/laion-meta --caption-col TEXT --url-col URL",
    })
public final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "PATH", description = "Parquet dataset to inspect.")
  String path;

  @Option(
      names = "--samples",
      defaultValue = "5",
      description = "Sample rows to show (default: ${DEFAULT-VALUE}).")
  int samples;

  @Mixin MappingOptions mapping;
  @Mixin SparkOptions spark;
  @Mixin ProgressOptions progress;

  @Override
  public Integer call() {
    try (Sparks s = spark.open("inspect").withProgress(progress.mode(), "inspect")) {
      InspectJob.Report report =
          new InspectJob(s.session(), new InspectJob.Options(path, mapping.mapping(), samples))
              .run();
      System.out.print(report.render());
    }
    return 0;
  }
}
