package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.filter.FilterJob;
import io.sparkclip.jobs.filter.FilterJob.Options;
import io.sparkclip.jobs.filter.FilterStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "filter",
    mixinStandardHelpOptions = true,
    description = {
      "Keep scored pairs by rules (combinable, applied in this order): embed failures out,",
      "--min-clip-score, --top-percent (global), --per-query-top-percent, --max-rank,",
      "--min-query-score, then --min/--max bounds on any numeric column (a null or NaN",
      "value is rejected as score_missing). Removed rows go to <out>/rejects with the rule",
      "as reason."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip filter /tmp/scored --min-clip-score 0.28 --out /tmp/filtered   (LAION, B/32)",
      "  sparkclip filter /tmp/scored --top-percent 30 --out /tmp/filtered        (DataComp)",
      "  sparkclip filter /tmp/scored --per-query-top-percent 50 --max-rank 5 --out /tmp/f",
      "  sparkclip filter /tmp/scored --min aesthetic_score=5.0 --max nsfw_score=0.5 --out /tmp/f"
    })
public final class FilterCommand extends StageCommand<FilterJob.Options> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Output of sparkclip score.")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(names = "--" + Options.MIN_CLIP_SCORE, description = "Reject clip_score below this.")
  Double minClipScore;

  @Option(names = "--" + Options.TOP_PERCENT, description = "Keep the global top P% by clip_score.")
  Double topPercent;

  @Option(names = "--" + Options.PER_QUERY_TOP_PERCENT, description = "Keep each query's top P%.")
  Double perQueryTopPercent;

  @Option(
      names = "--" + Options.MAX_RANK,
      description = "Reject when the own caption ranks below R.")
  Integer maxRank;

  @Option(names = "--" + Options.MIN_QUERY_SCORE, description = "Reject query_score below this.")
  Double minQueryScore;

  @Option(
      names = "--" + Options.MIN,
      paramLabel = "COLUMN=NUMBER",
      description = "Reject rows whose COLUMN is below NUMBER (repeatable).")
  List<String> min;

  @Option(
      names = "--" + Options.MAX,
      paramLabel = "COLUMN=NUMBER",
      description = "Reject rows whose COLUMN is above NUMBER (repeatable).")
  List<String> max;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Override
  Stage<FilterJob.Options> stage() {
    return new FilterStage();
  }
}
