package io.sparkclip.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.SparkclipCliTest.Run;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.generate.GenerateJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three curation commands through the CLI: they compose, and bad input exits with 2. */
class MatchQueriesDedupBalanceCliTest {
  private static SparkSession spark;
  @TempDir static Path tmp;
  private static String raw;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("MatchQueriesDedupBalanceCliTest");
    raw = tmp.resolve("raw").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(400, raw).shardSize(200).seed(41).build())
        .run();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static JsonNode summary(String out) throws Exception {
    return new ObjectMapper().readTree(Files.readString(Path.of(out, "_summary.json")));
  }

  @Test
  void matchQueriesThenDedupThenBalanceCompose() throws Exception {
    for (String cmd : List.of("match-queries", "dedup", "balance")) {
      Run help = SparkclipCliTest.cli(cmd, "--help");
      assertThat(help.code()).as(cmd + " --help exit code").isZero();
      assertThat(help.out()).as(cmd + " --help examples").contains("Examples:", "sparkclip " + cmd);
    }
    String matched = tmp.resolve("matched").toString();
    String dedup = tmp.resolve("dedup").toString();
    String balanced = tmp.resolve("balanced").toString();

    Run m =
        SparkclipCliTest.cli(
            "match-queries", raw, "--queries", raw + "/queries.txt", "--out", matched);
    assertThat(m.code()).as("match-queries exit code; stderr: " + m.err()).isZero();
    assertThat(m.out())
        .as("match-queries summary")
        .contains("match-queries", "rows in        400", "accounting     ok");

    Run d = SparkclipCliTest.cli("dedup", matched + "/data", "--out", dedup);
    assertThat(d.code()).as("dedup exit code; stderr: " + d.err()).isZero();
    assertThat(d.out()).as("dedup summary").contains("duplicate_", "accounting     ok");

    Run b = SparkclipCliTest.cli("balance", dedup + "/data", "--out", balanced, "--cap", "5");
    assertThat(b.code()).as("balance exit code; stderr: " + b.err()).isZero();
    assertThat(b.out()).as("balance summary").contains("balance", "accounting     ok");

    JsonNode sm = summary(matched);
    JsonNode sd = summary(dedup);
    JsonNode sb = summary(balanced);
    assertThat(sm.get("rows_in").asLong()).as("match-queries reads every row").isEqualTo(400);
    assertThat(sd.get("rows_in").asLong())
        .as("dedup reads what match-queries kept")
        .isEqualTo(sm.get("rows_out").asLong());
    assertThat(sb.get("rows_in").asLong())
        .as("balance reads what dedup kept")
        .isEqualTo(sd.get("rows_out").asLong());
    for (JsonNode s : List.of(sm, sd, sb)) {
      assertThat(s.get("rows_in").asLong())
          .as(s.get("job").asText() + ": rows in = rows out + rows rejected")
          .isEqualTo(s.get("rows_out").asLong() + s.get("rows_rejected").asLong());
      assertThat(s.get("accounting_balanced").asBoolean())
          .as(s.get("job").asText() + " accounting_balanced")
          .isTrue();
    }
    assertThat(
            spark
                .read()
                .parquet(balanced + "/data")
                .groupBy("query")
                .count()
                .agg(org.apache.spark.sql.functions.max("count"))
                .first()
                .getLong(0))
        .as("at most 5 rows per query after balance --cap 5")
        .isLessThanOrEqualTo(5);

    Run again = SparkclipCliTest.cli("balance", dedup + "/data", "--out", balanced, "--cap", "5");
    assertThat(again.code()).as("existing output without --overwrite").isEqualTo(2);
    assertThat(again.err())
        .as("says how to fix it")
        .contains("sparkclip balance: [OUTPUT_EXISTS] ", "--overwrite");
    // --overwrite with another cap must give exactly what a single run into a fresh directory
    // gives: an overwrite that appended, or left files of the first run, would not.
    Run over =
        SparkclipCliTest.cli(
            "balance", dedup + "/data", "--out", balanced, "--cap", "3", "--overwrite");
    assertThat(over.code()).as("--overwrite exit code; stderr: " + over.err()).isZero();
    String fresh = tmp.resolve("balanced-fresh").toString();
    Run single = SparkclipCliTest.cli("balance", dedup + "/data", "--out", fresh, "--cap", "3");
    assertThat(single.code()).as("single run exit code; stderr: " + single.err()).isZero();
    assertThat(CurationChecks.decisions(spark, balanced, true))
        .as("uids kept and rejected (with reasons) after --overwrite equal a single run's")
        .isEqualTo(CurationChecks.decisions(spark, fresh, true))
        .hasSize((int) spark.read().parquet(dedup + "/data").count());
  }

  @Test
  void badInputExitsWithTwoAndAnActionableMessage() {
    String missing = tmp.resolve("nope").toString();
    for (String cmd : List.of("match-queries", "dedup", "balance")) {
      Run r =
          cmd.equals("match-queries")
              ? SparkclipCliTest.cli(
                  cmd,
                  missing,
                  "--queries",
                  raw + "/queries.txt",
                  "--out",
                  tmp.resolve("o1").toString())
              : SparkclipCliTest.cli(cmd, missing, "--out", tmp.resolve("o-" + cmd).toString());
      assertThat(r.code()).as(cmd + " on a missing input: exit code").isEqualTo(2);
      assertThat(r.err())
          .as(cmd + " on a missing input: message")
          .contains("sparkclip " + cmd + ": [INPUT_PATH_NOT_FOUND] ");
    }

    // A stage's output root holds its summary and folders, no Parquet of its own.
    java.nio.file.Path stageRoot = tmp.resolve("stage-root");
    try {
      java.nio.file.Files.createDirectories(stageRoot.resolve("data"));
      java.nio.file.Files.writeString(stageRoot.resolve("_summary.json"), "{}");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Run root =
        SparkclipCliTest.cli(
            "balance", stageRoot.toString(), "--out", tmp.resolve("o-root").toString());
    assertThat(root.code()).as("a stage's output root as input: exit code").isEqualTo(2);
    assertThat(root.err())
        .as("a stage's output root as input: message")
        .contains("sparkclip balance: [INPUT_NOT_PARQUET] ", "data/ folder");

    Run noQueries =
        SparkclipCliTest.cli(
            "match-queries",
            raw,
            "--queries",
            tmp.resolve("none.txt").toString(),
            "--out",
            tmp.resolve("o2").toString());
    assertThat(noQueries.code()).as("missing query list: exit code").isEqualTo(2);
    assertThat(noQueries.err())
        .as("missing query list: message")
        .contains("[QUERIES_NOT_FOUND] ", "--queries");

    Run badBands =
        SparkclipCliTest.cli(
            "dedup", raw, "--out", tmp.resolve("o3").toString(), "--bucket-cap", "1");
    assertThat(badBands.code()).as("dedup --bucket-cap 1: exit code").isEqualTo(2);
    assertThat(badBands.err())
        .as("dedup --bucket-cap 1: message")
        .contains("[OPTION_OUT_OF_RANGE] ", "--bucket-cap");

    Run badCap =
        SparkclipCliTest.cli("balance", raw, "--out", tmp.resolve("o4").toString(), "--cap", "0");
    assertThat(badCap.code()).as("balance --cap 0: exit code").isEqualTo(2);
    assertThat(badCap.err())
        .as("balance --cap 0: message")
        .contains("[OPTION_OUT_OF_RANGE] ", "--cap");

    String noQueryCol = tmp.resolve("no-query").toString();
    spark
        .createDataFrame(
            List.of(RowFactory.create("https://x.org/1.jpg", "a red circle")),
            new StructType().add("url", "string").add("caption", "string"))
        .write()
        .parquet(noQueryCol);
    Run noQuery =
        SparkclipCliTest.cli("balance", noQueryCol, "--out", tmp.resolve("o5").toString());
    assertThat(noQuery.code()).as("balance without a query column: exit code").isEqualTo(2);
    assertThat(noQuery.err())
        .as("balance without a query column: message")
        .contains("[INPUT_NO_QUERY_COLUMN] ", "match-queries");
  }
}
