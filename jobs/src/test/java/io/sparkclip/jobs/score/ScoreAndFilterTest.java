package io.sparkclip.jobs.score;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.filter.FilterJob;
import io.sparkclip.jobs.generate.GenerateJob;
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
import org.apache.spark.sql.Dataset;
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
  static void setUp() {
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
    assertThat(s.balanced()).as("score keeps every row").isTrue();
    rows = spark.read().parquet(scored + "/data").collectAsList(); // 240 small rows
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
    assertThat(full)
        .as("groups are cut every K rows within a shard")
        .isGreaterThanOrEqualTo(groups.size() - 2);
  }

  @Test
  void filterRulesRejectWithTheirReasonAndAccountForEveryRow() {
    String out = tmp.resolve("filtered").toString();
    double median =
        rows.stream()
            .filter(r -> !r.isNullAt(r.fieldIndex(Columns.CLIP_SCORE)))
            .mapToDouble(r -> r.getDouble(r.fieldIndex(Columns.CLIP_SCORE)))
            .sorted()
            .skip(100)
            .findFirst()
            .orElseThrow();
    CurationSummary s =
        new FilterJob(
                spark,
                FilterJob.Options.from(
                    StageConf.io(scored, out)
                        .with(FilterJob.Options.MIN_CLIP_SCORE, median)
                        .with(FilterJob.Options.MAX_RANK, K - 1)))
            .run();
    assertThat(s.balanced()).as("in = out + rejected").isTrue();
    assertThat(s.rowsIn()).as("rows in").isEqualTo(240);
    Dataset<Row> kept = spark.read().parquet(out + "/data");
    assertThat(kept.filter(col(Columns.CLIP_SCORE).lt(median)).count())
        .as("nothing below the threshold is kept")
        .isZero();
    assertThat(kept.filter(col(Columns.IMAGE_RANK).gt(K - 1)).count()).as("rank rule").isZero();
    Dataset<Row> rejects = spark.read().parquet(out + "/rejects");
    long failed =
        rows.stream()
            .filter(r -> !r.getString(r.fieldIndex(Columns.EMBED_STATUS)).equals("ok"))
            .count();
    assertThat(rejects.filter(col(Columns.REASON).equalTo(RejectReason.EMBED_FAILED)).count())
        .as("embed failures rejected with their status")
        .isEqualTo(failed)
        .isPositive();
    assertThat(s.rejected(RejectReason.LOW_CLIP_SCORE)).as("low clip score rejects").isPositive();

    String top = tmp.resolve("top").toString();
    CurationSummary t =
        new FilterJob(
                spark,
                FilterJob.Options.from(
                    StageConf.io(scored, top).with(FilterJob.Options.TOP_PERCENT, 25.0)))
            .run();
    long okRows = 240 - failed;
    assertThat((double) t.rowsOut())
        .as("global top 25%% of %d embedded rows", okRows)
        .isCloseTo(okRows * 0.25, offset(okRows * 0.03 + 1));
    String perQuery = tmp.resolve("per-query").toString();
    CurationSummary q =
        new FilterJob(
                spark,
                FilterJob.Options.from(
                    StageConf.io(scored, perQuery)
                        .with(FilterJob.Options.PER_QUERY_TOP_PERCENT, 50.0)))
            .run();
    List<Row> counts =
        spark.read().parquet(perQuery + "/data").groupBy(Columns.QUERY).count().collectAsList();
    assertThat(counts).as("every query keeps some rows").isNotEmpty();
    assertThat(q.rejected(RejectReason.BELOW_QUERY_TOP)).as("per-query rejects").isPositive();
    assertThat(new ArrayList<>(counts))
        .as("per-query counts")
        .allSatisfy(r -> assertThat(r.getLong(1)).isPositive());
  }
}
