package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.evaluate.EvaluateJob;
import io.sparkclip.jobs.stage.Sparks;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Compare a curate run's decisions with the generator's ground truth: precision/recall of",
      "shuffled-caption detection, dedup recall per duplicate kind and precision, cap compliance.",
      "Writes <curated>/_evaluation.json."
    },
    footer = {
      "",
      "Example:",
      "  sparkclip evaluate /tmp/curated --ground-truth /tmp/raw/_ground_truth --cap 20000"
    })
public final class EvaluateCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "CURATED", description = "Output root of sparkclip curate.")
  String curated;

  @Option(names = "--ground-truth", required = true, description = "generate's _ground_truth/.")
  String groundTruth;

  @Option(names = "--cap", description = "The balance cap to check.")
  Long cap;

  @Mixin SparkOptions spark;
  @Mixin ProgressOptions progress;

  @Override
  public Integer call() {
    try (Sparks s = spark.open("evaluate").withProgress(progress.mode(), "evaluate")) {
      EvaluateJob.Evaluation e = new EvaluateJob(s.session(), groundTruth, curated, cap).run();
      System.out.print(e.render());
      return 0;
    }
  }
}
