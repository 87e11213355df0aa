package io.sparkclip.jobs.demo;

import com.typesafe.config.ConfigValueFactory;
import io.sparkclip.jobs.basicfilter.BasicFilterJob;
import io.sparkclip.jobs.curate.CurateJob;
import io.sparkclip.jobs.decontaminate.DecontaminateJob;
import io.sparkclip.jobs.evaluate.EvaluateJob;
import io.sparkclip.jobs.filter.FilterJob;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.generate.SyntheticPairs;
import io.sparkclip.jobs.report.ReportJob;
import io.sparkclip.jobs.score.ScoreJob;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.io.File;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * {@code sparkclip demo}: generate scraped pairs with injected faults, curate them with the demo
 * CLIP, evaluate the decisions against the ground truth and write the HTML report; prints where
 * everything is. A few minutes on a laptop-class machine.
 */
public final class DemoJob {
  public static final String DEFAULT_MODEL = "models/sparkclip-demo-clip";

  /**
   * The demo's clip_score threshold for the demo model. Measured on 1,500 generated demo pairs
   * (seed 42): shuffled-caption precision 1.000, recall 0.974. The model card's best-F1 threshold
   * (0.632) was tuned on 256-px held-out images and flags too many clean pairs of other sizes;
   * notebooks/03-threshold-tuning re-tunes it on any output with ground truth.
   */
  public static final double DEFAULT_THRESHOLD = 0.45;

  /** The seed {@link #DEFAULT_THRESHOLD} was measured on; tests evaluate on other seeds. */
  public static final long THRESHOLD_TUNING_SEED = 42;

  /** The demo generates images with sides of 64 to 320 px. */
  static final int MIN_SIDE = 64;

  static final int MAX_SIDE = 320;

  /**
   * basic-filter's shortest side for the demo. DataComp's 200 px would drop most of the demo's
   * 64-320 px images; 80 px is the same rule scaled to them: it drops the smallest images and the
   * most downscaled near-duplicate copies, and keeps the rest.
   */
  public static final int DEMO_MIN_IMAGE_SIDE = 80;

  /**
   * basic-filter's aspect ratio bound for the demo. The generator's images are at most about
   * 1.67:1, so DataComp's 3 would never fire; 1.5 drops the most elongated ones, so the check's
   * histogram and rejects show a real decision.
   */
  public static final double DEMO_MAX_ASPECT_RATIO = 1.5;

  /**
   * Share of the demo's pairs that copy an image of its held-out evaluation set, and the set's
   * items no pair copies: the generator writes the set beside the pairs, decontaminate removes the
   * copies.
   */
  public static final double DEMO_EVAL_COPY_RATE = 0.02;

  public static final int DEMO_EVAL_EXTRA = 100;

  /** The name of the demo's evaluation set in decontaminate's rejects and overlap table. */
  public static final String DEMO_EVAL_SET = "held_out";

  /**
   * The demo's stages: curate's defaults with basic-filter after match-queries, before dedup and
   * embed, so that nothing is deduplicated or embedded only to be dropped by a cheap check, and
   * decontaminate after dedup (one copy of an eval image left to compare, not many).
   */
  public static List<String> stages() {
    List<String> s = new ArrayList<>(CurateJob.STAGES_DEFAULT);
    s.add(s.indexOf(Stages.MATCH_QUERIES) + 1, Stages.BASIC_FILTER);
    s.add(s.indexOf(Stages.DEDUP) + 1, Stages.DECONTAMINATE);
    return List.copyOf(s);
  }

  public record Options(
      String out,
      int rows,
      long seed,
      String model,
      long cap,
      Double threshold,
      boolean overwrite) {}

  public record Result(
      String raw,
      String curated,
      String report,
      List<CurateJob.StageResult> funnel,
      EvaluateJob.Evaluation evaluation,
      double threshold,
      double seconds) {}

  private final SparkSession spark;
  private final Options options;

  public DemoJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  /** The demo model: an explicit path, else models/ under SPARKCLIP_HOME or the working dir. */
  /** The demo model's score head (models/sparkclip-demo-clip-heads), scored by the demo. */
  public static final String DEMO_HEAD_NAME = "gradient_background";

  /**
   * The demo's filter bound on its head: pictures the head is at least this sure have a gradient
   * background are removed, as a curator removes what a watermark or NSFW head flags (filter
   * --max), so the report shows a head decision.
   */
  public static final double DEMO_HEAD_MAX = 0.9;

  static final String DEMO_HEADS_DIR = "sparkclip-demo-clip-heads";

  /**
   * The demo head next to the demo model, or null for another model (a head fits one model's
   * embedding width) or when the head is not there.
   */
  static String demoHead(String model) {
    File m = new File(model).getAbsoluteFile();
    File head = new File(new File(m.getParentFile(), DEMO_HEADS_DIR), DEMO_HEAD_NAME);
    boolean demoModel = m.getName().equals(new File(DEFAULT_MODEL).getName());
    return demoModel && new File(head, "head.json").isFile() ? head.getPath() : null;
  }

  public static String findModel(String explicit) {
    if (explicit != null) {
      return explicit;
    }
    for (String base : new String[] {System.getenv("SPARKCLIP_HOME"), "."}) {
      if (base != null && new File(base, DEFAULT_MODEL + "/config.json").isFile()) {
        return new File(base, DEFAULT_MODEL).getAbsolutePath();
      }
    }
    throw Errors.demoModelNotFound(DEFAULT_MODEL);
  }

  public Result run(PrintStream console) {
    long start = System.nanoTime();
    String model = findModel(options.model());
    double threshold = options.threshold() != null ? options.threshold() : DEFAULT_THRESHOLD;
    String raw = new Path(options.out(), "raw").toString();
    String curated = new Path(options.out(), "curated").toString();
    String report = new Path(options.out(), "report.html").toString();

    console.printf(
        "[1/4] generating %,d scraped pairs with injected faults -> %s%n", options.rows(), raw);
    Map<FaultKind, Double> faults = SyntheticPairs.Config.defaultFaultRates();
    faults.put(FaultKind.SHUFFLED_CAPTION, 0.10);
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(options.rows(), raw)
                .seed(options.seed())
                .shardSize(Math.max(500, options.rows() / 4))
                .queries(Math.max(20, options.rows() / 20))
                .sides(MIN_SIDE, MAX_SIDE)
                .faultRates(faults)
                .evalSet(DEMO_EVAL_COPY_RATE, DEMO_EVAL_EXTRA)
                .overwrite(options.overwrite())
                .build())
        .run();

    console.printf("[2/4] curating with %s -> %s%n", model, curated);
    Map<String, String> o = new LinkedHashMap<>();
    o.put("input", raw);
    o.put("queries", new Path(raw, StageFiles.QUERIES_FILE).toString());
    o.put("out", curated);
    o.put("model", model);
    o.put("overwrite", String.valueOf(options.overwrite()));
    o.put("balance.cap", String.valueOf(options.cap()));
    o.put("score.group-size", "64");
    o.put("batch-size", "64");
    o.put("filter.min-clip-score", String.format(Locale.ROOT, "%.4f", threshold));
    o.put(
        Stages.BASIC_FILTER + "." + BasicFilterJob.Options.MIN_IMAGE_SIDE,
        String.valueOf(DEMO_MIN_IMAGE_SIDE));
    o.put(
        Stages.BASIC_FILTER + "." + BasicFilterJob.Options.MAX_ASPECT_RATIO,
        String.valueOf(DEMO_MAX_ASPECT_RATIO));
    com.typesafe.config.Config conf =
        CurateJob.load(null, o)
            .withValue(CurateJob.STAGES, ConfigValueFactory.fromIterable(stages()));
    conf =
        conf.withValue(
            Stages.DECONTAMINATE + "." + DecontaminateJob.Options.EVAL_SETS,
            ConfigValueFactory.fromIterable(
                List.of(DEMO_EVAL_SET + "=" + new Path(raw, StageFiles.EVAL_SET_DIR).toString())));
    String head = demoHead(model);
    if (head != null) {
      conf =
          conf.withValue(
                  Stages.SCORE + "." + ScoreJob.Options.HEADS,
                  ConfigValueFactory.fromIterable(List.of(DEMO_HEAD_NAME + "=" + head)))
              .withValue(
                  Stages.FILTER + "." + FilterJob.Options.MAX,
                  ConfigValueFactory.fromIterable(
                      List.of(
                          Columns.headScore(DEMO_HEAD_NAME)
                              + "="
                              + BigDecimal.valueOf(DEMO_HEAD_MAX).toPlainString())));
    }
    List<CurateJob.StageResult> funnel = new CurateJob(spark, conf).run();
    console.print(CurateJob.render(funnel));

    console.println("[3/4] evaluating against the generator's ground truth");
    EvaluateJob.Evaluation e =
        new EvaluateJob(
                spark,
                new Path(raw, StageFiles.GROUND_TRUTH_DIR).toString(),
                curated,
                options.cap())
            .run();
    console.print(e.render());

    console.printf("[4/4] writing the report -> %s%n", report);
    new ReportJob(spark, curated, report, 24).run();
    double seconds = (System.nanoTime() - start) / 1e9;
    console.printf(
        Locale.ROOT,
        "%nDone in %.0f s.%n  raw pairs + ground truth  %s%n  stage outputs + funnel    %s%n"
            + "  evaluation               %s/%s%n  report                   %s%n",
        seconds,
        raw,
        curated,
        curated,
        StageFiles.EVALUATION_FILE,
        report);
    return new Result(raw, curated, report, funnel, e, threshold, seconds);
  }
}
