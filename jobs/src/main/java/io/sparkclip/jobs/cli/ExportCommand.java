package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.export.ExportJob;
import io.sparkclip.jobs.export.ExportJob.Options;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageKeys;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sparkclip export}: flags only. They map onto {@link ExportJob.Options}' keys by name, as a
 * stage command's do, so an unset flag takes the job's {@code KEY_DEFAULT}.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Write a stage's kept rows in the layout a trainer or an index reads:",
      "  webdataset      tar shards 00000.tar, ... of <key>.<jpg|png|webp|gif|bmp> (the original",
      "                  bytes), <key>.txt and <key>.json, plus sizes.json (open_clip, img2dataset)",
      "  clip-retrieval  img_emb/img_emb_<i>.npy, text_emb/text_emb_<i>.npy (float16, L2-normalised)",
      "                  and metadata/metadata_<i>.parquet, row-aligned",
      "  datacomp-uids   uids.npy: the sorted, distinct DataComp uids as (u8, u8) pairs",
      "Every export writes <out>/_manifest.json (files, rows, sha256). Deterministic: the same",
      "input gives byte-identical files. Re-running an export that died finishes it, writing only",
      "the shards or parts it lacks."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip export /tmp/curated/6-filter --out /tmp/wds",
      "  sparkclip export /tmp/curated/7-semdedup --format clip-retrieval --out /tmp/index-input",
      "  sparkclip export s3a://b/datacomp-filtered --format datacomp-uids --out s3a://b/subset",
      "",
      "Next: open_clip --train-data '/tmp/wds/{00000..00009}.tar' (sizes.json gives the size)"
    })
public final class ExportCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "INPUT",
      description = "A stage's output directory (its data/ is read) or Parquet pairs.")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + Options.FORMAT,
      description =
          "webdataset, clip-retrieval or datacomp-uids (default: " + Options.FORMAT_DEFAULT + ").")
  String format;

  @Option(
      names = "--" + Options.SAMPLES_PER_SHARD,
      description =
          "Samples per tar shard; also sets the key width (default: "
              + Options.SAMPLES_PER_SHARD_DEFAULT
              + ").")
  int samplesPerShard;

  @Option(
      names = "--" + Options.ROWS_PER_PART,
      description =
          "Rows per clip-retrieval part (default: " + Options.ROWS_PER_PART_DEFAULT + ").")
  int rowsPerPart;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace an existing output (an unfinished export is resumed without it).")
  boolean overwrite;

  @Mixin MappingOptions mapping;
  @Mixin SparkOptions spark;
  @Mixin ProgressOptions progress;

  @Override
  public Integer call() {
    Options o = Options.from(StageCommand.conf(spec.commandLine().getParseResult()));
    try (Sparks s = spark.open("export").withProgress(progress.mode(), "export")) {
      ExportJob.Result r = new ExportJob(s.session(), o).run();
      System.out.print(r.render());
      return 0;
    }
  }
}
