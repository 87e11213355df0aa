package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Stages;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
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
 * Dedup against the generator's ground truth: 3,000 rows with images and injected exact, URL and
 * near duplicates. A duplicate is "found" when it and its original end in the same cluster, i.e.
 * following {@code related_uid} from both through the rejects leads to the same kept row.
 */
class DedupJobTest {
  private static SparkSession spark;
  @TempDir static Path tmp;
  private static String raw;
  private static String out;
  private static CurationSummary summary;

  /** uid → reject row (uid, stage, reason, detail, related_uid). A few hundred rows. */
  private static final Map<String, Row> rejects = new HashMap<>();

  /** Ground truth: uid → (fault, original_uid). A few hundred rows. */
  private static final Map<String, Row> truth = new HashMap<>();

  private static final Set<String> keptUids = new HashSet<>();

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("DedupJobTest");
    raw = tmp.resolve("raw").toString();
    out = tmp.resolve("dedup").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(3000, raw).shardSize(1000).seed(11).build())
        .run();
    summary = new DedupJob(spark, DedupJob.Options.from(StageConf.io(raw, out))).run();
    spark
        .read()
        .parquet(CurationOutput.rejects(out))
        .collectAsList()
        .forEach(r -> rejects.put(r.getAs(Columns.UID), r));
    spark
        .read()
        .parquet(raw + "/_ground_truth")
        .collectAsList()
        .forEach(r -> truth.put(r.getAs(Columns.UID), r));
    spark
        .read()
        .parquet(CurationOutput.data(out))
        .select(Columns.UID)
        .collectAsList()
        .forEach(r -> keptUids.add(r.getString(0)));
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** The kept row a row ends up represented by, or null if it was rejected for another reason. */
  private static String representative(String uid) {
    String u = uid;
    for (int hops = 0; hops < 10; hops++) {
      if (keptUids.contains(u)) {
        return u;
      }
      Row r = rejects.get(u);
      if (r == null || r.getAs(Columns.RELATED_UID) == null) {
        return null;
      }
      u = r.getAs(Columns.RELATED_UID);
    }
    throw new AssertionError("related_uid chain of " + uid + " longer than 10 hops");
  }

  /** The uid of the clean original a row copies, or the row's own uid. */
  private static String original(String uid) {
    Row t = truth.get(uid);
    if (t != null && FaultKind.fromLabel(t.getAs(Columns.FAULT)).isDuplicate()) {
      return t.getAs(Columns.ORIGINAL_UID);
    }
    return uid;
  }

  private static List<Row> injected(FaultKind kind) {
    return truth.values().stream()
        .filter(r -> kind.label().equals(r.getAs(Columns.FAULT)))
        .toList();
  }

  /** Injected duplicates of this kind that end up in their original's cluster. */
  private static List<String> missed(FaultKind kind) {
    List<String> missed = new ArrayList<>();
    for (Row t : injected(kind)) {
      String dup = t.getAs(Columns.UID);
      String orig = t.getAs(Columns.ORIGINAL_UID);
      String a = representative(dup);
      String b = representative(orig);
      if (a == null || !a.equals(b)) {
        missed.add(
            dup
                + " ("
                + t.getAs(Columns.DETAIL)
                + "): "
                + (rejects.containsKey(dup) ? rejects.get(dup).getAs(Columns.REASON) : "kept")
                + " / original "
                + (rejects.containsKey(orig) ? rejects.get(orig).getAs(Columns.REASON) : "kept"));
      }
    }
    return missed;
  }

  @Test
  void everyExactAndUrlDuplicateIsFound() {
    for (FaultKind kind : List.of(FaultKind.EXACT_DUPLICATE, FaultKind.URL_DUPLICATE)) {
      List<Row> injected = injected(kind);
      assertThat(injected).as(kind.label() + " rows injected").hasSizeGreaterThan(20);
      List<String> missed = missed(kind);
      System.out.printf(
          "dedup %s recall: %d/%d%n",
          kind.label(), injected.size() - missed.size(), injected.size());
      assertThat(missed).as(kind.label() + " recall 1.0; missed").isEmpty();
    }
    for (Row t : injected(FaultKind.URL_DUPLICATE)) {
      String dup = t.getAs(Columns.UID);
      String orig = t.getAs(Columns.ORIGINAL_UID);
      // One of the two goes in the URL stage; the survivor may fall later to another duplicate.
      List<String> reasons = new ArrayList<>();
      for (String u : List.of(dup, orig)) {
        if (rejects.containsKey(u)) {
          reasons.add(rejects.get(u).getAs(Columns.REASON));
        }
      }
      assertThat(reasons)
          .as("url_duplicate " + dup + " or its original removed by the URL stage")
          .contains(RejectReason.DUPLICATE_EXACT_URL);
    }
  }

  @Test
  void exactStagesMergeOnlyTrueDuplicates() {
    for (Row r : rejects.values()) {
      String reason = r.getAs(Columns.REASON);
      if (RejectReason.DUPLICATE_EXACT_URL.equals(reason)
          || RejectReason.DUPLICATE_IMAGE_HASH.equals(reason)) {
        String uid = r.getAs(Columns.UID);
        String related = r.getAs(Columns.RELATED_UID);
        assertThat(original(uid))
            .as(reason + " " + uid + " duplicates " + related + " in the ground truth")
            .isEqualTo(original(related));
      }
    }
  }

  @Test
  void nearDuplicatesFoundWithHighRecallAndPrecision() {
    List<Row> injected = injected(FaultKind.NEAR_DUPLICATE);
    assertThat(injected).as("near_duplicate rows injected").hasSizeGreaterThan(40);
    List<String> missed = missed(FaultKind.NEAR_DUPLICATE);
    double recall = 1.0 - (double) missed.size() / injected.size();

    int merged = 0;
    List<String> wrong = new ArrayList<>();
    for (Row r : rejects.values()) {
      if (RejectReason.NEAR_DUPLICATE_IMAGE.equals(r.getAs(Columns.REASON))) {
        merged++;
        String uid = r.getAs(Columns.UID);
        String related = r.getAs(Columns.RELATED_UID);
        if (!original(uid).equals(original(related))) {
          wrong.add(uid + " merged into " + related);
        }
      }
    }
    double precision = merged == 0 ? 0 : 1.0 - (double) wrong.size() / merged;
    System.out.printf(
        "dedup near_duplicate recall %.4f (%d/%d), precision %.4f (%d/%d)%n",
        recall,
        injected.size() - missed.size(),
        injected.size(),
        precision,
        merged - wrong.size(),
        merged);
    assertThat(recall).as("near_duplicate recall; missed: " + missed).isGreaterThanOrEqualTo(0.95);
    assertThat(precision)
        .as("near_duplicate_image precision; distinct images merged: " + wrong)
        .isGreaterThanOrEqualTo(0.99);
  }

  @Test
  void corruptAndFailedRowsAreRejectedNotLost() {
    for (Row t : truth.values()) {
      FaultKind kind = FaultKind.fromLabel(t.getAs(Columns.FAULT));
      String uid = t.getAs(Columns.UID);
      switch (kind) {
        case FAILED_DOWNLOAD, MISSING_CAPTION ->
            assertThat(rejects.get(uid))
                .as(kind.label() + " " + uid + " rejected at input")
                .isNotNull()
                .extracting(r -> r.getAs(Columns.STAGE))
                .isEqualTo(Stages.REJECT_DEDUP_INPUT);
        case CORRUPT_IMAGE ->
            assertThat(rejects.get(uid))
                .as(kind.label() + " " + uid + " (" + t.getAs(Columns.DETAIL) + ") rejected")
                .isNotNull()
                .extracting(r -> r.getAs(Columns.REASON))
                .isIn(RejectReason.UNDECODABLE_IMAGE, "missing_image");
        default -> {}
      }
    }
  }

  @Test
  void keptRowsCarryClusterColumnsAndDuplicatesPointAtKeptRows() {
    Dataset<Row> data = spark.read().parquet(CurationOutput.data(out));
    assertThat(data.columns())
        .as("output columns")
        .contains(Columns.DUP_CLUSTER, Columns.DUP_OF, Columns.PHASH);
    assertThat(data.filter(col(Columns.DUP_OF).isNotNull()).count())
        .as("no kept row is a duplicate of another (remove mode)")
        .isZero();
    for (Row r : rejects.values()) {
      String related = r.getAs(Columns.RELATED_UID);
      if (related != null && RejectReason.NEAR_DUPLICATE_IMAGE.equals(r.getAs(Columns.REASON))) {
        assertThat(keptUids)
            .as("near duplicate " + r.getAs(Columns.UID) + " points at a kept row")
            .contains(related);
      }
    }
  }

  @Test
  void accountingHoldsAndSummaryMatchesParquet() throws Exception {
    Dataset<Row> input = Paths.readParquet(spark, raw);
    Dataset<Row> pairs = Pairs.prepare(input, LayoutDetector.detect(input.schema()));
    CurationChecks.assertAccounting(spark, "dedup", pairs, out, summary);
    assertThat(summary.rejected(RejectReason.DUPLICATE_IMAGE_HASH))
        .as("exact image duplicates removed")
        .isGreaterThan(0);
    assertThat(summary.rejected(RejectReason.NEAR_DUPLICATE_IMAGE))
        .as("near duplicates removed")
        .isGreaterThan(0);
  }
}
