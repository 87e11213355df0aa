package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.filter.FilterJob;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Sparks;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "filter",
    mixinStandardHelpOptions = true,
    description = {
      "Keep scored pairs by rules (combinable, applied in this order): embed failures out,",
      "--min-clip-score, --top-percent (global), --per-query-top-percent, --max-rank,",
      "--min-query-score. Removed rows go to <out>/rejects with the rule as reason."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip filter /tmp/scored --min-clip-score 0.28 --out /tmp/filtered   (LAION, B/32)",
      "  sparkclip filter /tmp/scored --top-percent 30 --out /tmp/filtered        (DataComp)",
      "  sparkclip filter /tmp/scored --per-query-top-percent 50 --max-rank 5 --out /tmp/f"
    })
public final class FilterCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Output of sparkclip score.")
  String input;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(names = "--min-clip-score", description = "Reject clip_score below this.")
  Double minClipScore;

  @Option(names = "--top-percent", description = "Keep the global top P% by clip_score.")
  Double topPercent;

  @Option(names = "--per-query-top-percent", description = "Keep each query's top P%.")
  Double perQueryTopPercent;

  @Option(names = "--max-rank", description = "Reject when the own caption ranks below R.")
  Integer maxRank;

  @Option(names = "--min-query-score", description = "Reject query_score below this.")
  Double minQueryScore;

  @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Mixin SparkOptions spark;

  @Override
  public Integer call() {
    try (Sparks s = spark.open("filter")) {
      CurationSummary summary =
          new FilterJob(
                  s.session(),
                  new FilterJob.Options(
                      input,
                      out,
                      minClipScore,
                      topPercent,
                      perQueryTopPercent,
                      maxRank,
                      minQueryScore,
                      overwrite))
              .run();
      System.out.print(summary.render());
      return summary.balanced() ? 0 : 1;
    }
  }
}
