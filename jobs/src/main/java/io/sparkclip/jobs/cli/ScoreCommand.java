package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.score.ScoreJob;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Sparks;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description = {
      "Score embedded pairs: clip_score (image-caption cosine), query_score (image vs the",
      "query's prompt-template classifier) and in-batch contrastive ranks and loss within",
      "fixed groups of K pairs (image_rank, text_rank, group_loss, group_id, group_size)."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip score /tmp/embedded --model models/sparkclip-demo-clip --out /tmp/scored",
      "  sparkclip score /tmp/embedded --model ... --group-size 128 \\",
      "      --template 'a photo of a {query}.' --template 'a sketch of a {query}.' --out /tmp/s",
      "",
      "Next: sparkclip filter /tmp/scored --min-clip-score 0.28 --out /tmp/filtered"
    })
public final class ScoreCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Output of sparkclip embed.")
  String input;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--model",
      required = true,
      description = "The model the pairs were embedded with.")
  String model;

  @Option(
      names = "--template",
      description = "Prompt template with {query} (repeatable; default: 5 CLIP-paper templates).")
  List<String> templates = new ArrayList<>();

  @Option(names = "--group-size", description = "Pairs per in-batch group K (default: 256).")
  int groupSize = 256;

  @Option(names = "--device", description = "cpu, cuda, cuda:N or auto (default: auto).")
  String device = "auto";

  @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Mixin SparkOptions spark;

  @Override
  public Integer call() {
    try (Sparks s = spark.open("score")) {
      CurationSummary summary =
          new ScoreJob(
                  s.session(),
                  new ScoreJob.Options(
                      input,
                      out,
                      model,
                      templates.isEmpty() ? ScoreJob.DEFAULT_TEMPLATES : templates,
                      groupSize,
                      64,
                      device,
                      overwrite))
              .run();
      System.out.print(summary.render());
      return summary.balanced() ? 0 : 1;
    }
  }
}
