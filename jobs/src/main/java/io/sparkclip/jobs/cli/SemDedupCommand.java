package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.semdedup.SemDedupJob;
import io.sparkclip.jobs.semdedup.SemDedupJob.Options;
import io.sparkclip.jobs.semdedup.SemDedupStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "semdedup",
    mixinStandardHelpOptions = true,
    description = {
      "Semantic dedup (SemDeDup) on CLIP image embeddings: Spark MLlib k-means (cosine), then",
      "within each cluster every pair with cosine >= 1 - epsilon is a duplicate; connected",
      "groups keep one row (--keep, as in dedup), the rest go to <out>/rejects as",
      "semantic_duplicate with the kept uid. Reads the output of embed, score or filter.",
      "Writes <out>/data, <out>/rejects and <out>/_summary.json."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip semdedup /tmp/filtered --out /tmp/semdedup",
      "  sparkclip semdedup /tmp/embedded --out /tmp/semdedup --clusters 500 --epsilon 0.05",
      "  sparkclip semdedup /tmp/embedded --out /tmp/marked --mark-only --keep lowest-uid",
      "",
      "Cost: k-means plus sum over clusters of n_c^2/2 cosine products; more --clusters means",
      "smaller clusters and fewer products (auto: one cluster per ~1,000 rows)."
    })
public final class SemDedupCommand extends StageCommand<SemDedupJob.Options> {
  @Parameters(
      index = "0",
      paramLabel = "INPUT",
      description = "Embedded pairs (the output of embed, score or filter).")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Option(
      names = "--" + Options.CLUSTERS,
      description =
          "k-means k; 0 = auto, one per ~1,000 embedded rows (default: "
              + Options.CLUSTERS_DEFAULT
              + ").")
  int clusters;

  @Option(
      names = "--" + Options.EPSILON,
      description =
          "Pairs with cosine >= 1 - epsilon are duplicates (SemDeDup/NeMo Curator: 0.01;"
              + " default: "
              + Options.EPSILON_DEFAULT
              + ").")
  double epsilon;

  @Option(
      names = "--" + Options.EMBEDDING_COL,
      description =
          "Embedding column, array<float> or fp16 binary (default: "
              + Options.EMBEDDING_COL_DEFAULT
              + "; use text_embedding for --text-only data).")
  String embeddingCol;

  @Option(
      names = "--" + Options.KMEANS_ITERATIONS,
      description = "Max k-means iterations (default: " + Options.KMEANS_ITERATIONS_DEFAULT + ").")
  int kmeansIterations;

  @Option(
      names = "--" + Options.TRAIN_FRACTION,
      description =
          "Train k-means on this random fraction of the rows; all rows are assigned (default: "
              + Options.TRAIN_FRACTION_DEFAULT
              + ").")
  double trainFraction;

  @Option(
      names = "--" + Options.SEED,
      description = "k-means and sampling seed (default: " + Options.SEED_DEFAULT + ").")
  long seed;

  @Option(
      names = "--" + StageKeys.KEEP,
      description =
          "Row kept per group: largest, lowest-uid, longest-caption (default: "
              + StageKeys.KEEP_DEFAULT
              + ").")
  String keep;

  @Option(
      names = "--" + StageKeys.MARK_ONLY,
      description = "Keep duplicates in data with dup_of set instead of rejecting them.")
  boolean markOnly;

  @Option(
      names = "--" + StageKeys.MAX_ITERATIONS,
      description =
          "Max connected-component rounds (default: " + StageKeys.MAX_ITERATIONS_DEFAULT + ").")
  int maxIterations;

  @Mixin MappingOptions mapping;

  @Override
  Stage<SemDedupJob.Options> stage() {
    return new SemDedupStage();
  }
}
