package io.sparkclip.jobs.score;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.StageFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped demo head keeps its model card's promise: on pairs generated with a seed neither its
 * training nor its held-out set used, scored through {@code score --head}, its AUC against the
 * generator's ground truth (the background style of every picture) is at least the card's claim.
 */
class HeadScoreAucTest {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(HeadScoreAucTest.class);

  /** Neither tools/train_demo_heads.sh's training (16011) nor held-out (16012) seed. */
  static final long SEED = 16013;

  static final int ROWS = 2000;

  @TempDir static Path tmp;
  static SparkSession spark;

  @BeforeAll
  static void setUp() {
    spark = LocalSpark.start("HeadScoreAucTest");
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  /** The demo heads: every folder of models/sparkclip-demo-clip-heads with a head.json. */
  static List<Path> demoHeads() throws Exception {
    try (Stream<Path> s = Files.list(TestModels.DEMO_HEADS)) {
      return s.filter(p -> Files.isRegularFile(p.resolve("head.json"))).sorted().toList();
    }
  }

  /** AUC by the rank-sum formula, tied scores sharing their mean rank. */
  static double auc(double[] score, boolean[] positive) {
    Integer[] order = new Integer[score.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(score[a], score[b]));
    double[] rank = new double[score.length];
    for (int i = 0; i < order.length; ) {
      int j = i;
      while (j + 1 < order.length && score[order[j + 1]] == score[order[i]]) {
        j++;
      }
      for (int k = i; k <= j; k++) {
        rank[order[k]] = (i + j) / 2.0 + 1;
      }
      i = j + 1;
    }
    double sum = 0;
    long pos = 0;
    for (int i = 0; i < score.length; i++) {
      if (positive[i]) {
        sum += rank[i];
        pos++;
      }
    }
    long neg = score.length - pos;
    return (sum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
  }

  @Test
  void aucHelperMatchesHandComputedCases() {
    assertThat(auc(new double[] {0.1, 0.2, 0.8, 0.9}, new boolean[] {false, false, true, true}))
        .as("perfect ranking")
        .isEqualTo(1.0);
    assertThat(auc(new double[] {0.9, 0.2, 0.8, 0.1}, new boolean[] {false, false, true, true}))
        .as("one of the four positive-negative pairs in order (0.8 over 0.2)")
        .isEqualTo(0.25);
    assertThat(auc(new double[] {0.5, 0.5}, new boolean[] {false, true}))
        .as("a tie counts half")
        .isEqualTo(0.5);
  }

  @Test
  void theShippedHeadReachesItsCardsAucOnANewSeed() throws Exception {
    List<Path> heads = demoHeads();
    assertThat(heads).as("demo heads shipped under " + TestModels.DEMO_HEADS).isNotEmpty();
    String raw = tmp.resolve("raw").toString();
    // Clean pairs like the training data (tools/train_demo_heads.sh): every fault rate 0.
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(ROWS, raw)
                .shardSize(1000)
                .seed(SEED)
                .sides(64, 256)
                .faultRates(Map.of(io.sparkclip.schemas.FaultKind.CORRUPT_IMAGE, 0.0))
                .build())
        .run();
    String emb = tmp.resolve("emb").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(StageConf.io(raw, emb).with(StageKeys.MODEL, TestModels.DEMO)))
        .run();
    List<String> specs = new ArrayList<>();
    for (Path h : heads) {
      specs.add(h.getFileName() + "=" + h);
    }
    String scored = tmp.resolve("scored").toString();
    CurationSummary s =
        new ScoreJob(
                spark,
                new ScoreStage()
                    .options(
                        StageConf.io(emb, scored)
                            .with(StageKeys.MODEL, TestModels.DEMO)
                            .with(ScoreJob.Options.HEADS, specs)))
            .run();
    assertThat(s.balanced()).as("score keeps every row").isTrue();

    Dataset<Row> scenes =
        spark
            .read()
            .schema(io.sparkclip.schemas.Schemas.SCENES)
            .json(raw + "/" + StageFiles.SCENES_DIR);
    for (Path h : heads) {
      JsonNode metrics = new ObjectMapper().readTree(h.resolve("metrics.json").toFile());
      double claim = metrics.get("claimed_min_auc").asDouble();
      Set<String> positive = new HashSet<>();
      metrics.get("positive").forEach(p -> positive.add(p.asText()));
      String column = Columns.headScore(h.getFileName().toString());
      List<Row> joined =
          spark
              .read()
              .parquet(scored + "/data")
              .select(col(Columns.KEY), col(column))
              .join(scenes.select(Columns.KEY, Columns.BACKGROUND_STYLE), Columns.KEY)
              .collectAsList(); // 2,000 rows of two values
      assertThat(joined).as("every scored row has its ground truth").hasSize(ROWS);
      double[] score = new double[joined.size()];
      boolean[] label = new boolean[joined.size()];
      for (int i = 0; i < score.length; i++) {
        Row r = joined.get(i);
        assertThat(r.isNullAt(1)).as("%s of %s", column, r.getString(0)).isFalse();
        score[i] = r.getFloat(1);
        label[i] = positive.contains(r.getString(2));
      }
      double measured = auc(score, label);
      LOG.info("{}: AUC {} on seed {} (card claims >= {})", column, measured, SEED, claim);
      assertThat(measured)
          .as("%s AUC on %d pairs of seed %d vs the card's claim", column, ROWS, SEED)
          .isGreaterThanOrEqualTo(claim);
    }
  }
}
