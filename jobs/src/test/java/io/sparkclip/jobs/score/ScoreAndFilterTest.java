package io.sparkclip.jobs.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.filter.FilterJob;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.udfs.embed.EmbedResult;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.embed.TextEmbedder;
import io.sparkclip.udfs.model.ModelDirectory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreAndFilterTest {
  static final int K = 16;
  @TempDir static Path tmp;
  static SparkSession spark;
  static String scored;
  static List<Row> rows;

  @BeforeAll
  static void setUp() throws Exception {
    spark = LocalSpark.start("ScoreAndFilterTest");
    String raw = tmp.resolve("raw").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(240, raw)
                .shardSize(120)
                .seed(5)
                .sides(64, 128)
                .queries(6)
                .faultRates(Map.of(FaultKind.CORRUPT_IMAGE, 0.05, FaultKind.SHUFFLED_CAPTION, 0.1))
                .build())
        .run();
    String emb = tmp.resolve("emb").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(StageConf.io(raw, emb).with(StageKeys.MODEL, TestModels.TINY)))
        .run();
    scored = tmp.resolve("scored").toString();
    CurationSummary s =
        new ScoreJob(
                spark,
                ScoreJob.Options.from(
                    StageConf.io(emb, scored)
                        .with(StageKeys.MODEL, TestModels.TINY)
                        .with(ScoreJob.Options.GROUP_SIZE, K)))
            .run();
    CurationChecks.assertAccounting(
        spark, "score", spark.read().parquet(CurationOutput.data(emb)), scored, s);
    assertThat(s.rowsRejected()).as("score keeps every row").isZero();
    rows = spark.read().parquet(scored + "/data").collectAsList(); // 240 small rows
    try (java.util.stream.Stream<Path> f = java.nio.file.Files.list(Path.of(emb, "data"))) {
      embeddedFiles = f.filter(p -> p.toString().endsWith(".parquet")).count();
    }
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  static float[] vec(Row r, String c) {
    List<Float> l = r.getList(r.fieldIndex(c));
    float[] f = new float[l.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = l.get(i);
    }
    return f;
  }

  static double dot(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d += (double) a[i] * b[i];
    }
    return d;
  }

  @Test
  void clipScoreIsTheCosineOfTheTwoEmbeddings() {
    assertThat(rows).as("scored rows").hasSize(240);
    int checked = 0;
    for (Row r : rows) {
      if (!r.getString(r.fieldIndex(Columns.EMBED_STATUS)).equals("ok")) {
        assertThat(r.isNullAt(r.fieldIndex(Columns.CLIP_SCORE)))
            .as("no score without embeddings")
            .isTrue();
        continue;
      }
      float[] a = vec(r, Columns.IMAGE_EMBEDDING);
      float[] b = vec(r, Columns.TEXT_EMBEDDING);
      double cos = dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
      assertThat(r.getDouble(r.fieldIndex(Columns.CLIP_SCORE)))
          .as("clip_score of %s", r.getString(r.fieldIndex(Columns.UID)))
          .isCloseTo(cos, offset(1e-5));
      checked++;
    }
    assertThat(checked).as("rows with embeddings").isGreaterThan(200);
  }

  @Test
  void queryScoreUsesTheMeanOfThePromptTemplates() throws Exception {
    Row r =
        rows.stream()
            .filter(x -> x.getString(x.fieldIndex(Columns.EMBED_STATUS)).equals("ok"))
            .findFirst()
            .orElseThrow();
    String query = r.getString(r.fieldIndex(Columns.QUERY));
    TextEmbedder text = Embedders.text(EmbedSettings.of(TestModels.TINY));
    List<String> prompts =
        ScoreJob.Options.TEMPLATES_DEFAULT.stream().map(t -> t.replace("{query}", query)).toList();
    EmbedResult[] res = text.infer(text.prepare(prompts));
    float[] mean = new float[res[0].embedding.length];
    for (EmbedResult e : res) {
      for (int i = 0; i < mean.length; i++) {
        mean[i] += e.embedding[i];
      }
    }
    float[] img = vec(r, Columns.IMAGE_EMBEDDING);
    double expected = dot(img, mean) / Math.sqrt(dot(img, img) * dot(mean, mean));
    assertThat(r.getDouble(r.fieldIndex(Columns.QUERY_SCORE)))
        .as("query_score for query '%s'", query)
        .isCloseTo(expected, offset(1e-4));
  }

  static long embeddedFiles;

  @Test
  void ranksAndLossMatchABruteForceOverEachGroup() {
    Map<String, List<Row>> groups =
        rows.stream()
            .filter(r -> !r.isNullAt(r.fieldIndex(Columns.GROUP_ID)))
            .collect(Collectors.groupingBy(r -> r.getString(r.fieldIndex(Columns.GROUP_ID))));
    long ok =
        rows.stream()
            .filter(r -> r.getString(r.fieldIndex(Columns.EMBED_STATUS)).equals("ok"))
            .count();
    assertThat(groups.values().stream().mapToInt(List::size).sum())
        .as("every embedded row is in exactly one group")
        .isEqualTo((int) ok);
    double scale = ModelDirectory.open(Path.of(TestModels.TINY)).logitScale();
    for (Map.Entry<String, List<Row>> g : groups.entrySet()) {
      List<Row> m = g.getValue();
      assertThat(m.size()).as("size of %s", g.getKey()).isLessThanOrEqualTo(K);
      double lossI = 0;
      double lossT = 0;
      for (Row r : m) {
        float[] img = vec(r, Columns.IMAGE_EMBEDDING);
        float[] txt = vec(r, Columns.TEXT_EMBEDDING);
        double own = dot(img, txt);
        int better = 0;
        int betterT = 0;
        double sumI = 0;
        double sumT = 0;
        for (Row o : m) {
          double di = dot(img, vec(o, Columns.TEXT_EMBEDDING));
          double dt = dot(vec(o, Columns.IMAGE_EMBEDDING), txt);
          better += o != r && di > own ? 1 : 0;
          betterT += o != r && dt > own ? 1 : 0;
          sumI += Math.exp(scale * di);
          sumT += Math.exp(scale * dt);
        }
        lossI += -(scale * own - Math.log(sumI));
        lossT += -(scale * own - Math.log(sumT));
        assertThat(r.getInt(r.fieldIndex(Columns.IMAGE_RANK)))
            .as("image_rank")
            .isEqualTo(better + 1);
        assertThat(r.getInt(r.fieldIndex(Columns.TEXT_RANK)))
            .as("text_rank")
            .isEqualTo(betterT + 1);
        assertThat(r.getInt(r.fieldIndex(Columns.GROUP_SIZE))).as("group_size").isEqualTo(m.size());
      }
      double loss = (lossI + lossT) / 2 / m.size();
      assertThat(m.get(0).getDouble(m.get(0).fieldIndex(Columns.GROUP_LOSS)))
          .as("group loss of %s", g.getKey())
          .isCloseTo(loss, offset(1e-3));
    }
    long full = groups.values().stream().filter(l -> l.size() == K).count();
    // Groups are cut within each embedded file (embed writes one per task: a shard read as one
    // task is spread over the cores), so at most one partial group per file.
    assertThat(full)
        .as("groups are cut every K rows within an input file")
        .isGreaterThanOrEqualTo(groups.size() - embeddedFiles);
    assertThat(embeddedFiles).as("embedded files").isBetween(2L, 8L);
  }

  @Test
  void scoreAndFilterWorkOnFp16Embeddings() throws Exception {
    String raw = tmp.resolve("raw").toString();
    String emb16 = tmp.resolve("emb-fp16").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(
                StageConf.io(raw, emb16)
                    .with(StageKeys.MODEL, TestModels.TINY)
                    .with(EmbedJob.Options.PRECISION, "fp16")))
        .run();
    String scored16 = tmp.resolve("scored-fp16").toString();
    CurationSummary s =
        new ScoreJob(
                spark,
                ScoreJob.Options.from(
                    StageConf.io(emb16, scored16)
                        .with(StageKeys.MODEL, TestModels.TINY)
                        .with(ScoreJob.Options.GROUP_SIZE, K)))
            .run();
    CurationChecks.assertAccounting(
        spark, "score fp16", spark.read().parquet(CurationOutput.data(emb16)), scored16, s);
    Map<String, Double> fp32 = new java.util.HashMap<>();
    rows.stream()
        .filter(ScoreAndFilterTest::embedded)
        .forEach(r -> fp32.put(r.getString(r.fieldIndex(Columns.UID)), clip(r)));
    List<Row> half =
        spark
            .read()
            .parquet(CurationOutput.data(scored16))
            .select(Columns.UID, Columns.EMBED_STATUS, Columns.CLIP_SCORE)
            .collectAsList();
    int compared = 0;
    for (Row r : half) {
      if (r.getString(1).equals("ok")) {
        assertThat(r.getDouble(2))
            .as("clip_score of %s from fp16 embeddings vs fp32", r.getString(0))
            .isCloseTo(fp32.get(r.getString(0)), offset(5e-3));
        compared++;
      }
    }
    assertThat(compared).as("fp16 rows scored").isEqualTo(fp32.size());
    double median =
        half.stream()
            .filter(r -> r.getString(1).equals("ok"))
            .mapToDouble(r -> r.getDouble(2))
            .sorted()
            .toArray()[compared / 2];
    String out = tmp.resolve("filter-fp16").toString();
    CurationSummary f =
        new FilterJob(
                spark,
                FilterJob.Options.from(
                    StageConf.io(scored16, out).with(FilterJob.Options.MIN_CLIP_SCORE, median)))
            .run();
    CurationChecks.assertAccounting(
        spark, "filter fp16", spark.read().parquet(CurationOutput.data(scored16)), out, f);
    List<String> expected = new ArrayList<>();
    for (Row r : half) {
      expected.add(
          r.getString(0)
              + " "
              + (!r.getString(1).equals("ok")
                  ? RejectReason.EMBED_FAILED
                  : r.getDouble(2) < median ? RejectReason.LOW_CLIP_SCORE : KEPT));
    }
    expected.sort(null);
    assertThat(CurationChecks.decisions(spark, out, false))
        .as("filter on fp16 scores keeps what the oracle keeps")
        .isEqualTo(expected);
  }

  private static final String KEPT = CurationChecks.KEPT;

  private static boolean embedded(Row r) {
    return r.getString(r.fieldIndex(Columns.EMBED_STATUS)).equals("ok");
  }

  private static double clip(Row r) {
    return r.getDouble(r.fieldIndex(Columns.CLIP_SCORE));
  }

  /**
   * The oracle for "keep the top p%" over {@code pool}: a row stays when its clip_score is at least
   * the ⌈q·n⌉-th smallest of the n scores, q = 1 − p/100 (the rank percentile_approx returns when
   * its accuracy exceeds n, as here).
   */
  private static double topPercentThreshold(List<Row> pool, double p) {
    double[] v = pool.stream().mapToDouble(ScoreAndFilterTest::clip).sorted().toArray();
    int rank = (int) Math.ceil((1 - p / 100.0) * v.length);
    return v[Math.max(0, rank - 1)];
  }

  /** Runs filter on the scored rows and checks the kept set and every reason against the oracle. */
  private CurationSummary assertFilter(
      String name, StageConf conf, java.util.function.Function<Row, String> oracle)
      throws Exception {
    String out = tmp.resolve("filter-" + name).toString();
    CurationSummary s =
        new FilterJob(spark, FilterJob.Options.from(conf.with(StageKeys.OUT, out))).run();
    CurationChecks.assertAccounting(
        spark, "filter " + name, spark.read().parquet(scored + "/data"), out, s);
    List<String> expected = new ArrayList<>();
    for (Row r : rows) {
      expected.add(r.getString(r.fieldIndex(Columns.UID)) + " " + oracle.apply(r));
    }
    expected.sort(null);
    List<String> got = CurationChecks.decisions(spark, out, false);
    assertThat(got)
        .as("%s: every row kept or rejected with the oracle's reason", name)
        .isEqualTo(expected);
    long kept = expected.stream().filter(e -> e.endsWith(" " + KEPT)).count();
    assertThat(kept)
        .as("%s: the oracle keeps some rows and drops some", name)
        .isBetween(1L, (long) rows.size() - 1);
    return s;
  }

  private StageConf filterConf() {
    return StageConf.io(scored, "unused");
  }

  @Test
  void filterRulesKeepExactlyWhatTheOracleKeeps() throws Exception {
    long failed = rows.stream().filter(r -> !embedded(r)).count();
    assertThat(failed).as("the generated corrupt images give embed failures").isPositive();
    List<Row> ok = rows.stream().filter(ScoreAndFilterTest::embedded).toList();
    double median =
        ok.stream().mapToDouble(ScoreAndFilterTest::clip).sorted().toArray()[ok.size() / 2];

    assertFilter(
        "min-clip-score+max-rank",
        filterConf()
            .with(FilterJob.Options.MIN_CLIP_SCORE, median)
            .with(FilterJob.Options.MAX_RANK, K - 1),
        r ->
            !embedded(r)
                ? RejectReason.EMBED_FAILED
                : clip(r) < median
                    ? RejectReason.LOW_CLIP_SCORE
                    : r.getInt(r.fieldIndex(Columns.IMAGE_RANK)) > K - 1
                        ? RejectReason.CONTRASTIVE_RANK
                        : KEPT);

    double top = topPercentThreshold(ok, 25.0);
    assertFilter(
        "top-percent",
        filterConf().with(FilterJob.Options.TOP_PERCENT, 25.0),
        r ->
            !embedded(r)
                ? RejectReason.EMBED_FAILED
                : clip(r) < top ? RejectReason.BELOW_GLOBAL_TOP : KEPT);

    Map<String, Double> perQuery =
        ok.stream()
            .collect(Collectors.groupingBy(r -> r.getString(r.fieldIndex(Columns.QUERY))))
            .entrySet()
            .stream()
            .collect(
                Collectors.toMap(Map.Entry::getKey, e -> topPercentThreshold(e.getValue(), 50.0)));
    assertThat(perQuery).as("queries in the scored rows").hasSizeGreaterThan(1);
    assertFilter(
        "per-query-top-percent",
        filterConf().with(FilterJob.Options.PER_QUERY_TOP_PERCENT, 50.0),
        r ->
            !embedded(r)
                ? RejectReason.EMBED_FAILED
                : clip(r) < perQuery.get(r.getString(r.fieldIndex(Columns.QUERY)))
                    ? RejectReason.BELOW_QUERY_TOP
                    : KEPT);

    double medianQuery =
        ok.stream()
            .mapToDouble(r -> r.getDouble(r.fieldIndex(Columns.QUERY_SCORE)))
            .sorted()
            .toArray()[ok.size() / 2];
    assertFilter(
        "min-query-score",
        filterConf().with(FilterJob.Options.MIN_QUERY_SCORE, medianQuery),
        r ->
            !embedded(r)
                ? RejectReason.EMBED_FAILED
                : r.getDouble(r.fieldIndex(Columns.QUERY_SCORE)) < medianQuery
                    ? RejectReason.LOW_QUERY_SCORE
                    : KEPT);

    // Rules apply in order, each percentile over what the earlier rules kept.
    List<Row> aboveMedian = ok.stream().filter(r -> clip(r) >= median).toList();
    double topOfRest = topPercentThreshold(aboveMedian, 50.0);
    assertFilter(
        "min-clip-score+top-percent",
        filterConf()
            .with(FilterJob.Options.MIN_CLIP_SCORE, median)
            .with(FilterJob.Options.TOP_PERCENT, 50.0),
        r ->
            !embedded(r)
                ? RejectReason.EMBED_FAILED
                : clip(r) < median
                    ? RejectReason.LOW_CLIP_SCORE
                    : clip(r) < topOfRest ? RejectReason.BELOW_GLOBAL_TOP : KEPT);
  }
}
