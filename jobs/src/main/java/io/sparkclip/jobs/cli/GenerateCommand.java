package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.generate.SyntheticPairs;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.StageFiles;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Generate synthetic scraped image-text pairs with injected faults and their ground truth.",
      "Deterministic: the same --seed gives byte-identical rows on any machine."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip generate --rows 20000 --out /tmp/raw",
      "  sparkclip generate --rows 10000000 --metadata-only --queries 500000 --out /tmp/meta",
      "  sparkclip generate --rows 3000 --format files --out /tmp/train",
      "  sparkclip generate --rows 5000 --fault-rate shuffled_caption=0.2 --out /tmp/noisy",
      "",
      "Fault kinds: exact_duplicate, url_duplicate, near_duplicate, shuffled_caption,",
      "corrupt_image, missing_caption, failed_download."
    })
public final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--rows", required = true, description = "Number of pairs to generate.")
  long rows;

  @Option(names = "--out", required = true, description = "Output directory (any Hadoop path).")
  String out;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--shard-size",
      defaultValue = "10000",
      description = "Rows per shard file (default: ${DEFAULT-VALUE}).")
  int shardSize;

  @Option(
      names = "--queries",
      defaultValue = "1000",
      description =
          "Size of the query list the pairs were 'found' with (default: ${DEFAULT-VALUE}).")
  int queries;

  @Option(
      names = "--zipf",
      defaultValue = "1.1",
      description = "Zipf exponent of query popularity (default: ${DEFAULT-VALUE}).")
  double zipf;

  @Option(
      names = "--metadata-only",
      description = "No images: url + caption + query only (for scale tests).")
  boolean metadataOnly;

  @Option(
      names = "--format",
      defaultValue = "parquet",
      description = "parquet (img2dataset layout) or files (images/ + captions.tsv).")
  String format;

  @Option(
      names = "--min-side",
      defaultValue = "64",
      description = "Smallest image side in px (default: ${DEFAULT-VALUE}).")
  int minSide;

  @Option(
      names = "--max-side",
      defaultValue = "512",
      description = "Largest image side in px (default: ${DEFAULT-VALUE}).")
  int maxSide;

  @Option(
      names = "--png-share",
      defaultValue = "0.1",
      description = "Share of images encoded as PNG (default: ${DEFAULT-VALUE}).")
  double pngShare;

  @Option(
      names = "--fault-rate",
      paramLabel = "KIND=RATE",
      description = "Override a fault rate, e.g. shuffled_caption=0.1 (repeatable).")
  Map<String, Double> faultRates = new LinkedHashMap<>();

  @Option(
      names = "--eval-copies",
      defaultValue = "0",
      description =
          "Share of pool rows that are re-encoded, resized or cropped copies of a held-out"
              + " evaluation set written to "
              + StageFiles.EVAL_SET_DIR
              + "/ (fault eval_copy; default: ${DEFAULT-VALUE}).")
  double evalCopies;

  @Option(
      names = "--eval-extra",
      defaultValue = "0",
      description = "Items of the evaluation set no pool row copies (default: ${DEFAULT-VALUE}).")
  int evalExtra;

  @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Mixin SparkOptions spark;
  @Mixin ProgressOptions progress;

  @Override
  public Integer call() {
    GenerateJob.Options options = options();
    try (Sparks s = spark.open("generate").withProgress(progress.mode(), "generate")) {
      GenerateJob.Result r = new GenerateJob(s.session(), options).run();
      System.out.printf(
          "Generated %,d pairs in %,d shards into %s in %.1f s (%,.0f rows/s)%n",
          r.rows(), r.shards(), r.out(), r.seconds(), r.rowsPerSecond());
      System.out.println(
          "Injected faults (ground truth in " + r.out() + "/" + StageFiles.GROUND_TRUTH_DIR + "):");
      r.faults().forEach((k, v) -> System.out.printf("  %-18s %,d%n", k, v));
    }
    return 0;
  }

  GenerateJob.Options options() {
    Map<FaultKind, Double> rates = new EnumMap<>(SyntheticPairs.Config.defaultFaultRates());
    for (Map.Entry<String, Double> e : faultRates.entrySet()) {
      FaultKind k;
      try {
        k = FaultKind.fromLabel(e.getKey());
      } catch (IllegalArgumentException ex) {
        throw Errors.unknownFaultKind(e.getKey(), ex.getMessage());
      }
      rates.put(k, e.getValue());
    }
    GenerateJob.Format f;
    switch (format.toLowerCase(java.util.Locale.ROOT)) {
      case "parquet" -> f = GenerateJob.Format.PARQUET;
      case "files" -> f = GenerateJob.Format.FILES;
      default -> throw Errors.unknownGenerateFormat(format);
    }
    return GenerateJob.Options.builder(rows, out)
        .seed(seed)
        .shardSize(shardSize)
        .queries(queries)
        .zipfExponent(zipf)
        .faultRates(rates)
        .sides(minSide, maxSide)
        .pngShare(pngShare)
        .metadataOnly(metadataOnly)
        .format(f)
        .overwrite(overwrite)
        .evalSet(rates.getOrDefault(FaultKind.EVAL_COPY, evalCopies), evalExtra)
        .build();
  }
}
