package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.embed.EmbedJob.Options;
import io.sparkclip.jobs.embed.EmbedStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "embed",
    mixinStandardHelpOptions = true,
    description = {
      "CLIP image and text embeddings for every pair (ONNX Runtime on the executors, one session",
      "per model per executor JVM). Adds image_embedding, text_embedding, embed_status,",
      "embed_error and model_id to the input columns. Resumable: each input Parquet file is one",
      "shard committed atomically to <out>/data/<shard>; a re-run skips committed shards."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip embed /tmp/balanced --model models/sparkclip-demo-clip --out /tmp/embedded",
      "  sparkclip embed s3a://b/pairs --model s3a://b/models/ViT-B-32__openai --device cuda \\",
      "      --batch-size 256 --precision fp16 --out s3a://b/embedded",
      "  sparkclip embed /tmp/laion-meta --text-only --model ... --out /tmp/text-emb",
      "",
      "Next: sparkclip score /tmp/embedded --model models/sparkclip-demo-clip --out /tmp/scored"
    })
public final class EmbedCommand extends StageCommand<EmbedJob.Options> {
  @Parameters(
      index = "0",
      paramLabel = "INPUT",
      description = "Pairs: a curation stage directory (its data/ is read) or Parquet files.")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + StageKeys.MODEL,
      required = true,
      description = "open_clip/Immich ONNX model directory (local or any Hadoop path).")
  String model;

  @Option(
      names = "--" + StageKeys.BATCH_SIZE,
      description =
          "Images/captions per session run (default: "
              + StageKeys.BATCH_SIZE_DEFAULT
              + "; GPUs want 128-256, which holds 221-441 MiB of pixel tensors per task at 224"
              + " px: docs/gpu.md).")
  int batchSize;

  @Option(
      names = "--" + StageKeys.DEVICE,
      description =
          "cpu, cuda, cuda:N or auto (GPU when the task holds one; default: "
              + StageKeys.DEVICE_DEFAULT
              + ").")
  String device;

  @Option(
      names = "--" + Options.PRECISION,
      description =
          "fp32 (float arrays) or fp16 (binary, little-endian halves). Default: "
              + Options.PRECISION_DEFAULT
              + ".")
  String precision;

  @Option(
      names = "--" + Options.TEXT_ONLY,
      description = "Embed captions only (metadata-only inputs).")
  boolean textOnly;

  @Option(
      names = "--" + Options.CONCURRENT_SHARDS,
      description = "Shards embedded at once (default: the default parallelism).")
  int concurrentShards;

  @Option(
      names = "--" + Options.MAX_PIXELS,
      description =
          "Largest image (width x height) decoded; larger ones get status too_large before their"
              + " raster is allocated (default: "
              + Options.MAX_PIXELS_DEFAULT
              + ", PIL's limit). Bounds executor memory.")
  long maxPixels;

  @Option(
      names = "--" + Options.PREPROCESS_THREADS,
      description =
          "Threads per task decoding and preprocessing the next batches while one runs (default:"
              + " "
              + Options.PREPROCESS_THREADS_DEFAULT
              + "). A GPU needs about one core per 170 images/s: docs/gpu.md.")
  int preprocessThreads;

  @Option(
      names = "--" + Options.REDUCED_JPEG_TARGET,
      description =
          "Decode JPEGs at the smallest DCT scale whose sides cover this many pixels (e.g. 224):"
              + " about 1.5x faster preprocessing, slightly different pixels (default: "
              + Options.REDUCED_JPEG_TARGET_DEFAULT
              + ", off).")
  int reducedJpegTarget;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Redo every shard (deletes the output first).")
  boolean overwrite;

  @Mixin MappingOptions mapping;

  @Override
  Stage<EmbedJob.Options> stage() {
    return new EmbedStage();
  }
}
