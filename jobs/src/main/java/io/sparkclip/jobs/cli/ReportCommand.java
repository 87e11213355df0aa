package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.report.ReportJob;
import io.sparkclip.jobs.stage.Sparks;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "One self-contained HTML report of a curate run (no network needed to view it): funnel,",
      "per-query counts before/after balancing, clip_score and query_score histograms with the",
      "threshold, and kept vs rejected samples with captions, scores and reasons."
    },
    footer = {"", "Example:", "  sparkclip report /tmp/curated --out /tmp/curated/report.html"})
public final class ReportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "CURATED", description = "Output root of sparkclip curate.")
  String curated;

  @Option(names = "--out", required = true, description = "HTML file to write.")
  String out;

  @Option(names = "--samples", description = "Kept and rejected samples shown (default: 24 each).")
  int samples = 24;

  @Mixin SparkOptions spark;
  @Mixin ProgressOptions progress;

  @Override
  public Integer call() {
    try (Sparks s = spark.open("report").withProgress(progress.mode(), "report")) {
      System.out.println("Report: " + new ReportJob(s.session(), curated, out, samples).run());
      return 0;
    }
  }
}
