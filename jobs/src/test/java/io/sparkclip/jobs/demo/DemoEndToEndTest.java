package io.sparkclip.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.curate.CurateJob;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.evaluate.EvaluateJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * (match-queries, basic-filter, dedup, balance, embed, score, filter) → evaluate → report. Asserts
 * the curation quality the demo promises and renders the report in headless Chromium, checking its
 * basic-filter and duplicate-cluster sections against the stages' outputs.
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
    List<CurateJob.StageResult> f = result.funnel();
    assertThat(f.stream().map(CurateJob.StageResult::stage).toList())
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

  private static String dom;

  /** The report as headless Chromium rendered it (its DOM after the load script), once. */
  private static synchronized String renderedReport() throws Exception {
    if (dom != null) {
      return dom;
    }
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
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    dom = out;
    return dom;
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
            "id=\"funnel\"",
            "id=\"queries\"",
            "id=\"basic-filter\"",
            "id=\"dup-clusters\"",
            "id=\"eval-overlap\"",
            "id=\"scores\"",
            "id=\"heads\"",
            "id=\"samples\"");
    String dom = renderedReport();
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

  private static CurateJob.StageResult stage(String name) {
    return result.funnel().stream().filter(s -> s.stage().equals(name)).findFirst().orElseThrow();
  }

  /** The rendered section with this id, from its opening tag to its end. */
  private static String section(String dom, String id) {
    int start = dom.indexOf("<section id=\"" + id + "\">");
    assertThat(start).as("section %s rendered", id).isNotNegative();
    return dom.substring(start, dom.indexOf("</section>", start));
  }

  /** Rejects of one stage directory for the given uids: uid -> {reason, related_uid}. */
  private static Map<String, String[]> rejects(String dir, Set<String> uids) {
    Map<String, String[]> out = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(CurationOutput.rejects(dir))
            .filter(functions.col(Columns.UID).isin(uids.toArray()))
            .select(Columns.UID, Columns.REASON, Columns.RELATED_UID)
            .collectAsList()) {
      out.put(r.getString(0), new String[] {r.getString(1), r.getString(2)});
    }
    return out;
  }

  static final Pattern FIGURE =
      Pattern.compile(
          "<figure class=\"sample( kept| removed)?\" data-uid=\"([0-9a-f]+)\""
              + "(?: data-related-uid=\"([0-9a-f]+)\")?>(.*?)</figure>",
          Pattern.DOTALL);

  static final Pattern REASON = Pattern.compile("<b>([a-z_]+)</b>");

  /** A figure's decoded thumbnail (a figure without image bytes shows "no image" instead). */
  static final String THUMBNAIL = "<img class=\"thumb\" alt=\"sample\" src=\"data:image/jpeg";

  @Test
  void theFunnelShowsBasicFiltersReasonsAtTheDemosBounds() throws Exception {
    CurateJob.StageResult basic = stage(Stages.BASIC_FILTER);
    assertThat(basic.rejected())
        .as("basic-filter's reasons in the funnel: the demo's scaled bounds reject real rows")
        .containsKeys(RejectReason.IMAGE_TOO_SMALL, RejectReason.EXTREME_ASPECT_RATIO);
    assertThat(basic.rejected().get(RejectReason.IMAGE_TOO_SMALL))
        .as("rows below the demo's shortest side: a minority of the 64-320 px images")
        .isPositive()
        .isLessThan(basic.rowsIn() / 4);
    JsonNode bounds =
        new ObjectMapper()
            .readTree(Files.readString(Path.of(CurationOutput.summary(basic.dir()))))
            .path(StageFiles.SUMMARY_DETAILS)
            .path(StageFiles.SUMMARY_CHECK_BOUNDS);
    assertThat(bounds.path(RejectReason.IMAGE_TOO_SMALL).asInt())
        .as("shortest side bound recorded in the summary")
        .isEqualTo(DemoJob.DEMO_MIN_IMAGE_SIDE);
    assertThat(bounds.path(RejectReason.EXTREME_ASPECT_RATIO).asDouble())
        .as("aspect ratio bound recorded in the summary")
        .isEqualTo(DemoJob.DEMO_MAX_ASPECT_RATIO);
    assertThat(bounds.has(RejectReason.IMAGE_FILE_TOO_SMALL))
        .as("the byte size check is off by default and not recorded")
        .isFalse();
  }

  @Test
  void theBasicFilterSectionChartsEveryCheckAndShowsRealRejects() throws Exception {
    String basic = section(renderedReport(), "basic-filter");
    List<String> charts =
        List.of(
            "caption_words",
            "caption_chars",
            "image_shortest_side",
            "image_aspect_ratio",
            Columns.LANGUAGE_CONFIDENCE);
    for (String c : charts) {
      assertThat(basic)
          .as("a histogram for the %s check", c)
          .containsPattern(
              "<img class=\"chart\" id=\"chart-basic-" + c + "\"[^>]*src=\"data:image/png");
    }
    assertThat(basic)
        .as("no chart for the byte size check, which did not run")
        .doesNotContain("chart-basic-image_bytes");
    assertThat(Pattern.compile("<img class=\"chart\"").matcher(basic).results().count())
        .as("one chart per check that ran")
        .isEqualTo(charts.size());

    Map<String, String> shown = new HashMap<>();
    long thumbnails = 0;
    Matcher f = FIGURE.matcher(basic);
    while (f.find()) {
      Matcher reason = REASON.matcher(f.group(4));
      assertThat(reason.find()).as("sample %s names its reason", f.group(2)).isTrue();
      shown.put(f.group(2), reason.group(1));
      thumbnails += f.group(4).contains(THUMBNAIL) ? 1 : 0;
    }
    assertThat(shown).as("rejected samples shown").isNotEmpty();
    assertThat(thumbnails).as("rejected samples with a thumbnail").isPositive();
    assertThat(shown.values())
        .as("the scaled image checks' rejects are among the samples")
        .contains(RejectReason.IMAGE_TOO_SMALL, RejectReason.EXTREME_ASPECT_RATIO);
    Map<String, String[]> rejected = rejects(stage(Stages.BASIC_FILTER).dir(), shown.keySet());
    shown.forEach(
        (uid, reason) -> {
          assertThat(rejected).as("sample %s is a basic-filter reject", uid).containsKey(uid);
          assertThat(rejected.get(uid)[0]).as("reason shown for %s", uid).isEqualTo(reason);
        });
  }

  @Test
  void theDuplicateGalleryShowsKeptRowsNextToTheirRealDuplicates() throws Exception {
    String gallery = section(renderedReport(), "dup-clusters");
    String[] clusters = gallery.split("<div class=\"cluster\" data-kept-uid=\"");
    assertThat(clusters.length - 1).as("clusters shown").isPositive();
    String dedup = stage(Stages.DEDUP).dir();
    Map<String, String> removedToKept = new HashMap<>();
    Map<String, String> reasons = new HashMap<>();
    Set<String> keptShown = new HashSet<>();
    long removedThumbnails = 0;
    for (int i = 1; i < clusters.length; i++) {
      String kept = clusters[i].substring(0, clusters[i].indexOf('"'));
      List<String> keptFigures = new ArrayList<>();
      int removed = 0;
      Matcher f = FIGURE.matcher(clusters[i]);
      while (f.find()) {
        boolean thumb = f.group(4).contains(THUMBNAIL);
        if (" kept".equals(f.group(1))) {
          keptFigures.add(f.group(2));
          assertThat(thumb).as("kept row %s has its thumbnail", kept).isTrue();
        } else {
          assertThat(f.group(1)).as("figure class in cluster %s", kept).isEqualTo(" removed");
          assertThat(f.group(3)).as("removed %s points at its cluster", f.group(2)).isEqualTo(kept);
          Matcher reason = REASON.matcher(f.group(4));
          assertThat(reason.find()).as("removed %s names its reason", f.group(2)).isTrue();
          removedToKept.put(f.group(2), kept);
          reasons.put(f.group(2), reason.group(1));
          removedThumbnails += thumb ? 1 : 0;
          removed++;
        }
      }
      assertThat(keptFigures).as("cluster %s shows its kept row once", kept).containsExactly(kept);
      assertThat(removed).as("cluster %s shows removed rows", kept).isPositive();
      keptShown.add(kept);
    }
    assertThat(removedThumbnails).as("removed rows shown with a thumbnail").isPositive();

    Map<String, String[]> rejected = rejects(dedup, removedToKept.keySet());
    removedToKept.forEach(
        (uid, kept) -> {
          assertThat(rejected).as("removed %s is a dedup reject", uid).containsKey(uid);
          assertThat(rejected.get(uid)[0])
              .as("dedup's reason for %s, as shown", uid)
              .isEqualTo(reasons.get(uid))
              .isIn(
                  RejectReason.DUPLICATE_EXACT_URL,
                  RejectReason.DUPLICATE_IMAGE_HASH,
                  RejectReason.NEAR_DUPLICATE_IMAGE,
                  RejectReason.NEAR_DUPLICATE_CAPTION);
          assertThat(rejected.get(uid)[1])
              .as("%s duplicates the kept row it is shown next to", uid)
              .isEqualTo(kept);
        });
    assertThat(reasons.values())
        .as("the gallery leads with near-duplicate images")
        .contains(RejectReason.NEAR_DUPLICATE_IMAGE);
    assertThat(
            spark
                .read()
                .parquet(CurationOutput.data(dedup))
                .filter(functions.col(Columns.UID).isin(keptShown.toArray()))
                .count())
        .as("every kept row shown is in dedup's output")
        .isEqualTo(keptShown.size());
  }

  static final Pattern OVERLAP_PAIR =
      Pattern.compile(
          "<div class=\"cluster overlap\" data-eval-id=\"([^\"]+)\" data-uid=\"([0-9a-f]+)\">"
              + "(.*?)</div>",
          Pattern.DOTALL);

  @Test
  void decontaminateRemovesTheEvalCopiesAndTheReportPairsThemWithTheirEvalImages()
      throws Exception {
    EvaluateJob.Detection d = result.evaluation().evalOverlap().orElseThrow();
    assertThat(d.actual()).as("eval copies that reached decontaminate").isGreaterThan(5);
    assertThat(d.recall()).as("eval-copy recall").isGreaterThanOrEqualTo(0.95);
    assertThat(d.precision())
        .as("eval-copy precision (right eval id)")
        .isGreaterThanOrEqualTo(0.99);

    String dir = stage(Stages.DECONTAMINATE).dir();
    com.fasterxml.jackson.databind.JsonNode set =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(Path.of(dir, StageFiles.EVAL_OVERLAP_FILE).toFile())
            .get("eval_sets")
            .get(0);
    String section = section(renderedReport(), "eval-overlap");
    assertThat(section)
        .as("the overlap table's line, as decontaminate counted it")
        .contains(
            "<tr data-set=\"" + DemoJob.DEMO_EVAL_SET + "\">",
            String.format(java.util.Locale.ROOT, "<td>%,d</td>", set.get("items").asLong()),
            String.format(java.util.Locale.ROOT, "<td>%,d</td>", set.get("items_found").asLong()),
            String.format(
                java.util.Locale.ROOT, "<td>%.2f</td>", set.get("percent_found").asDouble()));
    Matcher m = OVERLAP_PAIR.matcher(section);
    Map<String, String> shown = new HashMap<>();
    while (m.find()) {
      shown.put(m.group(2), m.group(1));
      assertThat(m.group(3).split(java.util.regex.Pattern.quote(THUMBNAIL), -1).length - 1)
          .as("pair %s shows the eval image and the pool image", m.group(2))
          .isEqualTo(2);
    }
    assertThat(shown).as("matched pairs shown").isNotEmpty();
    Map<String, String[]> rejected = rejects(dir, shown.keySet());
    shown.forEach(
        (uid, evalId) -> {
          assertThat(rejected).as("pool row %s is a decontaminate reject", uid).containsKey(uid);
          assertThat(rejected.get(uid)[0])
              .as("reason of %s", uid)
              .isEqualTo(RejectReason.EVAL_OVERLAP);
          assertThat(rejected.get(uid)[1])
              .as("%s copies the eval item it is shown next to", uid)
              .isEqualTo(evalId);
        });
  }

  @Test
  void theHeadSectionMarksTheFiltersBoundAndShowsWhatItRemoved() throws Exception {
    String column = Columns.headScore(DemoJob.DEMO_HEAD_NAME);
    String filter = stage(Stages.FILTER).dir();
    Dataset<Row> byHead =
        spark
            .read()
            .parquet(CurationOutput.rejects(filter))
            .filter(functions.col(Columns.REASON).equalTo(RejectReason.SCORE_ABOVE_MAX));
    long removed = byHead.count();
    assertThat(removed).as("rows the demo's head bound removed").isPositive();
    String section = section(renderedReport(), "heads");
    assertThat(section)
        .as("the head's line: its bound and the rows it removed, as filter counted them")
        .contains(
            "max " + java.math.BigDecimal.valueOf(DemoJob.DEMO_HEAD_MAX).toPlainString(),
            String.format(java.util.Locale.ROOT, "<td>%,d</td></tr>", removed),
            "id=\"chart-head-" + column + "\"");
    Matcher f =
        Pattern.compile(
                "<figure class=\"sample\" data-uid=\"([0-9a-f]+)\">(.*?)</figure>", Pattern.DOTALL)
            .matcher(section.substring(section.indexOf("grid rejected head")));
    Set<String> shown = new HashSet<>();
    while (f.find()) {
      assertThat(f.group(2))
          .as("removed pair %s has its thumbnail", f.group(1))
          .contains(THUMBNAIL);
      shown.add(f.group(1));
    }
    assertThat(shown).as("pairs shown as removed by the head bound").isNotEmpty();
    assertThat(rejects(filter, shown))
        .as("every pair shown is a filter reject above the head's max")
        .allSatisfy((uid, r) -> assertThat(r[0]).isEqualTo(RejectReason.SCORE_ABOVE_MAX))
        .hasSize(shown.size());
  }
}
