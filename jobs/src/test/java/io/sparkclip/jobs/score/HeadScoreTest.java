package io.sparkclip.jobs.score;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.curate.CurateJob;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.filter.FilterJob;
import io.sparkclip.jobs.filter.FilterStage;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.schemas.Stages;
import io.sparkclip.udfs.head.HeadDirectory;
import io.sparkclip.udfs.session.SessionCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code score --head} and {@code filter --min/--max}: a linear fixture head's column against the
 * dot product computed here, the checks that fail before any Spark work, and the bounds' kept set
 * and reasons against an oracle over the scored rows.
 */
class HeadScoreTest {
  static final int ROWS = 240;
  static final String LIN = "lin";
  static final String LIN_SCORE = Columns.headScore(LIN);
  static final String LINEAR_64 = TestModels.LINEAR_HEADS.resolve("linear-64").toString();
  static final String LINEAR_32 = TestModels.LINEAR_HEADS.resolve("linear-32").toString();
  static final AtomicInteger JOBS = new AtomicInteger();

  @TempDir static Path tmp;
  static SparkSession spark;
  static String raw;
  static String emb;
  static String scored;
  static List<Row> rows;

  @BeforeAll
  static void setUp() {
    spark = LocalSpark.start("HeadScoreTest");
    spark
        .sparkContext()
        .addSparkListener(
            new SparkListener() {
              @Override
              public void onJobStart(SparkListenerJobStart jobStart) {
                JOBS.incrementAndGet();
              }
            });
    raw = tmp.resolve("raw").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(ROWS, raw)
                .shardSize(120)
                .seed(1616)
                .sides(64, 128)
                .queries(6)
                // corrupt images: rows without embeddings, so heads must give null for them
                .faultRates(Map.of(FaultKind.CORRUPT_IMAGE, 0.08))
                .build())
        .run();
    emb = tmp.resolve("emb").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(StageConf.io(raw, emb).with(StageKeys.MODEL, TestModels.DEMO)))
        .run();
    scored = tmp.resolve("scored").toString();
    CurationSummary s =
        new ScoreJob(
                spark,
                new ScoreStage()
                    .options(
                        StageConf.io(emb, scored)
                            .with(StageKeys.MODEL, TestModels.DEMO)
                            .with(ScoreJob.Options.HEADS, List.of(LIN + "=" + LINEAR_64))
                            // batches of 7: partitions end mid-batch and batches span rows
                            .with(ScoreJob.Options.HEAD_BATCH_SIZE, 7)))
            .run();
    assertThat(s.balanced()).as("score keeps every row").isTrue();
    rows = spark.read().parquet(scored + "/data").collectAsList(); // 240 small rows
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  /** The fixture's score, computed here: w . e / |e| + 0.25, w_i = (i - (D - 1) / 2) / D. */
  static double linear(List<Float> e) {
    int d = e.size();
    double norm = 0;
    for (float v : e) {
      norm += (double) v * v;
    }
    norm = Math.sqrt(norm);
    double s = 0;
    for (int i = 0; i < d; i++) {
      s += ((i - (d - 1) / 2.0) / d) * (e.get(i) / norm);
    }
    return s + 0.25;
  }

  static String str(Row r, String c) {
    return r.isNullAt(r.fieldIndex(c)) ? null : r.getString(r.fieldIndex(c));
  }

  @Test
  void linearHeadColumnIsTheDotProductOfItsWeightsWithTheNormalisedEmbedding() {
    assertThat(spark.read().parquet(scored + "/data").schema().apply(LIN_SCORE).dataType())
        .as("a head's column is float")
        .isEqualTo(DataTypes.FloatType);
    assertThat(rows).as("scored rows").hasSize(ROWS);
    int checked = 0;
    int nulls = 0;
    for (Row r : rows) {
      int i = r.fieldIndex(Columns.IMAGE_EMBEDDING);
      if (r.isNullAt(i)) {
        assertThat(r.isNullAt(r.fieldIndex(LIN_SCORE)))
            .as("no head score without an image embedding (%s)", str(r, Columns.KEY))
            .isTrue();
        nulls++;
        continue;
      }
      List<Float> e = r.getList(i);
      assertThat((double) r.getFloat(r.fieldIndex(LIN_SCORE)))
          .as("%s of %s", LIN_SCORE, str(r, Columns.KEY))
          .isCloseTo(linear(e), offset(1e-5));
      checked++;
    }
    assertThat(checked).as("rows scored by the head").isGreaterThan(200);
    assertThat(nulls).as("corrupt images, no embedding, null score").isGreaterThan(5);
  }

  @Test
  void aTextHeadReadsTheCaptionEmbedding() throws Exception {
    // The linear fixture's model.onnx with head.json saying "text".
    Path dir = Files.createDirectories(tmp.resolve("linear-text"));
    Files.copy(Path.of(LINEAR_64).resolve("model.onnx"), dir.resolve("model.onnx"));
    Files.writeString(
        dir.resolve("head.json"),
        "{\"input\": \"text\", \"embedding_dim\": 64, \"description\": \"linear fixture on"
            + " the caption embedding\"}");
    String out = tmp.resolve("scored-text").toString();
    new ScoreJob(
            spark,
            new ScoreStage()
                .options(
                    StageConf.io(emb, out)
                        .with(StageKeys.MODEL, TestModels.DEMO)
                        .with(ScoreJob.Options.HEADS, List.of("captionlin=" + dir))))
        .run();
    List<Row> scoredText = spark.read().parquet(out + "/data").collectAsList(); // 240 rows
    int checked = 0;
    for (Row r : scoredText) {
      int t = r.fieldIndex(Columns.TEXT_EMBEDDING);
      int s = r.fieldIndex("captionlin_score");
      if (r.isNullAt(t)) {
        assertThat(r.isNullAt(s)).as("no score without a text embedding").isTrue();
        continue;
      }
      assertThat((double) r.getFloat(s))
          .as("captionlin_score of %s", str(r, Columns.KEY))
          .isCloseTo(linear(r.getList(t)), offset(1e-5));
      checked++;
    }
    assertThat(checked).as("rows scored on their caption embedding").isGreaterThan(200);
  }

  @Test
  void aHeadLoadsOncePerJvmThroughTheTowersSessionCache() {
    HeadDirectory d = io.sparkclip.udfs.head.HeadScores.directory(LINEAR_64);
    assertThat(SessionCache.head(d.modelOnnx(), io.sparkclip.udfs.session.Device.CPU, 2))
        .as("the same session for the same file, device and threads")
        .isSameAs(
            SessionCache.head(
                Path.of(LINEAR_64).resolve("model.onnx"), io.sparkclip.udfs.session.Device.CPU, 2));
  }

  @Test
  void aHeadOfAnotherWidthFailsBeforeAnySparkJob() {
    String out = tmp.resolve("scored-32").toString();
    ScoreJob.Options o =
        new ScoreStage()
            .options(
                StageConf.io(emb, out)
                    .with(StageKeys.MODEL, TestModels.DEMO)
                    .with(ScoreJob.Options.HEADS, List.of("narrow=" + LINEAR_32)));
    int before = jobsSoFar();
    assertThatThrownBy(() -> new ScoreJob(spark, o).run())
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> {
              assertThat(e.id()).as("error id").isEqualTo(ErrorId.HEAD_WIDTH_MISMATCH);
              assertThat(e.problem())
                  .as("problem names the head, both widths")
                  .contains("'narrow'")
                  .contains("width 32")
                  .contains("width 64");
              assertThat(e.reason()).as("cause names the model").contains(TestModels.DEMO);
              assertThat(e.fix()).as("fix").contains("head trained on");
            });
    assertThat(jobsSoFar()).as("Spark jobs started by the failed score").isEqualTo(before);
    assertThat(Files.exists(Path.of(out))).as("no output written").isFalse();
  }

  /** Jobs started so far, after the listener bus has delivered every event posted. */
  static int jobsSoFar() {
    try {
      spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("listener bus still busy after 10 s", e);
    }
    return JOBS.get();
  }

  @Test
  void headNamesMustFormAColumnName() {
    for (String bad :
        List.of(
            "Aesthetic=" + LINEAR_64,
            "a-b=" + LINEAR_64,
            "9lives=" + LINEAR_64,
            "clip=" + LINEAR_64,
            "query=" + LINEAR_64,
            "noequals",
            "empty=")) {
      assertThatThrownBy(
              () ->
                  new ScoreStage()
                      .options(
                          StageConf.io(emb, "/unused")
                              .with(StageKeys.MODEL, TestModels.DEMO)
                              .with(ScoreJob.Options.HEADS, List.of(bad))))
          .as("--head %s", bad)
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> assertThat(e.id()).as("id for %s", bad).isEqualTo(ErrorId.HEAD_SPEC_INVALID));
    }
    assertThatThrownBy(
            () ->
                new ScoreStage()
                    .options(
                        StageConf.io(emb, "/unused")
                            .with(StageKeys.MODEL, TestModels.DEMO)
                            .with(
                                ScoreJob.Options.HEADS,
                                List.of("a=" + LINEAR_64, "a=" + LINEAR_32))))
        .as("a name given twice")
        .hasMessageContaining("given twice");
  }

  @Test
  void aBadHeadDirectoryFailsWithItsOwnId() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("bad-head"));
    Files.copy(Path.of(LINEAR_64).resolve("model.onnx"), dir.resolve("model.onnx"));
    assertThatThrownBy(() -> HeadDirectory.open(dir, dir.toString()))
        .as("no head.json")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> {
              assertThat(e.id()).as("id").isEqualTo(ErrorId.HEAD_DIRECTORY_INVALID);
              assertThat(e.reason()).as("cause").contains("head.json");
            });
    Files.writeString(
        dir.resolve("head.json"),
        "{\"input\": \"picture\", \"embedding_dim\": 64, \"description\": \"x\"}");
    assertThatThrownBy(() -> HeadDirectory.open(dir, dir.toString()))
        .as("input neither image nor text")
        .hasMessageContaining("[HEAD_DIRECTORY_INVALID]")
        .hasMessageContaining("picture");
    Files.writeString(
        dir.resolve("head.json"),
        "{\"input\": \"image\", \"embedding_dim\": 64, \"description\": \"x\", \"output\": \"p\"}");
    assertThatThrownBy(() -> HeadDirectory.open(dir, dir.toString()).checkOnnx())
        .as("an output the model lacks")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.HEAD_ONNX_SIGNATURE));
    Files.writeString(
        dir.resolve("head.json"),
        "{\"input\": \"image\", \"embedding_dim\": 48, \"description\": \"x\"}");
    assertThatThrownBy(() -> HeadDirectory.open(dir, dir.toString()).checkOnnx())
        .as("head.json's width against model.onnx's")
        .hasMessageContaining("[HEAD_DIRECTORY_INVALID]")
        .hasMessageContaining("width 64");
  }

  /** What filter must do with each row, computed from the rows alone. */
  static String oracle(Row r, double min, double max) {
    if (!"ok".equals(str(r, Columns.EMBED_STATUS))) {
      return RejectReason.EMBED_FAILED;
    }
    int i = r.fieldIndex(LIN_SCORE);
    if (r.isNullAt(i) || Float.isNaN(r.getFloat(i))) {
      return RejectReason.SCORE_MISSING;
    }
    double v = r.getFloat(i);
    if (v < min) {
      return RejectReason.SCORE_BELOW_MIN;
    }
    if (v > max) {
      return RejectReason.SCORE_ABOVE_MAX;
    }
    return null;
  }

  @Test
  void minAndMaxBoundsKeepExactlyTheRowsInsideAndRejectNullsWithAReason() {
    // Input: the scored rows with a few head scores nulled and one made NaN, as a head may give.
    String input = tmp.resolve("holes").toString();
    spark
        .read()
        .parquet(scored + "/data")
        .withColumn(
            LIN_SCORE,
            when(col(Columns.KEY).endsWith("3"), lit(null).cast("float"))
                .when(col(Columns.KEY).endsWith("17"), lit(Float.NaN))
                .otherwise(col(LIN_SCORE)))
        .write()
        .parquet(input);
    List<Row> in = spark.read().parquet(input).collectAsList();
    // Bounds at the scores' terciles, so each reason has rows.
    double[] sorted =
        in.stream()
            .filter(r -> !r.isNullAt(r.fieldIndex(LIN_SCORE)))
            .mapToDouble(r -> r.getFloat(r.fieldIndex(LIN_SCORE)))
            .filter(v -> !Double.isNaN(v))
            .sorted()
            .toArray();
    double min = sorted[sorted.length / 3];
    double max = sorted[2 * sorted.length / 3];
    String out = tmp.resolve("filtered").toString();
    CurationSummary s =
        new FilterJob(
                spark,
                new FilterStage()
                    .options(
                        StageConf.io(input, out)
                            .with(FilterJob.Options.MIN, List.of(LIN_SCORE + "=" + min))
                            .with(FilterJob.Options.MAX, List.of(LIN_SCORE + "=" + max))))
            .run();
    assertThat(s.balanced()).as("rows in = kept + rejected").isTrue();

    Map<String, String> expected = new TreeMap<>();
    Map<String, String> expectedKept = new TreeMap<>();
    for (Row r : in) {
      String reason = oracle(r, min, max);
      (reason == null ? expectedKept : expected)
          .put(str(r, Columns.UID), reason == null ? "kept" : reason);
    }
    Map<String, String> kept = new TreeMap<>();
    for (Row r : spark.read().parquet(out + "/data").collectAsList()) {
      kept.put(str(r, Columns.UID), "kept");
    }
    Map<String, String> rejected = new HashMap<>();
    Map<String, String> details = new HashMap<>();
    for (Row r : spark.read().parquet(out + "/rejects").collectAsList()) {
      rejected.put(str(r, Columns.UID), str(r, Columns.REASON));
      details.put(str(r, Columns.UID), str(r, Columns.DETAIL));
    }
    assertThat(kept).as("kept rows: exactly those inside [min, max]").isEqualTo(expectedKept);
    assertThat(new TreeMap<>(rejected)).as("rejects and their reasons").isEqualTo(expected);
    for (String reason :
        List.of(
            RejectReason.SCORE_MISSING,
            RejectReason.SCORE_BELOW_MIN,
            RejectReason.SCORE_ABOVE_MAX,
            RejectReason.EMBED_FAILED)) {
      assertThat(expected.values()).as("the oracle has %s rows", reason).contains(reason);
    }
    rejected.forEach(
        (uid, reason) -> {
          if (reason.startsWith("score_")) {
            assertThat(details.get(uid))
                .as("detail of %s names the column", uid)
                .contains(LIN_SCORE);
          }
        });
    assertThat(details.values())
        .as("a NaN score is named as such")
        .contains(LIN_SCORE + " is NaN")
        .contains(LIN_SCORE + " is null");
  }

  @Test
  void aBoundOnAColumnTheInputLacksOrThatIsNotANumberFailsFast() {
    for (String column : List.of("nsfw_score", Columns.CAPTION)) {
      FilterJob.Options o =
          new FilterStage()
              .options(
                  StageConf.io(scored, tmp.resolve("f-" + column).toString())
                      .with(FilterJob.Options.MAX, List.of(column + "=0.5")));
      int before = jobsSoFar();
      assertThatThrownBy(() -> new FilterJob(spark, o).run())
          .as("--max %s=0.5", column)
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> {
                assertThat(e.id()).as("id").isEqualTo(ErrorId.FILTER_UNKNOWN_SCORE_COLUMN);
                assertThat(e.reason()).as("cause lists the numeric columns").contains(LIN_SCORE);
              });
      assertThat(Files.exists(tmp.resolve("f-" + column))).as("no output").isFalse();
      assertThat(jobsSoFar() - before)
          .as("Spark jobs before the failure (at most the Parquet schema read)")
          .isLessThanOrEqualTo(1);
    }
    for (String bad : List.of("lin_score", "lin_score=high", "lin score=1", "lin_score=NaN")) {
      assertThatThrownBy(
              () ->
                  new FilterStage()
                      .options(
                          StageConf.io(scored, "/unused")
                              .with(FilterJob.Options.MIN, List.of(bad))))
          .as("--min %s", bad)
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.FILTER_BOUND_INVALID));
    }
    assertThatThrownBy(
            () ->
                new FilterStage()
                    .options(
                        StageConf.io(scored, "/unused")
                            .with(FilterJob.Options.MIN, List.of("lin_score=2"))
                            .with(FilterJob.Options.MAX, List.of("lin_score=1"))))
        .as("min above max")
        .hasMessageContaining("[FILTER_BOUND_INVALID]");
  }

  @Test
  void curateRunsScoreHeadsAndBoundsFromItsConfig() throws Exception {
    double max = 0.25; // the fixture's bias: about half the rows score above it
    Path conf = tmp.resolve("curate.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "input = \"" + raw + "\"",
            "out = \"" + tmp.resolve("curated") + "\"",
            "model = \"" + TestModels.DEMO + "\"",
            "stages = [embed, score, filter]",
            "score { heads = [\"" + LIN + "=" + LINEAR_64 + "\"] }",
            "filter { max = [\"" + LIN_SCORE + "=" + max + "\"] }"));
    List<CurateJob.StageResult> funnel =
        new CurateJob(spark, CurateJob.load(conf.toString(), Map.of())).run();
    CurateJob.StageResult filter = funnel.get(2);
    assertThat(filter.stage()).as("last stage").isEqualTo(Stages.FILTER);
    List<Row> kept = spark.read().parquet(filter.dir() + "/data").collectAsList();
    assertThat(kept).as("curate kept rows").isNotEmpty();
    assertThat(kept)
        .as("every kept row's head score is at most the max")
        .allMatch(r -> r.getFloat(r.fieldIndex(LIN_SCORE)) <= max);
    long above =
        rows.stream()
            .filter(r -> !r.isNullAt(r.fieldIndex(LIN_SCORE)))
            .filter(r -> r.getFloat(r.fieldIndex(LIN_SCORE)) > max)
            .count();
    assertThat(filter.rejected().get(RejectReason.SCORE_ABOVE_MAX))
        .as("rows above the max, as the stand-alone score computed them")
        .isEqualTo(above);

    // A bound on a column no listed stage writes fails before any stage runs.
    Path orphan = tmp.resolve("orphan.conf");
    Files.writeString(
        orphan,
        String.join(
            "\n",
            "input = \"" + raw + "\"",
            "out = \"" + tmp.resolve("curated-orphan") + "\"",
            "model = \"" + TestModels.DEMO + "\"",
            "stages = [embed, score, filter]",
            "filter { max = [\"nsfw_score=0.5\"] }"));
    assertThatThrownBy(
            () -> new CurateJob(spark, CurateJob.load(orphan.toString(), Map.of())).run())
        .as("a bound on nsfw_score with no nsfw head")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.CONFIG_STAGE_ORDER));
    assertThat(Files.exists(tmp.resolve("curated-orphan"))).as("nothing written").isFalse();
  }
}
