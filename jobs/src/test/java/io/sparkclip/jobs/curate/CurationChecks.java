package io.sparkclip.jobs.curate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Schemas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Shared assertions on a curation job's output: accounting, rejects layout, summary JSON. */
public final class CurationChecks {
  private CurationChecks() {}

  /** What {@link #decisions} writes for a kept row. */
  public static final String KEPT = "kept";

  /**
   * Every row of a curation output as "uid kept" or "uid reason" (with {@code related}: "uid reason
   * related_uid"), sorted: a multiset, to compare two runs or a run and an oracle row by row.
   */
  public static List<String> decisions(SparkSession spark, String out, boolean related) {
    List<String> rows = new ArrayList<>();
    spark.read().parquet(CurationOutput.data(out)).select(Columns.UID).collectAsList().stream()
        .map(r -> r.getString(0) + " " + KEPT)
        .forEach(rows::add);
    Dataset<Row> rejects = spark.read().parquet(CurationOutput.rejects(out));
    (related
            ? rejects.select(Columns.UID, Columns.REASON, Columns.RELATED_UID)
            : rejects.select(Columns.UID, Columns.REASON))
        .collectAsList().stream()
            .map(r -> r.getString(0) + " " + r.getString(1) + (related ? " " + r.getString(2) : ""))
            .forEach(rows::add);
    rows.sort(null);
    return rows;
  }

  /**
   * Asserts that the uids of {@code out}'s data and rejects together are the uids of {@code input}
   * as multisets (exact duplicates may share a uid): a lost row and a duplicated one do not balance
   * out here, as they would in the counts.
   */
  public static void assertUidsAccounted(
      SparkSession spark, String what, Dataset<Row> input, String out) {
    Dataset<Row> outUids = spark.read().parquet(CurationOutput.data(out)).select(Columns.UID);
    // embed keeps every row (a failure is a status), so it writes no rejects table.
    if (Files.exists(Path.of(CurationOutput.rejects(out)))) {
      outUids =
          outUids.union(spark.read().parquet(CurationOutput.rejects(out)).select(Columns.UID));
    }
    Dataset<Row> inUids = input.select(Columns.UID);
    assertThat(outUids.exceptAll(inUids).collectAsList())
        .as(what + ": uids kept or rejected more often than they are in the input")
        .isEmpty();
    assertThat(inUids.exceptAll(outUids).collectAsList())
        .as(what + ": input uids neither kept nor rejected")
        .isEmpty();
  }

  /**
   * Asserts, for the output directory {@code out} of a curation job run on {@code input} (its
   * prepared pairs, with {@code uid}): rows in = rows out + rows rejected; every input uid is in
   * exactly one of data and rejects, as often as it is in the input; the rejects have the shared
   * layout; {@code _summary.json} and the returned summary agree with the Parquet counts per stage
   * and reason.
   */
  public static void assertAccounting(
      SparkSession spark, String what, Dataset<Row> input, String out, CurationSummary summary)
      throws IOException {
    Dataset<Row> data = spark.read().parquet(CurationOutput.data(out));
    Dataset<Row> rejects = spark.read().parquet(CurationOutput.rejects(out));
    long in = input.count();
    long kept = data.count();
    long rejected = rejects.count();

    assertThat(rejects.schema().fieldNames())
        .as(what + ": rejects layout")
        .containsExactly(Schemas.REJECTS.fieldNames());
    assertThat(kept + rejected).as(what + ": rows in = rows out + rows rejected").isEqualTo(in);
    assertUidsAccounted(spark, what, input, out);

    Map<String, Map<String, Long>> perReason = new TreeMap<>();
    rejects
        .groupBy(Columns.STAGE, Columns.REASON)
        .count()
        .collectAsList() // one row per (stage, reason)
        .forEach(
            r ->
                perReason
                    .computeIfAbsent(r.getString(0), k -> new TreeMap<>())
                    .put(r.getString(1), r.getLong(2)));

    assertThat(summary.rowsIn()).as(what + ": summary rows in").isEqualTo(in);
    assertThat(summary.rowsOut()).as(what + ": summary rows out").isEqualTo(kept);
    assertThat(summary.rowsRejected()).as(what + ": summary rows rejected").isEqualTo(rejected);
    assertThat(summary.balanced()).as(what + ": summary balanced").isTrue();
    assertThat(summary.rejected())
        .as(what + ": summary rejects per stage and reason")
        .isEqualTo(perReason);

    JsonNode json = new ObjectMapper().readTree(Files.readString(Path.of(out, "_summary.json")));
    assertThat(json.get("rows_in").asLong()).as(what + ": _summary.json rows_in").isEqualTo(in);
    assertThat(json.get("rows_out").asLong()).as(what + ": _summary.json rows_out").isEqualTo(kept);
    assertThat(json.get("rows_rejected").asLong())
        .as(what + ": _summary.json rows_rejected")
        .isEqualTo(rejected);
    assertThat(json.get("accounting_balanced").asBoolean())
        .as(what + ": _summary.json accounting_balanced")
        .isTrue();
    Map<String, Map<String, Long>> fromJson = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> s = json.get("rejected").fields(); s.hasNext(); ) {
      Map.Entry<String, JsonNode> stage = s.next();
      for (Iterator<Map.Entry<String, JsonNode>> r = stage.getValue().fields(); r.hasNext(); ) {
        Map.Entry<String, JsonNode> reason = r.next();
        fromJson
            .computeIfAbsent(stage.getKey(), k -> new TreeMap<>())
            .put(reason.getKey(), reason.getValue().asLong());
      }
    }
    assertThat(fromJson)
        .as(what + ": _summary.json rejects per stage and reason")
        .isEqualTo(perReason);
  }
}
