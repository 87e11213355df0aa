package io.sparkclip.jobs.curate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.demo.DemoJob;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.generate.SyntheticPairs;
import io.sparkclip.jobs.stage.ConsoleProgress;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * curate runs its stages in the order {@code stages} lists them, checks before any stage runs that
 * every stage's required columns come from the input or an earlier stage, and runs issue 16's list
 * (basic-filter before dedup and embed, balance last) on demo data with the per-query cap holding
 * on the final output.
 */
class CurateStageOrderTest {
  static final List<String> ISSUE_ORDER =
      List.of(
          Stages.MATCH_QUERIES,
          Stages.BASIC_FILTER,
          Stages.DEDUP,
          Stages.EMBED,
          Stages.SCORE,
          Stages.FILTER,
          Stages.BALANCE);

  @TempDir static Path tmp;
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("CurateStageOrderTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static Config conf(List<String> stages, Map<String, String> extra) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put(StageKeys.INPUT, "/raw");
    o.put(StageKeys.OUT, "/curated");
    o.put("queries", "/q.txt");
    o.put(StageKeys.MODEL, "/m");
    o.putAll(extra);
    return CurateJob.load(null, o)
        .withValue(CurateJob.STAGES, ConfigValueFactory.fromIterable(stages));
  }

  @Test
  void stagesRunInTheListedOrder() {
    List<CurateJob.Planned<?>> plan = new CurateJob(null, conf(ISSUE_ORDER, Map.of())).plan();
    assertThat(plan.stream().map(p -> p.stage().name()).toList())
        .as("planned in the listed order")
        .isEqualTo(ISSUE_ORDER);
    for (int i = 0; i < plan.size(); i++) {
      assertThat(plan.get(i).dir())
          .as("directory of stage %d", i + 1)
          .isEqualTo("/curated/" + (i + 1) + "-" + ISSUE_ORDER.get(i));
    }
    List<String> reversed = List.of(Stages.BALANCE, Stages.DEDUP, Stages.MATCH_QUERIES);
    assertThat(
            new CurateJob(null, conf(reversed, Map.of()))
                .plan().stream().map(p -> p.stage().name()).toList())
        .as("any order the user lists")
        .isEqualTo(reversed);
  }

  @Test
  void theExampleConfigPlansWithBasicFilterInTheIssuesOrder() {
    Path example =
        Path.of(System.getProperty("basedir", "."))
            .resolve("../conf/curate.example.conf")
            .toAbsolutePath()
            .normalize();
    Config c =
        CurateJob.load(example.toString(), Map.of())
            .withValue(CurateJob.STAGES, ConfigValueFactory.fromIterable(ISSUE_ORDER));
    List<CurateJob.Planned<?>> plan = new CurateJob(null, c).plan();
    assertThat(plan.get(1).options())
        .as("basic-filter as the example's section sets it: its defaults")
        .isEqualTo(
            new io.sparkclip.jobs.basicfilter.BasicFilterStage()
                .options(
                    io.sparkclip.jobs.stage.StageConf.io(
                        plan.get(0).dir() + "/data", plan.get(1).dir())));
  }

  @Test
  void aStageListedTwiceFailsBeforeAnyWork() throws Exception {
    Path file = tmp.resolve("twice.conf");
    Files.writeString(file, "input = /raw\nout = /curated\nstages = [dedup, balance, dedup]\n");
    assertThatThrownBy(() -> CurateJob.load(file.toString(), Map.of()))
        .as("dedup twice")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.CONFIG_STAGE_ORDER))
        .hasMessageContaining("'dedup' is listed twice");
  }

  static final List<String> RAW_COLUMNS =
      List.of("query", "caption", "url", "key", "status", "width", "height", "jpg");

  @Test
  void aStageBeforeTheStageWritingItsColumnsFailsNamingTheFix() {
    List<CurateJob.Planned<?>> plan =
        new CurateJob(
                null, conf(List.of(Stages.MATCH_QUERIES, Stages.SCORE, Stages.FILTER), Map.of()))
            .plan();
    assertThatThrownBy(() -> CurateJob.checkOrder(plan, RAW_COLUMNS))
        .as("score with no embed before it")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.CONFIG_STAGE_ORDER))
        .hasMessageContaining("Stage 'score' (number 2")
        .hasMessageContaining("needs column 'image_embedding'")
        .hasMessageContaining("written by [embed]")
        .hasMessageContaining("stages = [match-queries, embed, score, filter]");

    List<CurateJob.Planned<?>> late =
        new CurateJob(null, conf(List.of(Stages.SCORE, Stages.EMBED, Stages.FILTER), Map.of()))
            .plan();
    assertThatThrownBy(() -> CurateJob.checkOrder(late, RAW_COLUMNS))
        .as("embed listed after score")
        .hasMessageContaining("stages = [embed, score, filter]");

    List<CurateJob.Planned<?>> balance =
        new CurateJob(null, conf(List.of(Stages.DEDUP, Stages.BALANCE), Map.of())).plan();
    assertThatThrownBy(() -> CurateJob.checkOrder(balance, List.of("caption", "url", "jpg")))
        .as("balance on input without a query column")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.CONFIG_STAGE_ORDER))
        .hasMessageContaining("needs column 'query'")
        .hasMessageContaining("written by [match-queries]");
    CurateJob.checkOrder(balance, RAW_COLUMNS); // the generator's pairs carry their query

    List<CurateJob.Planned<?>> perQuery =
        new CurateJob(
                null,
                conf(
                    List.of(Stages.EMBED, Stages.SCORE, Stages.FILTER),
                    Map.of("filter.per-query-top-percent", "50")))
            .plan();
    assertThatThrownBy(() -> CurateJob.checkOrder(perQuery, List.of("caption", "url", "jpg")))
        .as("an option that needs a column: per-query percentiles need the query")
        .hasMessageContaining("Stage 'filter' (number 3")
        .hasMessageContaining("needs column 'query'");

    List<CurateJob.Planned<?>> scoreOnly =
        new CurateJob(null, conf(List.of(Stages.SCORE, Stages.FILTER, Stages.BALANCE), Map.of()))
            .plan();
    List<String> embedded = new ArrayList<>(RAW_COLUMNS);
    embedded.addAll(List.of("IMAGE_EMBEDDING", "text_embedding", "embed_status"));
    CurateJob.checkOrder(scoreOnly, embedded); // input already embedded: any case, as Spark
  }

  private static Dataset<Row> prepared(String raw) {
    Dataset<Row> in = spark.read().option("pathGlobFilter", "*.parquet").parquet(raw);
    return Pairs.prepare(in, LayoutDetector.detect(in.schema()));
  }

  @Test
  void theIssuesStageListRunsOnDemoDataAndTheCapHoldsOnTheFinalOutput() throws Exception {
    String raw = tmp.resolve("raw").toString();
    String curated = tmp.resolve("curated").toString();
    Map<FaultKind, Double> faults = SyntheticPairs.Config.defaultFaultRates();
    faults.put(FaultKind.SHUFFLED_CAPTION, 0.10);
    // The demo's generator settings (DemoJob), on fewer rows.
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(600, raw)
                .seed(42)
                .shardSize(300)
                .queries(30)
                .sides(64, 320)
                .faultRates(faults)
                .build())
        .run();
    int cap = 3;
    Map<String, String> o = new LinkedHashMap<>();
    o.put(StageKeys.INPUT, raw);
    o.put("queries", raw + "/" + StageFiles.QUERIES_FILE);
    o.put(StageKeys.OUT, curated);
    o.put(StageKeys.MODEL, TestModels.DEMO);
    o.put("balance.cap", String.valueOf(cap));
    o.put("score.group-size", "64");
    o.put("batch-size", "64");
    o.put("filter.min-clip-score", String.format(Locale.ROOT, "%.4f", DemoJob.DEFAULT_THRESHOLD));
    // The issue's list with semdedup after embed, clustering with k > 1.
    List<String> stages = new ArrayList<>(ISSUE_ORDER);
    stages.add(stages.indexOf(Stages.EMBED) + 1, Stages.SEMDEDUP);
    o.put("semdedup.clusters", "4");
    Config c =
        CurateJob.load(null, o)
            .withValue(CurateJob.STAGES, ConfigValueFactory.fromIterable(stages));
    List<CurateJob.StageResult> funnel =
        new CurateJob(
                spark,
                c,
                ConsoleProgress.Mode.QUIET,
                new PrintStream(OutputStream.nullOutputStream()))
            .run();

    assertThat(funnel.stream().map(CurateJob.StageResult::stage).toList())
        .as("stages ran in the listed order")
        .isEqualTo(stages);
    assertThat(funnel.get(0).rowsIn()).as("every generated row enters").isEqualTo(600);
    for (int i = 0; i < funnel.size(); i++) {
      CurateJob.StageResult s = funnel.get(i);
      long rejected = s.rejected().values().stream().mapToLong(Long::longValue).sum();
      assertThat(s.rowsIn())
          .as("in = out + rejected at %s", s.stage())
          .isEqualTo(s.rowsOut() + rejected);
      if (i > 0) {
        assertThat(s.rowsIn())
            .as("%s reads what %s kept", s.stage(), funnel.get(i - 1).stage())
            .isEqualTo(funnel.get(i - 1).rowsOut());
      }
      Dataset<Row> input =
          i == 0
              ? prepared(raw)
              : spark.read().parquet(CurationOutput.data(funnel.get(i - 1).dir()));
      CurationChecks.assertUidsAccounted(spark, "curate " + s.stage(), input, s.dir());
    }
    CurateJob.StageResult sem = funnel.get(stages.indexOf(Stages.SEMDEDUP));
    JsonNode semSummary =
        new ObjectMapper().readTree(Files.readString(Path.of(sem.dir(), "_summary.json")));
    assertThat(semSummary.toString())
        .as("semdedup ran with k = 4 inside curate: %s", semSummary)
        .contains("\"clusters\":4");

    CurateJob.StageResult basic = funnel.get(1);
    assertThat(basic.rejected())
        .as("basic-filter's reasons in the funnel: the demo's images are 64-320 px")
        .containsKey(RejectReason.IMAGE_TOO_SMALL);
    JsonNode json =
        new ObjectMapper().readTree(Files.readString(Path.of(curated, StageFiles.FUNNEL_FILE)));
    Map<String, Long> fromJson = new HashMap<>();
    json.get("stages")
        .get(1)
        .get("rejected")
        .fields()
        .forEachRemaining(e -> fromJson.put(e.getKey(), e.getValue().asLong()));
    assertThat(json.get("stages").get(1).get("stage").asText())
        .as("_funnel.json's second stage")
        .isEqualTo(Stages.BASIC_FILTER);
    assertThat(fromJson).as("_funnel.json: each basic-filter reason").isEqualTo(basic.rejected());

    String last = funnel.get(funnel.size() - 1).dir();
    Dataset<Row> out = spark.read().parquet(CurationOutput.data(last));
    assertThat(out.count())
        .as("final rows")
        .isEqualTo(funnel.get(funnel.size() - 1).rowsOut())
        .isPositive();
    long largest = out.groupBy(Columns.QUERY).count().agg(max(col("count"))).first().getLong(0);
    assertThat(largest)
        .as("largest query in the final output, cap %d", cap)
        .isLessThanOrEqualTo(cap);
    assertThat(out.filter(col(Columns.CLIP_SCORE).lt(DemoJob.DEFAULT_THRESHOLD)).count())
        .as("balance ran after filter: no final row below the clip_score threshold")
        .isZero();
    assertThat(out.filter(col(Columns.LANGUAGE).notEqual("en")).count())
        .as("every final row passed basic-filter's English check")
        .isZero();
    Set<String> finalUids =
        Set.copyOf(
            out.select(Columns.UID).as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
    Dataset<Row> basicKept = spark.read().parquet(CurationOutput.data(basic.dir()));
    assertThat(basicKept.filter(col(Columns.UID).isin(finalUids.toArray())).count())
        .as("final rows are rows basic-filter kept")
        .isEqualTo(finalUids.size());
  }
}
