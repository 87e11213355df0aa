package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.Sparks;
import io.sparkclip.jobs.balance.BalanceJob;
import io.sparkclip.jobs.curate.CurationSummary;
import io.sparkclip.schemas.Errors;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "balance",
    mixinStandardHelpOptions = true,
    description = {
      "Cap the pairs per query (WIT: at most 20,000). Deterministic: survivors depend only on",
      "the data and --seed (rank by xxhash64(uid, seed)), never on partitioning.",
      "--mode probabilistic is MetaCLIP's: keep with probability min(1, t / count(q)) per",
      "matched query q, the draw a hash of uid, q and seed. Writes <out>/data, <out>/rejects",
      "(over_cap, no_query), <out>/query_counts (query, rows_before, rows_after) and",
      "<out>/_summary.json."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip balance /tmp/dedup/data --out /tmp/balanced",
      "  sparkclip balance /tmp/dedup/data --out /tmp/balanced --cap 500 --seed 7",
      "  sparkclip balance /tmp/dedup/data --out /tmp/metaclip --mode probabilistic --cap 20000"
    })
public final class BalanceCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Pairs with a query column.")
  String input;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--cap",
      defaultValue = "20000",
      description = "Max pairs per query; t in probabilistic mode (default: ${DEFAULT-VALUE}).")
  long cap;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the hash that orders or draws rows (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--mode",
      defaultValue = "cap",
      description = "cap or probabilistic (default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Mixin MappingOptions mapping;
  @Mixin SparkOptions spark;

  @Override
  public Integer call() {
    BalanceJob.Mode m =
        switch (mode.toLowerCase(Locale.ROOT)) {
          case "cap" -> BalanceJob.Mode.CAP;
          case "probabilistic", "metaclip" -> BalanceJob.Mode.PROBABILISTIC;
          default -> throw Errors.unknownBalanceMode(mode);
        };
    try (Sparks s = spark.open("balance")) {
      CurationSummary summary =
          new BalanceJob(
                  s.session(),
                  new BalanceJob.Options(input, out, mapping.mapping(), overwrite, m, cap, seed))
              .run();
      System.out.print(summary.render());
      return summary.balanced() ? 0 : 1;
    }
  }
}
