package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.semdedup.SemDedupJob;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.KeepPolicy;
import io.sparkclip.jobs.stage.Sparks;
import java.util.concurrent.Callable;
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
public final class SemDedupCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "INPUT",
      description = "Embedded pairs (the output of embed, score or filter).")
  String input;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Option(
      names = "--clusters",
      defaultValue = "0",
      description =
          "k-means k; 0 = auto, one per ~1,000 embedded rows (default: ${DEFAULT-VALUE}).")
  int clusters;

  @Option(
      names = "--epsilon",
      defaultValue = "0.01",
      description =
          "Pairs with cosine >= 1 - epsilon are duplicates (SemDeDup/NeMo Curator: 0.01;"
              + " default: ${DEFAULT-VALUE}).")
  double epsilon;

  @Option(
      names = "--embedding-col",
      defaultValue = "image_embedding",
      description =
          "Embedding column, array<float> or fp16 binary (default: ${DEFAULT-VALUE}; use"
              + " text_embedding for --text-only data).")
  String embeddingCol;

  @Option(
      names = "--kmeans-iterations",
      defaultValue = "20",
      description = "Max k-means iterations (default: ${DEFAULT-VALUE}).")
  int kmeansIterations;

  @Option(
      names = "--train-fraction",
      defaultValue = "1.0",
      description =
          "Train k-means on this random fraction of the rows; all rows are assigned"
              + " (default: ${DEFAULT-VALUE}).")
  double trainFraction;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "k-means and sampling seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--keep",
      defaultValue = "largest",
      description =
          "Row kept per group: largest, lowest-uid, longest-caption (default: ${DEFAULT-VALUE}).")
  String keep;

  @Option(
      names = "--mark-only",
      description = "Keep duplicates in data with dup_of set instead of rejecting them.")
  boolean markOnly;

  @Option(
      names = "--max-iterations",
      defaultValue = "50",
      description = "Max connected-component rounds (default: ${DEFAULT-VALUE}).")
  int maxIterations;

  @Mixin MappingOptions mapping;
  @Mixin SparkOptions spark;

  SemDedupJob.Options options() {
    return new SemDedupJob.Options(
        input,
        out,
        mapping.mapping(),
        overwrite,
        embeddingCol,
        clusters,
        epsilon,
        kmeansIterations,
        trainFraction,
        seed,
        KeepPolicy.fromLabel(keep),
        markOnly,
        maxIterations);
  }

  @Override
  public Integer call() {
    SemDedupJob.Options o = options();
    try (Sparks s = spark.open("semdedup")) {
      CurationSummary summary = new SemDedupJob(s.session(), o).run();
      System.out.print(summary.render());
      return summary.balanced() ? 0 : 1;
    }
  }
}
