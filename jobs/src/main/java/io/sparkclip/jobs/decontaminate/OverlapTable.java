package io.sparkclip.jobs.decontaminate;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The overlap table of the CLIP paper's section 5, per evaluation set: its items, the items with a
 * copy in the pool, their share of the set, and the pool rows matched (removed, unless
 * --mark-only). Written as {@link StageFiles#EVAL_OVERLAP_FILE} and into the stage's summary.
 */
record OverlapTable(List<Entry> entries) {

  /** One evaluation set's line. */
  record Entry(
      String name,
      String path,
      long items,
      long undecodable,
      long found,
      double percentFound,
      long poolRows) {}

  static OverlapTable of(
      List<EvalSets.Spec> specs, EvalSets.Signed eval, Dataset<Row> matches, Dataset<Row> closest) {
    Map<String, Long> found =
        perSet(matches.select(col(EvalSets.SET), col(EvalSets.ID)).distinct(), EvalSets.SET);
    Map<String, Long> rows = perSet(closest, Columns.EVAL_SET);
    List<Entry> out = new ArrayList<>();
    for (EvalSets.Spec s : specs) {
      long items = eval.items().getOrDefault(s.name(), 0L);
      long f = found.getOrDefault(s.name(), 0L);
      out.add(
          new Entry(
              s.name(),
              s.path(),
              items,
              eval.undecodable().getOrDefault(s.name(), 0L),
              f,
              items == 0 ? 0 : Math.round(10_000.0 * f / items) / 100.0,
              rows.getOrDefault(s.name(), 0L)));
    }
    return new OverlapTable(out);
  }

  /** Rows per set: one row per evaluation set reaches the driver. */
  private static Map<String, Long> perSet(Dataset<Row> df, String setCol) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Row r : df.groupBy(setCol).count().collectAsList()) {
      m.put(r.getString(0), r.getLong(1));
    }
    return m;
  }

  List<Map<String, Object>> toDetails() {
    List<Map<String, Object>> l = new ArrayList<>();
    for (Entry e : entries) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", e.name());
      m.put("path", e.path());
      m.put("items", e.items());
      m.put("undecodable_items", e.undecodable());
      m.put("items_found", e.found());
      m.put("percent_found", e.percentFound());
      m.put("pool_rows", e.poolRows());
      l.add(m);
    }
    return l;
  }

  void write(SparkSession spark, String out) {
    try {
      String json =
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(Map.of("eval_sets", toDetails()));
      Paths.writeText(spark, new Path(out, StageFiles.EVAL_OVERLAP_FILE).toString(), json + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
