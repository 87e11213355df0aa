package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.decontaminate.DecontaminateJob;
import io.sparkclip.jobs.decontaminate.DecontaminateJob.Options;
import io.sparkclip.jobs.decontaminate.DecontaminateStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.StageFiles;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "decontaminate",
    mixinStandardHelpOptions = true,
    description = {
      "Remove the pairs whose image is a copy (re-encode, resize, light crop) of an evaluation",
      "image, as the CLIP paper's data overlap analysis did: candidates by perceptual-hash keys,",
      "confirmed by the crop-aligned thumbnail distance. Each removal goes to <out>/rejects with",
      "reason eval_overlap and the eval item's id as related_uid; <out>/"
          + StageFiles.EVAL_OVERLAP_FILE
          + " has, per",
      "evaluation set, the items found in the pool, their share of the set and the rows removed."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip decontaminate /tmp/dedup/data --out /tmp/decon \\",
      "      --eval imagenet_val=/data/imagenet/val --eval coco_val=/data/coco/val2017",
      "  sparkclip decontaminate /tmp/raw --out /tmp/overlap --eval mine=/tmp/raw/_eval_set \\",
      "      --mark-only",
      "",
      "Next: sparkclip balance /tmp/decon/data --out /tmp/balanced"
    })
public final class DecontaminateCommand extends StageCommand<DecontaminateJob.Options> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Pairs (any recognised layout).")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Option(
      names = {"--eval", "--" + Options.EVAL_SETS},
      paramLabel = "NAME=PATH",
      required = true,
      description =
          "Evaluation set (repeatable): a folder of images, WebDataset shards or Parquet with"
              + " image bytes.")
  List<String> evalSets;

  @Option(
      names = "--" + StageKeys.PHASH_DISTANCE,
      description =
          "Largest pHash Hamming distance of a candidate pair (default: "
              + Options.PHASH_DISTANCE_DEFAULT
              + ").")
  int phashDistance;

  @Option(
      names = "--" + StageKeys.IMAGE_DISTANCE,
      description =
          "Largest crop-aligned thumbnail distance (0..255) of a copy (default: "
              + StageKeys.IMAGE_DISTANCE_DEFAULT
              + ").")
  double imageDistance;

  @Option(
      names = "--" + Options.BUCKET_CAP,
      description =
          "Eval images per candidate key before the key is split (default: "
              + Options.BUCKET_CAP_DEFAULT
              + ").")
  int bucketCap;

  @Option(
      names = "--" + StageKeys.MARK_ONLY,
      description = "Keep the copies in data with eval_set, eval_id, eval_distance set.")
  boolean markOnly;

  @Option(
      names = "--" + Options.SAMPLES,
      description =
          "Matched pairs kept with both images for the report (default: "
              + Options.SAMPLES_DEFAULT
              + ").")
  int samples;

  @Mixin MappingOptions mapping;

  @Override
  Stage<DecontaminateJob.Options> stage() {
    return new DecontaminateStage();
  }
}
