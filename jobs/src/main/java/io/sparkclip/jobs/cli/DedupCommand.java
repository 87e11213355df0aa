package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.dedup.DedupJob;
import io.sparkclip.jobs.dedup.DedupJob.Options;
import io.sparkclip.jobs.dedup.DedupStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import java.util.List;
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
public final class DedupCommand extends StageCommand<DedupJob.Options> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Pairs (any recognised layout).")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Option(names = "--no-" + Options.EXACT_URL, description = "Skip the exact URL stage.")
  boolean noExactUrl;

  @Option(
      names = "--" + Options.URL_KEY,
      description =
          "Exact URL key: url or url_caption (LAION; default: " + Options.URL_KEY_DEFAULT + ").")
  String urlKey;

  @Option(
      names = "--" + Options.TRACKING_PARAMS,
      split = ",",
      description =
          "Query parameters stripped from URLs; a trailing * is a prefix. Default: utm_*,"
              + " fbclid, gclid, dclid, msclkid, … (see UrlNormalizer).")
  List<String> trackingParams;

  @Option(
      names = "--no-" + Options.EXACT_IMAGE,
      description = "Skip the exact image (SHA-256) stage.")
  boolean noExactImage;

  @Option(
      names = "--no-" + Options.NEAR_IMAGE,
      description = "Skip the near-duplicate image stage.")
  boolean noNearImage;

  @Option(
      names = "--" + StageKeys.PHASH_DISTANCE,
      description =
          "Max Hamming distance of near-duplicate candidate pHashes (default: "
              + StageKeys.PHASH_DISTANCE_DEFAULT
              + ").")
  int phashDistance;

  @Option(
      names = "--" + StageKeys.IMAGE_DISTANCE,
      description =
          "Max thumbnail distance (0-255: mean difference of the 5%% most different cells of the"
              + " crop-aligned 48x48 RGB thumbnails) that confirms a pHash candidate as a near"
              + " duplicate (default: "
              + StageKeys.IMAGE_DISTANCE_DEFAULT
              + ").")
  double imageDistance;

  @Option(
      names = "--" + Options.BUCKET_CAP,
      description =
          "Largest group of images sharing a candidate key that is compared all-pairs; a larger"
              + " group is compared with one representative, so cost stays linear (default: "
              + Options.BUCKET_CAP_DEFAULT
              + ").")
  int bucketCap;

  @Option(
      names = "--" + Options.KEEP_UNDECODABLE,
      description = "Keep images that cannot be decoded (default: reject as undecodable_image).")
  boolean keepUndecodable;

  @Option(
      names = "--" + Options.NEAR_CAPTION,
      description = "Run the near-duplicate caption stage.")
  boolean nearCaption;

  @Option(
      names = "--" + Options.CAPTION_JACCARD,
      description =
          "Min shingle Jaccard similarity of near-duplicate captions (default: "
              + Options.CAPTION_JACCARD_DEFAULT
              + ").")
  double captionJaccard;

  @Option(
      names = "--" + Options.SHINGLE_SIZE,
      description = "Characters per shingle (default: " + Options.SHINGLE_SIZE_DEFAULT + ").")
  int shingleSize;

  @Option(
      names = "--" + Options.MINHASH_BANDS,
      description = "MinHash LSH bands (default: " + Options.MINHASH_BANDS_DEFAULT + ").")
  int minhashBands;

  @Option(
      names = "--" + Options.MINHASH_ROWS,
      description = "MinHash values per band (default: " + Options.MINHASH_ROWS_DEFAULT + ").")
  int minhashRows;

  @Option(
      names = "--" + StageKeys.KEEP,
      description =
          "Row kept per cluster: largest, lowest-uid, longest-caption (default: "
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
  Stage<DedupJob.Options> stage() {
    return new DedupStage();
  }
}
