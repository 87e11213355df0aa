package io.sparkclip.jobs.balance;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.trim;
import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
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
 * balance on 3,000 generated rows (Zipf-skewed queries, so many queries exceed the cap), written
 * once as 3 and once as 11 Parquet partitions: the survivors must be the same for the same seed.
 */
class BalanceJobTest {
  private static final long CAP = 50;
  private static SparkSession spark;
  @TempDir static Path tmp;
  private static String p3;
  private static String p11;

  /** Rows per query among usable rows with a query: the independent "before" count. */
  private static final Map<String, Long> before = new HashMap<>();

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("BalanceJobTest");
    String raw = tmp.resolve("raw").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(3000, raw)
                .shardSize(1000)
                .seed(31)
                .metadataOnly(true)
                .build())
        .run();
    Dataset<Row> rows = Paths.readParquet(spark, raw);
    p3 = tmp.resolve("p3").toString();
    p11 = tmp.resolve("p11").toString();
    rows.repartition(3).write().parquet(p3);
    rows.repartition(11).write().parquet(p11);
    Pairs.prepare(rows, LayoutDetector.detect(rows.schema()))
        .filter(col(Columns.PAIR_STATUS).equalTo(PairStatus.OK))
        .filter(col(Columns.QUERY).isNotNull().and(trim(col(Columns.QUERY)).notEqual("")))
        .groupBy(Columns.QUERY)
        .count()
        .collectAsList() // ≤ 1000 queries
        .forEach(r -> before.put(r.getString(0), r.getLong(1)));
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static CurationSummary balance(String in, String name, BalanceJob.Mode mode, long seed) {
    return new BalanceJob(
            spark,
            BalanceJob.Options.from(
                StageConf.io(in, tmp.resolve(name).toString())
                    .with(BalanceJob.Options.MODE, mode)
                    .with(BalanceJob.Options.CAP, CAP)
                    .with(BalanceJob.Options.SEED, seed)))
        .run();
  }

  private static Set<String> keptUids(String name) {
    Set<String> uids = new HashSet<>();
    spark
        .read()
        .parquet(CurationOutput.data(tmp.resolve(name).toString()))
        .select(Columns.UID)
        .collectAsList()
        .forEach(r -> uids.add(r.getString(0)));
    return uids;
  }

  private static Dataset<Row> prepared(String in) {
    Dataset<Row> rows = Paths.readParquet(spark, in);
    return Pairs.prepare(rows, LayoutDetector.detect(rows.schema()));
  }

  @Test
  void capIsNeverExceededAndEveryQueryKeepsMinOfCountAndCap() throws Exception {
    assertThat(spark.read().parquet(p3).rdd().getNumPartitions())
        .as("input partitions of the 3-way copy")
        .isLessThanOrEqualTo(3);
    CurationSummary s = balance(p3, "cap-p3", BalanceJob.Mode.CAP, 5);
    String out = tmp.resolve("cap-p3").toString();

    Map<String, Long> after = new HashMap<>();
    spark
        .read()
        .parquet(CurationOutput.data(out))
        .groupBy(Columns.QUERY)
        .count()
        .collectAsList()
        .forEach(r -> after.put(r.getString(0), r.getLong(1)));
    long overCap = 0;
    long queriesOverCap = 0;
    for (Map.Entry<String, Long> e : before.entrySet()) {
      long want = Math.min(e.getValue(), CAP);
      assertThat(after.getOrDefault(e.getKey(), 0L))
          .as("rows kept for query '" + e.getKey() + "' (" + e.getValue() + " before)")
          .isEqualTo(want)
          .isLessThanOrEqualTo(CAP);
      overCap += e.getValue() - want;
      queriesOverCap += e.getValue() > CAP ? 1 : 0;
    }
    assertThat(after.keySet())
        .as("no query appears that was not in the input")
        .isEqualTo(before.keySet());
    assertThat(queriesOverCap).as("queries over the cap in the skewed input").isGreaterThan(3);
    assertThat(s.rejected(RejectReason.OVER_CAP)).as("over_cap rejects").isEqualTo(overCap);

    Map<String, Row> table = new HashMap<>();
    spark
        .read()
        .parquet(out + "/" + StageFiles.QUERY_COUNTS_DIR)
        .collectAsList()
        .forEach(r -> table.put(r.getAs(Columns.QUERY), r));
    assertThat(table.keySet()).as("query_counts queries").isEqualTo(before.keySet());
    table.forEach(
        (q, r) -> {
          assertThat((long) r.<Long>getAs(Columns.ROWS_BEFORE))
              .as("query_counts rows_before of '" + q + "'")
              .isEqualTo(before.get(q));
          assertThat((long) r.<Long>getAs(Columns.ROWS_AFTER))
              .as("query_counts rows_after of '" + q + "'")
              .isEqualTo(Math.min(before.get(q), CAP));
        });

    CurationChecks.assertAccounting(spark, "balance cap", prepared(p3), out, s);
  }

  @Test
  void survivorsDependOnSeedNotOnPartitioning() throws Exception {
    balance(p3, "seed5-p3", BalanceJob.Mode.CAP, 5);
    CurationSummary s11 = balance(p11, "seed5-p11", BalanceJob.Mode.CAP, 5);
    balance(p3, "seed6-p3", BalanceJob.Mode.CAP, 6);
    CurationChecks.assertAccounting(
        spark,
        "balance cap, 11 partitions",
        prepared(p11),
        tmp.resolve("seed5-p11").toString(),
        s11);

    Set<String> a = keptUids("seed5-p3");
    Set<String> b = keptUids("seed5-p11");
    Set<String> c = keptUids("seed6-p3");
    assertThat(b).as("same seed, 11 vs 3 input partitions: same survivors").isEqualTo(a);
    assertThat(c).as("another seed keeps as many rows").hasSameSizeAs(a);
    Set<String> onlyInC = new HashSet<>(c);
    onlyInC.removeAll(a);
    assertThat(onlyInC.size())
        .as("another seed keeps other rows of over-cap queries")
        .isGreaterThan(20);
  }

  @Test
  void probabilisticModeIsDeterministicAcrossPartitioningToo() throws Exception {
    CurationSummary s3 = balance(p3, "prob-p3", BalanceJob.Mode.PROBABILISTIC, 5);
    CurationSummary s11 = balance(p11, "prob-p11", BalanceJob.Mode.PROBABILISTIC, 5);
    CurationChecks.assertAccounting(
        spark, "balance probabilistic", prepared(p3), tmp.resolve("prob-p3").toString(), s3);
    assertThat(keptUids("prob-p11"))
        .as("probabilistic: same seed, 11 vs 3 partitions: same survivors")
        .isEqualTo(keptUids("prob-p3"));
    assertThat(s11.rowsOut()).as("same count").isEqualTo(s3.rowsOut());
    // Queries under t keep every row; queries over t keep about t.
    Map<String, Long> after = new HashMap<>();
    spark
        .read()
        .parquet(CurationOutput.data(tmp.resolve("prob-p3").toString()))
        .groupBy(Columns.QUERY)
        .count()
        .collectAsList()
        .forEach(r -> after.put(r.getString(0), r.getLong(1)));
    before.forEach(
        (q, n) -> {
          if (n <= CAP) {
            assertThat(after.getOrDefault(q, 0L))
                .as("query '" + q + "' under t keeps all " + n)
                .isEqualTo(n);
          } else if (n >= 4 * CAP) {
            assertThat(after.getOrDefault(q, 0L))
                .as("query '" + q + "' with " + n + " rows keeps about t=" + CAP)
                .isBetween(CAP / 2, 2 * CAP);
          }
        });
  }
}
