package io.sparkclip.jobs.match;

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
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * match-queries on 3,000 generated rows against an independent oracle: plain substring search of
 * every query, padded with spaces, in the normalised caption. The query list is a part of the
 * generator's (multi-word queries and tags at even ranks, some upper-cased and punctuated), so that
 * some captions match nothing.
 */
class MatchQueriesJobTest {
  private static SparkSession spark;
  @TempDir static Path tmp;
  private static String raw;
  private static String out;
  private static CurationSummary summary;
  private static List<String> queryList;

  /** uid → input row (caption, source query, pair status). 3,000 rows: fine in a test. */
  private static final Map<String, Row> input = new HashMap<>();

  private static final Map<String, Row> kept = new HashMap<>();
  private static final Map<String, Row> rejects = new HashMap<>();
  private static final Set<String> shuffled = new HashSet<>();

  @BeforeAll
  static void start() throws Exception {
    spark = LocalSpark.start("MatchQueriesJobTest");
    raw = tmp.resolve("raw").toString();
    out = tmp.resolve("matched").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(3000, raw)
                .shardSize(1000)
                .seed(21)
                .metadataOnly(true)
                .build())
        .run();
    List<String> all = Files.readAllLines(Path.of(raw, StageFiles.QUERIES_FILE));
    queryList = new ArrayList<>();
    for (int i = 0; i < all.size(); i += 2) {
      String q = all.get(i);
      if (!q.contains(" ") && i > 200) {
        continue; // keep single words (colours, shapes, tags) only at the top ranks
      }
      queryList.add(i % 3 == 0 ? q.toUpperCase(Locale.ROOT) + "!" : q);
    }
    Path list = tmp.resolve("queries.txt");
    Files.write(list, queryList);
    summary =
        new MatchQueriesJob(
                spark,
                MatchQueriesJob.Options.from(
                    StageConf.io(raw, out).with(MatchQueriesJob.Options.QUERIES, list.toString())))
            .run();

    Dataset<Row> rows = Paths.readParquet(spark, raw);
    Pairs.prepare(rows, LayoutDetector.detect(rows.schema()))
        .select(Columns.UID, Columns.CAPTION, Columns.QUERY, Columns.PAIR_STATUS)
        .collectAsList()
        .forEach(r -> input.put(r.getAs(Columns.UID), r));
    spark
        .read()
        .parquet(CurationOutput.data(out))
        .select(Columns.UID, Columns.MATCHED_QUERIES, Columns.QUERY, Columns.SOURCE_QUERY)
        .collectAsList()
        .forEach(r -> kept.put(r.getAs(Columns.UID), r));
    spark
        .read()
        .parquet(CurationOutput.rejects(out))
        .collectAsList()
        .forEach(r -> rejects.put(r.getAs(Columns.UID), r));
    spark
        .read()
        .parquet(raw + "/_ground_truth")
        .filter(col(Columns.FAULT).equalTo(FaultKind.SHUFFLED_CAPTION.label()))
        .collectAsList()
        .forEach(r -> shuffled.add(r.getAs(Columns.UID)));
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static String norm(String s) {
    return s.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ").trim();
  }

  /** The oracle: list entries whose normalised text occurs as whole words in the caption. */
  private static Set<String> expected(String caption) {
    Set<String> found = new TreeSet<>();
    if (caption == null) {
      return found;
    }
    String padded = " " + norm(caption) + " ";
    Set<String> seen = new HashSet<>();
    for (String q : queryList) {
      String n = norm(q);
      if (!n.isEmpty() && seen.add(n) && padded.contains(" " + n + " ")) {
        found.add(q);
      }
    }
    return found;
  }

  @Test
  void matchedQueriesEqualTheOracleAndUnmatchedRowsAreRejected() {
    int matched = 0;
    int unmatched = 0;
    List<String> wrong = new ArrayList<>();
    for (Row r : input.values()) {
      String uid = r.getAs(Columns.UID);
      if (!PairStatus.OK.equals(r.getAs(Columns.PAIR_STATUS))) {
        assertThat(rejects.get(uid))
            .as("unusable row " + uid + " rejected with its pair status")
            .isNotNull()
            .extracting(x -> x.getAs(Columns.REASON))
            .isEqualTo(r.getAs(Columns.PAIR_STATUS));
        continue;
      }
      Set<String> want = expected(r.getAs(Columns.CAPTION));
      if (want.isEmpty()) {
        unmatched++;
        Row rej = rejects.get(uid);
        if (rej == null
            || !RejectReason.NO_QUERY_MATCH.equals(rej.getAs(Columns.REASON))
            || !Stages.REJECT_MATCH_QUERIES.equals(rej.getAs(Columns.STAGE))) {
          wrong.add(uid + " '" + r.getAs(Columns.CAPTION) + "' should be no_query_match");
        }
      } else {
        matched++;
        Row k = kept.get(uid);
        if (k == null) {
          wrong.add(uid + " '" + r.getAs(Columns.CAPTION) + "' matches " + want + " but not kept");
          continue;
        }
        Set<String> got = new TreeSet<>(k.getList(k.fieldIndex(Columns.MATCHED_QUERIES)));
        if (!got.equals(want)) {
          wrong.add(uid + " '" + r.getAs(Columns.CAPTION) + "': " + got + " != " + want);
        }
      }
    }
    System.out.printf(
        "match-queries: %d queries, %d rows matched, %d unmatched%n",
        queryList.size(), matched, unmatched);
    assertThat(wrong).as("rows whose matches differ from the oracle").isEmpty();
    assertThat(matched).as("rows matching some query").isGreaterThan(1000);
    assertThat(unmatched).as("rows matching none").isGreaterThan(100);
    assertThat(summary.rejected(RejectReason.NO_QUERY_MATCH))
        .as("no_query_match in the summary")
        .isEqualTo(unmatched);
  }

  @Test
  void everyKeptRowsQueryIsItsRarestMatchedQuery() {
    Map<String, Long> counts = new LinkedHashMap<>();
    spark
        .read()
        .parquet(out + "/" + StageFiles.QUERY_COUNTS_DIR)
        .collectAsList() // ≤ 1000 queries
        .forEach(r -> counts.put(r.getAs(Columns.QUERY), r.getAs(Columns.ROWS)));

    Map<String, Long> oracleCounts = new HashMap<>();
    for (Row r : input.values()) {
      if (PairStatus.OK.equals(r.getAs(Columns.PAIR_STATUS))) {
        expected(r.getAs(Columns.CAPTION)).forEach(q -> oracleCounts.merge(q, 1L, Long::sum));
      }
    }
    assertThat(counts).as("query_counts = rows matching each query").isEqualTo(oracleCounts);

    for (Row k : kept.values()) {
      String uid = k.getAs(Columns.UID);
      List<String> matched = k.getList(k.fieldIndex(Columns.MATCHED_QUERIES));
      String query = k.getAs(Columns.QUERY);
      assertThat(matched).as(uid + ": chosen query is one of matched_queries").contains(query);
      String rarest =
          matched.stream()
              .min(
                  java.util.Comparator.<String>comparingLong(counts::get)
                      .thenComparing(java.util.Comparator.naturalOrder()))
              .orElseThrow();
      assertThat(query).as(uid + ": rarest matched query, ties lexicographic").isEqualTo(rarest);

      Row in = input.get(uid);
      assertThat((String) k.getAs(Columns.SOURCE_QUERY))
          .as(uid + ": the input query column is kept as source_query")
          .isEqualTo(in.getAs(Columns.QUERY));
      String source = norm(in.getAs(Columns.QUERY));
      boolean listed = queryList.stream().anyMatch(q -> norm(q).equals(source));
      if (listed && !shuffled.contains(uid)) {
        assertThat(matched.stream().map(MatchQueriesJobTest::norm))
            .as(uid + ": the generator's query for the caption '" + in.getAs(Columns.CAPTION) + "'")
            .contains(source);
      }
    }
  }

  @Test
  void accountingHoldsAndSummaryMatchesParquet() throws Exception {
    Dataset<Row> rows = Paths.readParquet(spark, raw);
    CurationChecks.assertAccounting(
        spark,
        "match-queries",
        Pairs.prepare(rows, LayoutDetector.detect(rows.schema())),
        out,
        summary);
    assertThat(summary.rejected(PairStatus.MISSING_CAPTION))
        .as("missing captions rejected")
        .isGreaterThan(0);
  }
}
