package io.sparkclip.jobs.curate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.sparkclip.jobs.balance.BalanceStage;
import io.sparkclip.jobs.basicfilter.BasicFilterStage;
import io.sparkclip.jobs.decontaminate.DecontaminateStage;
import io.sparkclip.jobs.dedup.DedupStage;
import io.sparkclip.jobs.download.DownloadStage;
import io.sparkclip.jobs.embed.EmbedStage;
import io.sparkclip.jobs.export.ExportJob;
import io.sparkclip.jobs.filter.FilterStage;
import io.sparkclip.jobs.match.MatchQueriesStage;
import io.sparkclip.jobs.score.ScoreStage;
import io.sparkclip.jobs.semdedup.SemDedupStage;
import io.sparkclip.jobs.stage.ConsoleProgress;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.InputFiles;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.jobs.stage.StageRunner;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.io.File;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
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
 * conf/curate.example.conf}), by default match-queries → dedup → balance → embed → score → filter.
 * {@code stages} lists the stages to run, in the order to run them (e.g. basic-filter before dedup
 * and embed, balance last so that its cap counts the pairs that survived, as MetaCLIP advises);
 * before any stage runs, each stage's required columns ({@link Stage#requires}) must be in the
 * input or written by a stage listed before it ({@link Stage#writes}), so a score listed before
 * embed fails at once. Each stage writes its own directory under {@code out} ({@code
 * 1-match-queries/}, …), the next stage reads its {@code data/}; {@code out/_funnel.json} has rows
 * in/out and rejects per stage and reason, and the console shows progress per stage.
 *
 * <p>A stage's options are the keys of its config section ({@code dedup { phash-distance = 6 }}),
 * then the top-level keys ({@code model}, {@code batch-size}, …), then the stage's own defaults:
 * the same keys and defaults as the stage's command flags. Every stage's options are resolved and
 * checked before the first one runs.
 */
public final class CurateJob {
  private static final Logger LOG = LoggerFactory.getLogger(CurateJob.class);

  /**
   * Stages run unless {@code stages} says otherwise (basic-filter, decontaminate and semdedup are
   * opt-in).
   */
  public static final List<String> STAGES_DEFAULT =
      List.of(
          Stages.MATCH_QUERIES,
          Stages.DEDUP,
          Stages.BALANCE,
          Stages.EMBED,
          Stages.SCORE,
          Stages.FILTER);

  public static final String STAGES = "stages";

  /**
   * The optional last step: {@code export { format = webdataset, samples-per-shard = 10000 }}
   * exports the last stage's kept rows ({@code sparkclip export}'s keys; {@code out} defaults to
   * {@code <out>/}{@value #EXPORT_DIR}).
   */
  public static final String EXPORT = "export";

  /** Folder of the export step under curate's out, unless its section sets {@code out}. */
  public static final String EXPORT_DIR = "export";

  /** Keys of the export section. */
  static final Set<String> EXPORT_KEYS =
      Set.of(
          ExportJob.Options.FORMAT,
          ExportJob.Options.SAMPLES_PER_SHARD,
          ExportJob.Options.ROWS_PER_PART,
          StageKeys.OUT);

  /** Every stage curate can run, in {@link Stages#CURATION_ORDER}. */
  static final List<Stage<?>> ALL =
      List.of(
          new DownloadStage(),
          new MatchQueriesStage(),
          new BasicFilterStage(),
          new DedupStage(),
          new DecontaminateStage(),
          new BalanceStage(),
          new EmbedStage(),
          new ScoreStage(),
          new FilterStage(),
          new SemDedupStage());

  /** One stage as run: its directory and what it did. */
  public record StageResult(
      String stage,
      String dir,
      long rowsIn,
      long rowsOut,
      Map<String, Long> rejected,
      double seconds) {}

  /** A stage with its resolved options, ready to run. */
  public record Planned<O>(Stage<O> stage, O options, String dir) {
    CurationSummary run(StageRunner runner, String label) {
      return runner.run(stage, options, label);
    }
  }

  private final SparkSession spark;
  private final Config conf;
  private final ConsoleProgress.Mode progress;
  private final PrintStream console;

  public CurateJob(SparkSession spark, Config conf) {
    this(spark, conf, ConsoleProgress.Mode.AUTO, System.err);
  }

  public CurateJob(SparkSession spark, Config conf, ConsoleProgress.Mode progress, PrintStream c) {
    this.spark = spark;
    this.conf = conf;
    this.progress = progress;
    this.console = c;
  }

  /** Reads a config file (or none: every stage's defaults), overrides applied on top. */
  public static Config load(String file, Map<String, String> overrides) {
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
    Config c = ConfigFactory.parseMap(o, "command line").withFallback(user).resolve();
    validate(c);
    return c;
  }

  private static void validate(Config c) {
    for (String k : List.of(StageKeys.INPUT, StageKeys.OUT)) {
      if (!c.hasPath(k) || c.getString(k).isBlank()) {
        throw Errors.configMissingKey(k);
      }
    }
    List<String> stages = stages(c);
    if (stages.contains(Stages.DOWNLOAD) && !stages.get(0).equals(Stages.DOWNLOAD)) {
      throw Errors.optionConflict(
          "curate",
          "download must be the first of the stages",
          "download turns URL + caption metadata into pairs with images; stages = " + stages);
    }
    Set<String> seen = new java.util.HashSet<>();
    for (String s : stages) {
      if (!Stages.CURATION_ORDER.contains(s)) {
        throw Errors.configUnknownStage(s, Stages.CURATION_ORDER);
      }
      if (!seen.add(s)) {
        throw Errors.configStageTwice(s, stages);
      }
    }
  }

  static List<String> stages(Config c) {
    return c.hasPath(STAGES) ? c.getStringList(STAGES) : STAGES_DEFAULT;
  }

  /** A stage's conf: its section, then the top-level keys, then (inside the stage) its defaults. */
  static StageConf stageConf(Config conf, String stage) {
    Config top = conf;
    for (String s : Stages.CURATION_ORDER) {
      top = top.withoutPath(s);
    }
    top = top.withoutPath(STAGES);
    Config section = conf.hasPath(stage) ? conf.getConfig(stage) : ConfigFactory.empty();
    return StageConf.of(section.withFallback(top), "curate config, " + stage);
  }

  /** The listed stages with their options, input and output directories, in the listed order. */
  public List<Planned<?>> plan() {
    String out = conf.getString(StageKeys.OUT);
    String current = conf.getString(StageKeys.INPUT);
    List<Planned<?>> plan = new ArrayList<>();
    checkKeys();
    int n = 0;
    for (String name : stages(conf)) {
      Stage<?> stage = byName(name);
      n++;
      String dir = new Path(out, n + "-" + stage.name()).toString();
      StageConf c =
          stageConf(conf, stage.name())
              .with(StageKeys.INPUT, current)
              .with(StageKeys.OUT, dir)
              .with(StageKeys.OVERWRITE, false);
      plan.add(planned(stage, c, dir));
      current = CurationOutput.data(dir);
    }
    return plan;
  }

  private static <O> Planned<O> planned(Stage<O> stage, StageConf c, String dir) {
    return new Planned<>(stage, stage.options(c), dir);
  }

  private static Stage<?> byName(String name) {
    return ALL.stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(() -> Errors.configUnknownStage(name, Stages.CURATION_ORDER));
  }

  private static <O> Set<String> requires(Planned<O> p) {
    return p.stage().requires(p.options());
  }

  private static <O> Set<String> writes(Planned<O> p) {
    return p.stage().writes(p.options());
  }

  private static <O> void preflight(Planned<O> p) {
    p.stage().preflight(p.options());
  }

  /**
   * Fails with {@code CONFIG_STAGE_ORDER} when a planned stage needs a column that neither the
   * input ({@code inputColumns}) nor a stage before it writes: score before embed would otherwise
   * fail only after the stages before it ran, perhaps for hours. Names compare case-insensitively,
   * as Spark resolves them.
   */
  static void checkOrder(List<Planned<?>> plan, Collection<String> inputColumns) {
    Set<String> available = new java.util.HashSet<>();
    inputColumns.forEach(c -> available.add(c.toLowerCase(Locale.ROOT)));
    List<String> names = plan.stream().map(p -> p.stage().name()).toList();
    for (int i = 0; i < plan.size(); i++) {
      Planned<?> p = plan.get(i);
      for (String column : new java.util.TreeSet<>(requires(p))) {
        if (available.contains(column.toLowerCase(Locale.ROOT))) {
          continue;
        }
        // A listed stage whose options write the column (score with that head) first, then any
        // stage that always writes it.
        List<String> writers =
            java.util.stream.Stream.concat(
                    plan.stream().filter(q -> writes(q).contains(column)).map(q -> q.stage()),
                    ALL.stream().filter(s -> s.writes().contains(column)))
                .map(Stage::name)
                .distinct()
                .toList();
        // The suggested list: the first writer moved (or added) just before the stage.
        List<String> fixed = new ArrayList<>(names);
        if (!writers.isEmpty()) {
          fixed.remove(writers.get(0));
          fixed.add(fixed.indexOf(p.stage().name()), writers.get(0));
        }
        throw Errors.configStageOrder(p.stage().name(), i + 1, column, names, writers, fixed);
      }
      writes(p).forEach(c -> available.add(c.toLowerCase(Locale.ROOT)));
    }
  }

  /**
   * A key that no stage reads is a typo or a misplaced option: fail before any work, naming the
   * keys the section knows, rather than run with a default the user meant to change.
   */
  private void checkKeys() {
    Map<String, Set<String>> keysByStage = new LinkedHashMap<>();
    ALL.forEach(s -> keysByStage.put(s.name(), s.keys()));
    Set<String> known = new java.util.TreeSet<>(List.of(STAGES, StageKeys.OVERWRITE));
    keysByStage.values().forEach(known::addAll);
    known.addAll(Stages.CURATION_ORDER);
    known.add(EXPORT);
    for (String k : conf.root().keySet()) {
      if (!known.contains(k)) {
        throw Errors.configUnknownKey(k, known);
      }
    }
    if (conf.hasPath(EXPORT)) {
      for (String k : conf.getConfig(EXPORT).root().keySet()) {
        if (!EXPORT_KEYS.contains(k)) {
          throw Errors.configUnknownStageKey(EXPORT, k, new java.util.TreeSet<>(EXPORT_KEYS));
        }
      }
    }
    for (String stage : Stages.CURATION_ORDER) {
      if (!conf.hasPath(stage)) {
        continue;
      }
      Set<String> read = keysByStage.get(stage);
      for (String k : conf.getConfig(stage).root().keySet()) {
        if (!read.contains(k)) {
          throw Errors.configUnknownStageKey(stage, k, new java.util.TreeSet<>(read));
        }
      }
    }
  }

  public List<StageResult> run() {
    long start = System.nanoTime();
    List<Planned<?>> plan = plan();
    // The input's schema only (Parquet footers, no rows): whether the input already has columns a
    // stage needs, e.g. embeddings for score.
    String input = conf.getString(StageKeys.INPUT);
    // download reads metadata (CSV, TSV or Parquet) itself and writes the columns it names.
    boolean fromMetadata = !plan.isEmpty() && plan.get(0).stage().name().equals(Stages.DOWNLOAD);
    checkOrder(
        plan,
        fromMetadata
            ? List.of()
            : List.of(
                InputFiles.read(spark, Paths.resolveInput(spark, input)).schema().fieldNames()));
    ExportJob.Options export = exportOptions(plan);
    if (export != null) {
      export.validate(); // a bad format fails before the stages run
    }
    if (plan.stream()
        .anyMatch(p -> Set.of(Stages.EMBED, Stages.SCORE).contains(p.stage().name()))) {
      // Fail fast on a bad model before hours of dedup.
      io.sparkclip.udfs.embed.Embedders.modelDirectory(conf.getString(StageKeys.MODEL));
    }
    plan.forEach(CurateJob::preflight);
    String out = conf.getString(StageKeys.OUT);
    Paths.prepareOutput(
        spark,
        out,
        conf.hasPath(StageKeys.OVERWRITE)
            ? conf.getBoolean(StageKeys.OVERWRITE)
            : StageKeys.OVERWRITE_DEFAULT);
    List<StageResult> results = new ArrayList<>();
    int n = 0;
    try (StageRunner runner = new StageRunner(spark, progress, console)) {
      for (Planned<?> p : plan) {
        n++;
        String name = p.stage().name();
        long t0 = System.nanoTime();
        CurationSummary s = p.run(runner, String.format("curate %d/%d %s", n, plan.size(), name));
        Map<String, Long> rejected = new LinkedHashMap<>();
        s.rejected()
            .forEach((st, reasons) -> reasons.forEach((k, v) -> rejected.merge(k, v, Long::sum)));
        StageResult r =
            new StageResult(
                name, p.dir(), s.rowsIn(), s.rowsOut(), rejected, (System.nanoTime() - t0) / 1e9);
        results.add(r);
        LOG.info(
            "{}: {} rows in, {} out, {} in {}s",
            name,
            r.rowsIn(),
            r.rowsOut(),
            r.rejected(),
            String.format(Locale.ROOT, "%.1f", r.seconds()));
      }
    }
    ExportJob.Result exported = null;
    if (export != null) {
      exported = new ExportJob(spark, export).run();
      console.print(exported.render());
    }
    writeFunnel(out, results, exported, (System.nanoTime() - start) / 1e9);
    return results;
  }

  /** The export step's options (input: the last stage's output), or null without one. */
  ExportJob.Options exportOptions(List<Planned<?>> plan) {
    if (!conf.hasPath(EXPORT)) {
      return null;
    }
    Config section = conf.getConfig(EXPORT);
    String out = conf.getString(StageKeys.OUT);
    String input =
        plan.isEmpty() ? conf.getString(StageKeys.INPUT) : plan.get(plan.size() - 1).dir();
    StageConf c =
        StageConf.of(section, "curate config, " + EXPORT)
            .with(StageKeys.INPUT, input)
            .with(
                StageKeys.OUT,
                section.hasPath(StageKeys.OUT)
                    ? section.getString(StageKeys.OUT)
                    : new Path(out, EXPORT_DIR).toString())
            .with(StageKeys.OVERWRITE, false);
    return ExportJob.Options.from(c);
  }

  private void writeFunnel(
      String out, List<StageResult> results, ExportJob.Result exported, double seconds) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("input", conf.getString("input"));
    m.put("output", out);
    m.put("model", conf.hasPath(StageKeys.MODEL) ? conf.getString(StageKeys.MODEL) : null);
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
    if (exported != null) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("format", exported.format().label());
      e.put("dir", exported.out());
      e.put("rows", exported.rows());
      e.put("files", exported.units());
      m.put(EXPORT, e);
    }
    m.put("seconds", Math.round(seconds * 10) / 10.0);
    m.put("config", conf.root().unwrapped());
    try {
      Paths.writeText(
          spark,
          new Path(out, StageFiles.FUNNEL_FILE).toString(),
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
