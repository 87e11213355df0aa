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
      "Semantic dedup (SemDeDup) on CLIP image embeddings: identical embeddings are grouped",
      "first, a tree of small k-means (cosine, --branching children per node, each trained on",
      "a bounded sample) cuts the rest into leaf clusters, then within each leaf every pair with",
      "cosine >= 1 - epsilon is a duplicate; connected groups keep one row (--keep, as in",
      "dedup), the rest go to <out>/rejects as semantic_duplicate with the kept uid. Reads the",
      "output of embed, score or filter. Writes <out>/data, <out>/rejects and",
      "<out>/_summary.json."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip semdedup /tmp/filtered --out /tmp/semdedup",
      "  sparkclip semdedup /tmp/embedded --out /tmp/semdedup --clusters 500 --epsilon 0.05",
      "  sparkclip semdedup /tmp/embedded --out /tmp/marked --mark-only --keep lowest-uid",
      "",
      "Cost: rows x branching x tree depth dot products for the tree, plus the sum over leaves",
      "of n_leaf^2/2 cosine products; more --clusters (or a smaller --leaf-size) means smaller",
      "leaves and fewer products (auto: one leaf per ~1,000 rows). A node k-means cannot split",
      "is cut into chunks of 4x the target leaf size along its principal direction, so no",
      "leaf grows with the data."
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
          "About this many leaf clusters; 0 = auto, one per --leaf-size embedded rows (default: "
              + Options.CLUSTERS_DEFAULT
              + ").")
  int clusters;

  @Option(
      names = "--" + Options.LEAF_SIZE,
      description =
          "Rows per leaf cluster that --clusters 0 aims for (default: "
              + Options.LEAF_SIZE_DEFAULT
              + ").")
  int leafSize;

  @Option(
      names = "--" + Options.BRANCHING,
      description =
          "Children per node of the cluster tree, the k of each node's k-means (default: "
              + Options.BRANCHING_DEFAULT
              + ").")
  int branching;

  @Option(
      names = "--" + Options.MAX_DEPTH,
      description =
          "Levels of k-means splits at most; a node still too big below them is cut into chunks"
              + " (default: "
              + Options.MAX_DEPTH_DEFAULT
              + ").")
  int maxDepth;

  @Option(
      names = "--" + Options.SPILL,
      description =
          "A row this close to a tree split (a fraction of the distance at which a duplicate"
              + " could lie across it) is also compared on the other side; 0 = off, 1 = no"
              + " duplicate missed at a split (default: "
              + Options.SPILL_DEFAULT
              + ").")
  double spill;

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
      description =
          "Max k-means iterations of each tree node (default: "
              + Options.KMEANS_ITERATIONS_DEFAULT
              + ").")
  int kmeansIterations;

  @Option(
      names = "--" + Options.TRAIN_FRACTION,
      description =
          "Train each node's k-means on this random fraction of its rows (at most "
              + SemDedupJob.TRAIN_SAMPLE_PER_CHILD
              + " per child); all rows are assigned (default: "
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
