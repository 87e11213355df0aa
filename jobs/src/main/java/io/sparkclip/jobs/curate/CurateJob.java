package io.sparkclip.jobs.curate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.sparkclip.jobs.Paths;
import io.sparkclip.jobs.balance.BalanceJob;
import io.sparkclip.jobs.dedup.DedupJob;
import io.sparkclip.jobs.dedup.KeepPolicy;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.filter.FilterJob;
import io.sparkclip.jobs.match.MatchQueriesJob;
import io.sparkclip.jobs.score.ScoreJob;
import io.sparkclip.jobs.semdedup.SemDedupJob;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Errors;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sparkclip curate}: the whole chain from one config file (HOCON, see {@code
 * conf/curate.example.conf}): match-queries → dedup → balance → embed → score → filter (→
 * semdedup). Each stage writes its own directory under {@code out} ({@code 1-match-queries/}, …),
 * the next stage reads its {@code data/}; {@code out/_funnel.json} has rows in/out and rejects per
 * stage and reason, and the console shows a progress bar per stage. Stages can be left out of
 * {@code stages}; a left-out stage is skipped and the next one reads the previous output.
 */
public final class CurateJob {
  private static final Logger LOG = LoggerFactory.getLogger(CurateJob.class);
  public static final String FUNNEL_FILE = "_funnel.json";
  public static final List<String> ALL_STAGES =
      List.of("match-queries", "dedup", "balance", "embed", "score", "filter", "semdedup");

  /** One stage as run: its directory and what it did. */
  public record StageResult(
      String stage,
      String dir,
      long rowsIn,
      long rowsOut,
      Map<String, Long> rejected,
      double seconds) {}

  private final SparkSession spark;
  private final Config conf;

  public CurateJob(SparkSession spark, Config conf) {
    this.spark = spark;
    this.conf = conf;
  }

  /** Reads a config file (or none: the built-in defaults), overrides applied on top. */
  public static Config load(String file, Map<String, String> overrides) {
    Config base = ConfigFactory.parseResources(CurateJob.class, "curate-defaults.conf");
    Config user = ConfigFactory.empty();
    if (file != null) {
      File f = new File(file);
      if (!f.isFile()) {
        throw Errors.configNotFound(file);
      }
      try {
        user = ConfigFactory.parseFile(f);
      } catch (ConfigException e) {
        throw Errors.configSyntax(file, e.getMessage());
      }
    }
    Map<String, Object> o = new LinkedHashMap<>();
    overrides.forEach((k, v) -> o.put(k, v));
    Config c =
        ConfigFactory.parseMap(o, "command line").withFallback(user).withFallback(base).resolve();
    validate(c);
    return c;
  }

  private static void validate(Config c) {
    for (String k : List.of("input", "out", "model", "queries")) {
      if (!c.hasPath(k) || c.getString(k).isBlank()) {
        throw Errors.configMissingKey(k);
      }
    }
    for (String s : c.getStringList("stages")) {
      if (!ALL_STAGES.contains(s)) {
        throw Errors.configUnknownStage(s, ALL_STAGES);
      }
    }
  }

  public List<StageResult> run() {
    long start = System.nanoTime();
    String out = conf.getString("out");
    boolean overwrite = conf.getBoolean("overwrite");
    Paths.prepareOutput(spark, out, overwrite);
    Set<String> enabled = Set.copyOf(conf.getStringList("stages"));
    String model = conf.getString("model");
    if (enabled.contains("embed") || enabled.contains("score")) {
      // Fail fast on a bad model before hours of dedup.
      io.sparkclip.udfs.embed.Embedders.modelDirectory(model);
    }
    String current = conf.getString("input");
    List<StageResult> results = new ArrayList<>();
    int n = 0;
    try (ConsoleProgress progress = ConsoleProgress.attach(spark)) {
      for (String stage : ALL_STAGES) {
        if (!enabled.contains(stage)) {
          continue;
        }
        n++;
        String dir = new Path(out, n + "-" + stage).toString();
        progress.stage(String.format("curate %d/%d %s", n, enabled.size(), stage));
        long t0 = System.nanoTime();
        StageResult r = runStage(stage, current, dir, model);
        results.add(r);
        LOG.info(
            "{}: {} rows in, {} out, {} in {}s",
            stage,
            r.rowsIn(),
            r.rowsOut(),
            r.rejected(),
            String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
        current = CurationOutput.data(dir);
      }
    }
    writeFunnel(out, results, (System.nanoTime() - start) / 1e9);
    return results;
  }

  private StageResult runStage(String stage, String input, String dir, String model) {
    long t0 = System.nanoTime();
    CurationSummary s;
    switch (stage) {
      case "match-queries" -> {
        String queries = conf.getString("queries");
        s =
            new MatchQueriesJob(
                    spark,
                    new MatchQueriesJob.Options(input, queries, dir, ColumnMapping.DETECT, false))
                .run();
      }
      case "dedup" -> {
        Config d = conf.getConfig("dedup");
        DedupJob.Options base = DedupJob.Options.defaults(input, dir);
        s =
            new DedupJob(
                    spark,
                    new DedupJob.Options(
                        input,
                        dir,
                        ColumnMapping.DETECT,
                        false,
                        d.getBoolean("exact-url"),
                        base.urlKey(),
                        base.trackingParams(),
                        d.getBoolean("exact-image"),
                        d.getBoolean("near-image"),
                        d.getInt("phash-distance"),
                        base.phashBands(),
                        d.getDouble("image-distance"),
                        base.keepUndecodable(),
                        d.getBoolean("near-caption"),
                        d.getDouble("caption-jaccard"),
                        base.shingleSize(),
                        base.minhashBands(),
                        base.minhashRows(),
                        KeepPolicy.fromLabel(d.getString("keep")),
                        false,
                        base.maxIterations()))
                .run();
      }
      case "balance" -> {
        Config b = conf.getConfig("balance");
        s =
            new BalanceJob(
                    spark,
                    new BalanceJob.Options(
                        input,
                        dir,
                        ColumnMapping.DETECT,
                        false,
                        BalanceJob.Mode.valueOf(b.getString("mode").toUpperCase(Locale.ROOT)),
                        b.getLong("cap"),
                        b.getLong("seed")))
                .run();
      }
      case "embed" -> {
        Config e = conf.getConfig("embed");
        EmbedJob.Result r =
            new EmbedJob(
                    spark,
                    new EmbedJob.Options(
                        input,
                        dir,
                        model,
                        e.getInt("batch-size"),
                        e.getString("device"),
                        e.getString("precision"),
                        e.getBoolean("text-only"),
                        false,
                        ColumnMapping.DETECT,
                        0,
                        e.getLong("max-pixels")))
                .run();
        long rows = spark.read().parquet(CurationOutput.data(dir)).count();
        return new StageResult(stage, dir, rows, rows, Map.of(), (System.nanoTime() - t0) / 1e9);
      }
      case "score" -> {
        Config c = conf.getConfig("score");
        s =
            new ScoreJob(
                    spark,
                    new ScoreJob.Options(
                        input,
                        dir,
                        model,
                        c.getStringList("templates"),
                        c.getInt("group-size"),
                        conf.getConfig("embed").getInt("batch-size"),
                        conf.getConfig("embed").getString("device"),
                        false))
                .run();
      }
      case "filter" -> {
        Config f = conf.getConfig("filter");
        s =
            new FilterJob(
                    spark,
                    new FilterJob.Options(
                        input,
                        dir,
                        optDouble(f, "min-clip-score"),
                        optDouble(f, "top-percent"),
                        optDouble(f, "per-query-top-percent"),
                        f.hasPath("max-rank") ? f.getInt("max-rank") : null,
                        optDouble(f, "min-query-score"),
                        false))
                .run();
      }
      case "semdedup" -> {
        Config d = conf.getConfig("semdedup");
        s =
            new SemDedupJob(
                    spark,
                    SemDedupJob.Options.of(input, dir)
                        .withEmbeddingCol(d.getString("embedding-col"))
                        .withClusters(d.getInt("clusters"))
                        .withEpsilon(d.getDouble("epsilon"))
                        .withKeep(KeepPolicy.fromLabel(d.getString("keep"))))
                .run();
      }
      default -> throw new IllegalStateException("unknown stage " + stage);
    }
    Map<String, Long> rejected = new LinkedHashMap<>();
    s.rejected()
        .forEach((st, reasons) -> reasons.forEach((k, v) -> rejected.merge(k, v, Long::sum)));
    return new StageResult(
        stage, dir, s.rowsIn(), s.rowsOut(), rejected, (System.nanoTime() - t0) / 1e9);
  }

  private static Double optDouble(Config c, String key) {
    return c.hasPath(key) ? c.getDouble(key) : null;
  }

  private void writeFunnel(String out, List<StageResult> results, double seconds) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("input", conf.getString("input"));
    m.put("output", out);
    m.put("model", conf.getString("model"));
    List<Map<String, Object>> stages = new ArrayList<>();
    for (StageResult r : results) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("stage", r.stage());
      s.put("dir", r.dir());
      s.put("rows_in", r.rowsIn());
      s.put("rows_out", r.rowsOut());
      s.put("rejected", r.rejected());
      s.put("seconds", Math.round(r.seconds() * 10) / 10.0);
      stages.add(s);
    }
    m.put("stages", stages);
    m.put("rows_in", results.isEmpty() ? 0 : results.get(0).rowsIn());
    m.put("rows_out", results.isEmpty() ? 0 : results.get(results.size() - 1).rowsOut());
    m.put("seconds", Math.round(seconds * 10) / 10.0);
    m.put("config", conf.root().unwrapped());
    try {
      Paths.writeText(
          spark,
          new Path(out, FUNNEL_FILE).toString(),
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m)
              + "\n");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The funnel as a console table. */
  public static String render(List<StageResult> results) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "%-15s %10s %10s %8s  %s%n", "stage", "rows in", "rows out", "secs", "rejected"));
    for (StageResult r : results) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%-15s %,10d %,10d %8.1f  %s%n",
              r.stage(),
              r.rowsIn(),
              r.rowsOut(),
              r.seconds(),
              r.rejected().isEmpty() ? "-" : r.rejected()));
    }
    return sb.toString();
  }
}
