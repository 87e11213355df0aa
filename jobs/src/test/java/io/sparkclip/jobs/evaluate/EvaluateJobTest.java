package io.sparkclip.jobs.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Schemas;
import io.sparkclip.schemas.StageFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * evaluate on a hand-built curate output whose every number is known: stage directories with a few
 * uids each, rejects with chosen reasons, and a ground truth naming the injected faults.
 */
class EvaluateJobTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static String curated;
  static String truth;

  private static final StructType UIDS = new StructType().add(Columns.UID, DataTypes.StringType);
  private static final StructType SCORED = UIDS.add(Columns.EMBED_STATUS, DataTypes.StringType);
  private static final StructType BALANCED = UIDS.add(Columns.QUERY, DataTypes.StringType);

  @BeforeAll
  static void setUp() {
    spark = LocalSpark.start("EvaluateJobTest");
    curated = tmp.resolve("curated").toString();
    truth = tmp.resolve("truth").toString();
    List<Row> gt = new ArrayList<>();
    for (String s : List.of("s1", "s2", "s3", "s4")) {
      gt.add(fault(s, FaultKind.SHUFFLED_CAPTION, null));
    }
    gt.add(fault("e1", FaultKind.EXACT_DUPLICATE, "e1o"));
    gt.add(fault("u1", FaultKind.URL_DUPLICATE, "u1o"));
    gt.add(fault("n1", FaultKind.NEAR_DUPLICATE, "n1o"));
    gt.add(fault("n2", FaultKind.NEAR_DUPLICATE, "n2o")); // n2o never reaches dedup
    gt.add(fault("n3", FaultKind.NEAR_DUPLICATE, "n3o"));
    write(truth, Schemas.GROUND_TRUTH, gt);

    // 1-match-queries: what dedup reads.
    write(
        data("1-match-queries"),
        UIDS,
        uids("e1", "e1o", "u1", "u1o", "n1", "n1o", "n2", "x1", "x2", "n3", "n3o"));
    // 2-dedup: e1 found (exact), n1o found (its copy's original), x1 a false removal; an
    // undecodable image is not a duplicate decision.
    write(
        CurationOutput.rejects(dir("2-dedup")),
        Schemas.REJECTS,
        List.of(
            reject("e1", "dedup_exact_image", RejectReason.DUPLICATE_IMAGE_HASH),
            reject("n1o", "dedup_near_image", RejectReason.NEAR_DUPLICATE_IMAGE),
            reject("x1", "dedup_exact_url", RejectReason.DUPLICATE_EXACT_URL),
            reject("x2", "dedup_near_image", RejectReason.UNDECODABLE_IMAGE)));
    write(data("2-dedup"), UIDS, uids("e1o", "u1", "u1o", "n1", "n2", "n3", "n3o"));
    // 3-balance: query q1 three times, q2 once.
    write(
        data("3-balance"),
        BALANCED,
        List.of(
            RowFactory.create("a", "q1"),
            RowFactory.create("b", "q1"),
            RowFactory.create("c", "q1"),
            RowFactory.create("d", "q2")));
    // 4-score: s4 failed to embed, so it never competes in the filter.
    List<Row> scored = new ArrayList<>();
    for (String u : List.of("s1", "s2", "s3", "c1", "c2", "c3")) {
      scored.add(RowFactory.create(u, "ok"));
    }
    scored.add(RowFactory.create("s4", "image:decode_error"));
    write(data("4-score"), SCORED, scored);
    // 5-filter: s1, s2 caught, c1 a false alarm; s4's embed_failed is not a score decision.
    write(
        CurationOutput.rejects(dir("5-filter")),
        Schemas.REJECTS,
        List.of(
            reject("s1", "filter", RejectReason.LOW_CLIP_SCORE),
            reject("s2", "filter", RejectReason.CONTRASTIVE_RANK),
            reject("c1", "filter", RejectReason.LOW_CLIP_SCORE),
            reject("s4", "filter", RejectReason.EMBED_FAILED)));
    write(data("5-filter"), UIDS, uids("e1o", "n3", "n3o", "c2"));
    // 6-semdedup: n3 found; e1o removed although its copy e1 never reached semdedup.
    write(
        CurationOutput.rejects(dir("6-semdedup")),
        Schemas.REJECTS,
        List.of(
            reject("n3", "semdedup", RejectReason.SEMANTIC_DUPLICATE),
            reject("e1o", "semdedup", RejectReason.SEMANTIC_DUPLICATE)));
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  private static String dir(String stage) {
    return Path.of(curated, stage).toString();
  }

  private static String data(String stage) {
    return CurationOutput.data(dir(stage));
  }

  private static Row fault(String uid, FaultKind kind, String original) {
    return RowFactory.create(uid, "k-" + uid, kind.label(), original, null);
  }

  private static Row reject(String uid, String stage, String reason) {
    return RowFactory.create(uid, stage, reason, null, null);
  }

  private static List<Row> uids(String... u) {
    List<Row> rows = new ArrayList<>();
    for (String s : u) {
      rows.add(RowFactory.create(s));
    }
    return rows;
  }

  private static void write(String dir, StructType schema, List<Row> rows) {
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(dir);
  }

  @Test
  void precisionAndRecallOfEveryDetectorMatchTheHandCount() throws Exception {
    EvaluateJob.Evaluation e = new EvaluateJob(spark, truth, curated, 2L).run();

    EvaluateJob.Detection shuffled = e.shuffledCaptions().orElseThrow();
    assertThat(shuffled.actual()).as("shuffled captions that reached the filter").isEqualTo(3);
    assertThat(shuffled.flagged()).as("rows a score rule rejected").isEqualTo(3);
    assertThat(shuffled.truePositives()).as("shuffled captions caught").isEqualTo(2);
    assertThat(shuffled.precision()).as("shuffled precision").isCloseTo(2 / 3.0, offset(1e-12));
    assertThat(shuffled.recall()).as("shuffled recall").isCloseTo(2 / 3.0, offset(1e-12));

    assertThat(e.duplicatesByKind().get(FaultKind.EXACT_DUPLICATE.label()).recall())
        .as("exact duplicates: e1 removed")
        .isEqualTo(1.0);
    assertThat(e.duplicatesByKind().get(FaultKind.URL_DUPLICATE.label()).recall())
        .as("url duplicates: u1 missed")
        .isEqualTo(0.0);
    EvaluateJob.Detection near = e.duplicatesByKind().get(FaultKind.NEAR_DUPLICATE.label());
    assertThat(near.actual())
        .as("near pairs with both copies at dedup (n2o never was)")
        .isEqualTo(2);
    assertThat(near.truePositives()).as("n1 found through its original; n3 missed").isEqualTo(1);
    assertThat(e.duplicatesByKind().get("all").recall())
        .as("all duplicate kinds")
        .isCloseTo(2 / 4.0, offset(1e-12));
    EvaluateJob.Detection dedup = e.dedupOverall().orElseThrow();
    assertThat(dedup.flagged())
        .as("dedup duplicate removals (undecodable not counted)")
        .isEqualTo(3);
    assertThat(dedup.precision()).as("dedup precision").isCloseTo(2 / 3.0, offset(1e-12));

    EvaluateJob.Detection semNear =
        e.semanticDuplicatesByKind().get(FaultKind.NEAR_DUPLICATE.label());
    assertThat(semNear.actual()).as("near pairs with both copies at semdedup").isEqualTo(1);
    assertThat(semNear.recall()).as("semdedup near-duplicate recall").isEqualTo(1.0);
    assertThat(e.semanticDuplicatesByKind().get(FaultKind.EXACT_DUPLICATE.label()).actual())
        .as("no exact pair reached semdedup whole")
        .isZero();
    assertThat(e.semdedupOverall().orElseThrow().precision())
        .as("semdedup precision: n3 right, e1o not part of a pair that reached it")
        .isCloseTo(0.5, offset(1e-12));

    assertThat(e.maxPerQuery()).as("largest query after balance").contains(3L);
    assertThat(e.capHolds()).as("3 > cap 2").isFalse();
    assertThat(new EvaluateJob(spark, truth, curated, 3L).run().capHolds())
        .as("3 <= cap 3")
        .isTrue();

    JsonNode json =
        new ObjectMapper().readTree(Files.readString(Path.of(curated, StageFiles.EVALUATION_FILE)));
    assertThat(json.path("shuffled_captions").path("precision").asDouble())
        .as("JSON shuffled precision")
        .isCloseTo(2 / 3.0, offset(1e-12));
    assertThat(json.path("semdedup_precision").asDouble())
        .as("JSON semdedup precision")
        .isEqualTo(0.5);
    assertThat(json.path("cap_holds").asBoolean()).as("JSON cap_holds (cap 3)").isTrue();
    assertThat(e.render())
        .as("printed table")
        .contains("shuffled captions (filter)", "near_duplicate (semdedup)", "VIOLATED");
  }

  @Test
  void aTableWithoutFaultsIsRefusedWithAFix() {
    assertThat(SparkclipCli.execute("evaluate", curated, "--ground-truth", data("1-match-queries")))
        .as("exit code for a ground truth without a fault column")
        .isEqualTo(2);
  }
}
