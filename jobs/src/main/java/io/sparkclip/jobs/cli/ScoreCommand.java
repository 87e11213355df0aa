package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.score.ScoreJob;
import io.sparkclip.jobs.score.ScoreJob.Options;
import io.sparkclip.jobs.score.ScoreStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description = {
      "Score embedded pairs: clip_score (image-caption cosine), query_score (image vs the",
      "query's prompt-template classifier) and in-batch contrastive ranks and loss within",
      "fixed groups of K pairs (image_rank, text_rank, group_loss, group_id, group_size),",
      "and NAME_score per --head NAME=DIR (an ONNX head on the image or text embedding,",
      "docs/heads.md)."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip score /tmp/embedded --model models/sparkclip-demo-clip --out /tmp/scored",
      "  sparkclip score /tmp/embedded --model ... --group-size 128 \\",
      "      --template 'a photo of a {query}.' --template 'a sketch of a {query}.' --out /tmp/s",
      "  sparkclip score /tmp/embedded --model models/sparkclip-demo-clip \\",
      "      --head gradient_background=models/sparkclip-demo-clip-heads/gradient_background \\",
      "      --out /tmp/scored",
      "",
      "Next: sparkclip filter /tmp/scored --min-clip-score 0.28 --out /tmp/filtered",
      "      sparkclip filter /tmp/scored --max gradient_background_score=0.5 --out /tmp/f"
    })
public final class ScoreCommand extends StageCommand<ScoreJob.Options> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Output of sparkclip embed.")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + StageKeys.MODEL,
      required = true,
      description = "The model the pairs were embedded with.")
  String model;

  @Option(
      names = {"--template", "--" + Options.TEMPLATES},
      description = "Prompt template with {query} (repeatable; default: 5 CLIP-paper templates).")
  List<String> templates;

  @Option(
      names = "--" + Options.GROUP_SIZE,
      description = "Pairs per in-batch group K (default: " + Options.GROUP_SIZE_DEFAULT + ").")
  int groupSize;

  @Option(
      names = "--" + StageKeys.BATCH_SIZE,
      description = "Prompts per text-tower run (default: " + StageKeys.BATCH_SIZE_DEFAULT + ").")
  int batchSize;

  @Option(
      names = {"--head", "--" + Options.HEADS},
      paramLabel = "NAME=DIR",
      description =
          "Score head (repeatable): DIR holds model.onnx + head.json; adds column NAME_score.")
  List<String> heads;

  @Option(
      names = "--" + Options.HEAD_BATCH_SIZE,
      description = "Embeddings per head run (default: " + Options.HEAD_BATCH_SIZE_DEFAULT + ").")
  int headBatchSize;

  @Option(
      names = "--" + StageKeys.DEVICE,
      description = "cpu, cuda, cuda:N or auto (default: " + StageKeys.DEVICE_DEFAULT + ").")
  String device;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Override
  Stage<ScoreJob.Options> stage() {
    return new ScoreStage();
  }
}
