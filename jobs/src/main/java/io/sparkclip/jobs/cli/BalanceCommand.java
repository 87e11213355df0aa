package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.balance.BalanceJob;
import io.sparkclip.jobs.balance.BalanceJob.Options;
import io.sparkclip.jobs.balance.BalanceStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
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
public final class BalanceCommand extends StageCommand<BalanceJob.Options> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Pairs with a query column.")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + Options.CAP,
      description =
          "Max pairs per query; t in probabilistic mode (default: " + Options.CAP_DEFAULT + ").")
  long cap;

  @Option(
      names = "--" + Options.SEED,
      description =
          "Seed of the hash that orders or draws rows (default: " + Options.SEED_DEFAULT + ").")
  long seed;

  @Option(
      names = "--" + Options.MODE,
      description = "cap or probabilistic (default: " + Options.MODE_DEFAULT + ").")
  String mode;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Mixin MappingOptions mapping;

  @Override
  Stage<BalanceJob.Options> stage() {
    return new BalanceStage();
  }
}
