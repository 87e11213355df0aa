package io.sparkclip.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.evaluate.EvaluateJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.Stages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo chain on a smaller generated set with the committed demo model: generate → curate
 * (match-queries, dedup, balance, embed, score, filter) → evaluate → report. Asserts the curation
 * quality the demo promises and renders the report in headless Chromium.
 */
class DemoEndToEndTest {
  /** A seed the demo threshold was not tuned on, so the quality figures are out of sample. */
  static final long SEED = 7;

  @TempDir static Path tmp;
  static SparkSession spark;
  static DemoJob.Result result;

  @BeforeAll
  static void run() {
    assertThat(SEED).as("evaluated seed").isNotEqualTo(DemoJob.THRESHOLD_TUNING_SEED);
    spark = LocalSpark.start("DemoEndToEndTest");
    result =
        new DemoJob(
                spark,
                new DemoJob.Options(
                    tmp.resolve("demo").toString(), 1500, SEED, TestModels.DEMO, 30, null, true))
            .run(System.out);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void shuffledCaptionsAreFilteredWithHighPrecisionAndRecall() {
    EvaluateJob.Detection d = result.evaluation().shuffledCaptions().orElseThrow();
    assertThat(d.actual()).as("shuffled captions that reached the filter").isGreaterThan(30);
    assertThat(d.precision()).as("shuffled-caption precision").isGreaterThanOrEqualTo(0.95);
    assertThat(d.recall()).as("shuffled-caption recall").isGreaterThanOrEqualTo(0.90);
  }

  @Test
  void everyExactDuplicateIsFoundAndTheCapHolds() {
    EvaluateJob.Detection exact = result.evaluation().duplicatesByKind().get("exact_duplicate");
    assertThat(exact.actual()).as("exact duplicates injected").isPositive();
    assertThat(exact.recall()).as("exact-duplicate recall").isEqualTo(1.0);
    EvaluateJob.Detection near = result.evaluation().duplicatesByKind().get("near_duplicate");
    assertThat(near.recall()).as("near-duplicate recall").isGreaterThanOrEqualTo(0.9);
    assertThat(result.evaluation().dedupOverall().orElseThrow().precision())
        .as("dedup precision: removals belong to injected duplicate pairs")
        .isGreaterThanOrEqualTo(0.97);
    assertThat(result.evaluation().capHolds()).as("cap of 30 per query").isTrue();
    assertThat(result.evaluation().maxPerQuery().orElseThrow())
        .as("largest query")
        .isLessThanOrEqualTo(30);
  }

  @Test
  void funnelAccountsForEveryRowByUid() {
    List<io.sparkclip.jobs.curate.CurateJob.StageResult> f = result.funnel();
    assertThat(f.stream().map(io.sparkclip.jobs.curate.CurateJob.StageResult::stage).toList())
        .as("the demo's stages, basic-filter before dedup")
        .isEqualTo(DemoJob.stages())
        .containsSubsequence(Stages.MATCH_QUERIES, Stages.BASIC_FILTER, Stages.DEDUP);
    for (int i = 0; i < f.size(); i++) {
      var s = f.get(i);
      long rejected = s.rejected().values().stream().mapToLong(Long::longValue).sum();
      assertThat(s.rowsIn())
          .as("in = out + rejected at %s", s.stage())
          .isEqualTo(s.rowsOut() + rejected);
      if (i > 0) {
        assertThat(s.rowsIn())
            .as("%s reads what the previous stage kept", s.stage())
            .isEqualTo(f.get(i - 1).rowsOut());
      }
      Dataset<Row> input =
          i == 0
              ? prepared(result.raw())
              : spark.read().parquet(CurationOutput.data(f.get(i - 1).dir()));
      CurationChecks.assertUidsAccounted(spark, "demo " + s.stage(), input, s.dir());
    }
    assertThat(f.get(0).rowsIn()).as("every generated row enters").isEqualTo(1500);
  }

  @Test
  void theDemoHeadScoresEveryEmbeddedRow() {
    String score =
        result.funnel().stream()
            .filter(s -> s.stage().equals(Stages.SCORE))
            .findFirst()
            .orElseThrow()
            .dir();
    String column = Columns.headScore(DemoJob.DEMO_HEAD_NAME);
    Dataset<Row> df = spark.read().parquet(CurationOutput.data(score));
    assertThat(df.columns()).as("score output columns").contains(column);
    Dataset<Row> ok = df.filter(functions.col(Columns.EMBED_STATUS).equalTo("ok"));
    assertThat(ok.filter(functions.col(column).isNull()).count())
        .as("embedded rows without a head score")
        .isZero();
    Row range = ok.agg(functions.min(column), functions.max(column)).first();
    assertThat(range.getFloat(0)).as("lowest head score").isBetween(0f, 1f);
    assertThat(range.getFloat(1)).as("highest head score").isBetween(0f, 1f);
    assertThat(range.getFloat(1) - range.getFloat(0))
        .as("the head separates pictures: its scores spread")
        .isGreaterThan(0.5f);
  }

  private static Dataset<Row> prepared(String raw) {
    Dataset<Row> in = spark.read().option("pathGlobFilter", "*.parquet").parquet(raw);
    return Pairs.prepare(in, LayoutDetector.detect(in.schema()));
  }

  @Test
  void reportRendersInHeadlessChromiumWithChartsAndThumbnails() throws Exception {
    String html = Files.readString(Path.of(result.report()));
    assertThat(html)
        .as("self-contained: no external resources")
        .doesNotContain("src=\"http", "href=\"http");
    assertThat(html)
        .as("sections")
        .contains(
            "id=\"funnel\"", "id=\"queries\"", "id=\"scores\"", "id=\"heads\"", "id=\"samples\"");
    Path chromium = Path.of("/usr/bin/chromium");
    Assumptions.assumeTrue(
        Files.isExecutable(chromium), "chromium not installed: run tools/setup-test-env.sh");
    Process p =
        new ProcessBuilder(
                chromium.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + tmp.resolve("chromium-profile"),
                "--virtual-time-budget=10000",
                "--dump-dom",
                Path.of(result.report()).toUri().toString())
            .redirectError(tmp.resolve("chromium.err").toFile())
            .start();
    String dom = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    Matcher m = Pattern.compile("data-images-loaded=\"(\\d+)/(\\d+)\"").matcher(dom);
    assertThat(m.find())
        .as(
            "the report's load script ran in Chromium; stderr:\n%s",
            Files.readString(tmp.resolve("chromium.err")))
        .isTrue();
    int loaded = Integer.parseInt(m.group(1));
    int total = Integer.parseInt(m.group(2));
    assertThat(total).as("images in the report (5 charts + thumbnails)").isGreaterThan(11);
    assertThat(loaded).as("images that decoded in the browser").isEqualTo(total);
    assertThat(dom)
        .as("charts present")
        .contains(
            "id=\"chart-clip-score\"",
            "id=\"chart-query-score\"",
            "id=\"chart-funnel\"",
            "id=\"chart-queries\"",
            "id=\"chart-head-" + Columns.headScore(DemoJob.DEMO_HEAD_NAME) + "\"");
  }
}
