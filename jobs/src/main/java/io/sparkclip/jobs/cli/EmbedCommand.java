package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import java.util.concurrent.Callable;
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
public final class EmbedCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "INPUT",
      description = "Pairs: a curation stage directory (its data/ is read) or Parquet files.")
  String input;

  @Option(names = "--out", required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--model",
      required = true,
      description = "open_clip/Immich ONNX model directory (local or any Hadoop path).")
  String model;

  @Option(names = "--batch-size", description = "Images/captions per session run (default: 32).")
  int batchSize = 32;

  @Option(
      names = "--device",
      description = "cpu, cuda, cuda:N or auto (GPU when the task holds one; default: auto).")
  String device = "auto";

  @Option(
      names = "--precision",
      description = "fp32 (float arrays) or fp16 (binary, little-endian halves). Default: fp32.")
  String precision = "fp32";

  @Option(names = "--text-only", description = "Embed captions only (metadata-only inputs).")
  boolean textOnly;

  @Option(
      names = "--concurrent-shards",
      description = "Shards embedded at once (default: the default parallelism).")
  int concurrentShards;

  @Option(
      names = "--max-pixels",
      description =
          "Largest image (width x height) decoded; larger ones get status too_large before their"
              + " raster is allocated (default: 89478485, PIL's limit). Bounds executor memory.")
  long maxPixels = ImageDecoder.DEFAULT_MAX_PIXELS;

  @Option(names = "--overwrite", description = "Redo every shard (deletes the output first).")
  boolean overwrite;

  @Mixin MappingOptions mapping;
  @Mixin SparkOptions spark;

  @Override
  public Integer call() {
    try (Sparks s = spark.open("embed")) {
      EmbedJob.Result r =
          new EmbedJob(
                  s.session(),
                  new EmbedJob.Options(
                      input,
                      out,
                      model,
                      batchSize,
                      device,
                      precision,
                      textOnly,
                      overwrite,
                      mapping.mapping(),
                      concurrentShards,
                      maxPixels))
              .run();
      System.out.print(r.render());
      return 0;
    }
  }
}
