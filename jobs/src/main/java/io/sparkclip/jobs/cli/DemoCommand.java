package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.demo.DemoJob;
import io.sparkclip.jobs.stage.Sparks;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Generate scraped pairs with injected faults, curate them with the demo CLIP model,",
      "evaluate the decisions against the ground truth and write the HTML report."
    },
    footer = {"", "Example:", "  ./sparkclip demo            (writes /tmp/sparkclip-demo)"})
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--out", description = "Output root (default: /tmp/sparkclip-demo).")
  String out = "/tmp/sparkclip-demo";

  @Option(names = "--rows", description = "Pairs to generate (default: 3000).")
  int rows = 3000;

  @Option(names = "--seed", description = "Generator seed (default: 42).")
  long seed = 42;

  @Option(names = "--model", description = "Model directory (default: models/sparkclip-demo-clip).")
  String model;

  @Option(names = "--cap", description = "Pairs per query after balancing (default: 60).")
  long cap = 60;

  @Option(
      names = "--threshold",
      description = "clip_score threshold (default: 0.45, measured for the demo model).")
  Double threshold;

  @Option(
      names = "--no-overwrite",
      negatable = true,
      description = "Keep an existing output root (default: replace it).")
  boolean overwrite = true;

  @Mixin SparkOptions spark;

  @Override
  public Integer call() {
    try (Sparks s = spark.open("demo")) {
      DemoJob.Result r =
          new DemoJob(
                  s.session(),
                  new DemoJob.Options(out, rows, seed, model, cap, threshold, overwrite))
              .run(System.out);
      return r.evaluation().capHolds() ? 0 : 1;
    }
  }
}
