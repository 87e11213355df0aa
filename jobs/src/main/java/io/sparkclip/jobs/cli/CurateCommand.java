package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.curate.CurateJob;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.StageFiles;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "curate",
    mixinStandardHelpOptions = true,
    description = {
      "The whole chain from one config file, by default match-queries -> dedup ->",
      "balance -> embed -> score -> filter. 'stages' lists the stages to run, in the",
      "order to run them, e.g. [match-queries, basic-filter, dedup, embed, score,",
      "filter, balance]; a stage listed before the one whose columns it needs fails",
      "before any work. Each stage keeps its output under <out>/<n>-<stage>/;",
      "<out>/_funnel.json has rows in/out and rejects per stage and reason. Flags",
      "override the config file."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip curate --config conf/curate.example.conf",
      "  sparkclip curate --config my.conf --input s3a://b/raw --out s3a://b/curated \\",
      "      --set balance.cap=5000 --set filter.top-percent=30",
      "",
      "Next: sparkclip report <out> --out report.html"
    })
public final class CurateCommand implements Callable<Integer> {
  @Option(names = "--config", description = "HOCON config (see conf/curate.example.conf).")
  String config;

  @Option(names = "--input", description = "Pairs to curate (overrides 'input').")
  String input;

  @Option(names = "--queries", description = "Query list (overrides 'queries').")
  String queries;

  @Option(names = "--out", description = "Output root (overrides 'out').")
  String out;

  @Option(names = "--model", description = "Model directory (overrides 'model').")
  String model;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Any config key, e.g. --set balance.cap=5000 (repeatable); a list by index, e.g."
              + " --set decontaminate.eval-sets.0=val=/data/val --set score.heads.0=a=/heads/a.")
  Map<String, String> set = new LinkedHashMap<>();

  @Option(names = "--overwrite", description = "Replace the output root if it exists.")
  boolean overwrite;

  @Mixin SparkOptions spark;
  @Mixin ProgressOptions progress;

  @Override
  public Integer call() {
    Map<String, String> o = new LinkedHashMap<>(set);
    for (Object[] kv :
        List.of(
            new Object[] {"input", input},
            new Object[] {"queries", queries},
            new Object[] {"out", out},
            new Object[] {"model", model})) {
      if (kv[1] != null) {
        o.put((String) kv[0], (String) kv[1]);
      }
    }
    if (overwrite) {
      o.put("overwrite", "true");
    }
    var conf = CurateJob.load(config, o);
    try (Sparks s = spark.open("curate")) {
      List<CurateJob.StageResult> r =
          new CurateJob(s.session(), conf, progress.mode(), System.err).run();
      System.out.print(CurateJob.render(r));
      System.out.println("Funnel: " + conf.getString("out") + "/" + StageFiles.FUNNEL_FILE);
      return 0;
    }
  }
}
