package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.Sparks;
import io.sparkclip.jobs.curate.CurationSummary;
import io.sparkclip.jobs.dedup.DedupJob;
import io.sparkclip.jobs.dedup.KeepPolicy;
import io.sparkclip.jobs.dedup.UrlNormalizer;
import io.sparkclip.schemas.Errors;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "dedup",
    mixinStandardHelpOptions = true,
    description = {
      "Remove duplicate pairs in switchable stages: exact URL (normalised), exact image",
      "(SHA-256), near-duplicate images (pHash + LSH + Hamming distance + connected",
      "components) and, with --near-caption, near-duplicate captions (MinHash LSH + Jaccard).",
      "Each cluster keeps one row (--keep); every removal goes to <out>/rejects with the uid it",
      "duplicates. Writes <out>/data, <out>/rejects and <out>/_summary.json."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip dedup /tmp/matched/data --out /tmp/dedup",
      "  sparkclip dedup /tmp/raw --out /tmp/dedup --phash-distance 6 --keep lowest-uid",
      "  sparkclip dedup /tmp/meta --out /tmp/dedup --no-near-image --url-key url",
      "  sparkclip dedup /tmp/raw --out /tmp/marked --near-caption --mark-only",
      "",
      "Next: sparkclip balance /tmp/dedup/data --out /tmp/balanced"
    })
public final class DedupCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Pairs (any recognised layout).")
  String input;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Option(names = "--no-exact-url", description = "Skip the exact URL stage.")
  boolean noExactUrl;

  @Option(
      names = "--url-key",
      defaultValue = "url_caption",
      description = "Exact URL key: url or url_caption (LAION; default: ${DEFAULT-VALUE}).")
  String urlKey;

  @Option(
      names = "--tracking-params",
      split = ",",
      description =
          "Query parameters stripped from URLs; a trailing * is a prefix. Default: utm_*,"
              + " fbclid, gclid, dclid, msclkid, … (see UrlNormalizer).")
  List<String> trackingParams;

  @Option(names = "--no-exact-image", description = "Skip the exact image (SHA-256) stage.")
  boolean noExactImage;

  @Option(names = "--no-near-image", description = "Skip the near-duplicate image stage.")
  boolean noNearImage;

  @Option(
      names = "--phash-distance",
      defaultValue = "" + DedupJob.DEFAULT_PHASH_DISTANCE,
      description =
          "Max Hamming distance of near-duplicate candidate pHashes (default: ${DEFAULT-VALUE}).")
  int phashDistance;

  @Option(
      names = "--image-distance",
      defaultValue = "" + DedupJob.DEFAULT_IMAGE_DISTANCE,
      description =
          "Max thumbnail distance (0-255: mean difference of the 5%% most different cells of the"
              + " crop-aligned 48x48 RGB thumbnails) that confirms a pHash candidate as a near"
              + " duplicate (default: ${DEFAULT-VALUE}).")
  double imageDistance;

  @Option(
      names = "--phash-bands",
      defaultValue = "16",
      description =
          "LSH bands over the 64 hash bits; recall is exact for distances below the band count"
              + " (default: ${DEFAULT-VALUE}).")
  int phashBands;

  @Option(
      names = "--keep-undecodable",
      description = "Keep images that cannot be decoded (default: reject as undecodable_image).")
  boolean keepUndecodable;

  @Option(names = "--near-caption", description = "Run the near-duplicate caption stage.")
  boolean nearCaption;

  @Option(
      names = "--caption-jaccard",
      defaultValue = "0.8",
      description =
          "Min shingle Jaccard similarity of near-duplicate captions (default: ${DEFAULT-VALUE}).")
  double captionJaccard;

  @Option(
      names = "--shingle-size",
      defaultValue = "5",
      description = "Characters per shingle (default: ${DEFAULT-VALUE}).")
  int shingleSize;

  @Option(
      names = "--minhash-bands",
      defaultValue = "20",
      description = "MinHash LSH bands (default: ${DEFAULT-VALUE}).")
  int minhashBands;

  @Option(
      names = "--minhash-rows",
      defaultValue = "5",
      description = "MinHash values per band (default: ${DEFAULT-VALUE}).")
  int minhashRows;

  @Option(
      names = "--keep",
      defaultValue = "largest",
      description =
          "Row kept per cluster: largest, lowest-uid, longest-caption (default: ${DEFAULT-VALUE}).")
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

  DedupJob.Options options() {
    DedupJob.UrlKey key;
    switch (urlKey.toLowerCase(Locale.ROOT)) {
      case "url" -> key = DedupJob.UrlKey.URL;
      case "url_caption", "url+caption" -> key = DedupJob.UrlKey.URL_CAPTION;
      default -> throw Errors.unknownUrlKey(urlKey);
    }
    return new DedupJob.Options(
        input,
        out,
        mapping.mapping(),
        overwrite,
        !noExactUrl,
        key,
        trackingParams == null ? UrlNormalizer.DEFAULT_TRACKING : new ArrayList<>(trackingParams),
        !noExactImage,
        !noNearImage,
        phashDistance,
        phashBands,
        imageDistance,
        keepUndecodable,
        nearCaption,
        captionJaccard,
        shingleSize,
        minhashBands,
        minhashRows,
        KeepPolicy.fromLabel(keep),
        markOnly,
        maxIterations);
  }

  @Override
  public Integer call() {
    DedupJob.Options o = options();
    try (Sparks s = spark.open("dedup")) {
      CurationSummary summary = new DedupJob(s.session(), o).run();
      System.out.print(summary.render());
      return summary.balanced() ? 0 : 1;
    }
  }
}
