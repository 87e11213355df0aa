package io.sparkclip.jobs.report;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;

/**
 * The report's "Evaluation-set overlap" section: decontaminate's overlap table (per evaluation set:
 * items, items found in the pool, % of the set, pool rows removed), as in the CLIP paper's section
 * 5, and matched pairs with the eval image next to the pool image, from the stage's bounded sample
 * ({@link StageFiles#EVAL_OVERLAP_SAMPLES_DIR}).
 */
final class EvalOverlapSection {
  private final CuratedRun run;
  private final int pairs;

  EvalOverlapSection(CuratedRun run, int pairs) {
    this.run = run;
    this.pairs = pairs;
  }

  void render(StringBuilder h) {
    h.append("<section id=\"eval-overlap\"><h2>Evaluation-set overlap</h2>");
    Optional<String> dir = run.stage(Stages.DECONTAMINATE);
    JsonNode table =
        dir.map(d -> run.readJson(new Path(d, StageFiles.EVAL_OVERLAP_FILE))).orElse(null);
    if (table == null) {
      h.append("<p class=\"na\">decontaminate did not run.</p></section>");
      return;
    }
    boolean mark = "mark".equals(run.summary(dir.get()).path("details").path("mode").asText());
    h.append("<table id=\"eval-overlap-table\"><tr><th>evaluation set</th><th>items</th>");
    h.append("<th>items found in the pool</th><th>% of the set</th><th>pool rows ");
    h.append(mark ? "marked" : "removed").append("</th></tr>");
    for (JsonNode e : table.path("eval_sets")) {
      h.append(
          String.format(
              Locale.ROOT,
              "<tr data-set=\"%s\"><td title=\"%s\">%s</td><td>%,d</td><td>%,d</td><td>%.2f</td>"
                  + "<td>%,d</td></tr>",
              ReportJob.esc(e.path("name").asText()),
              ReportJob.esc(e.path("path").asText()),
              ReportJob.esc(e.path("name").asText()),
              e.path("items").asLong(),
              e.path("items_found").asLong(),
              e.path("percent_found").asDouble(),
              e.path("pool_rows").asLong()));
    }
    h.append("</table>");
    Path samples = new Path(dir.get(), StageFiles.EVAL_OVERLAP_SAMPLES_DIR);
    if (!run.exists(samples)) {
      h.append("<p class=\"na\">no matched pairs to show.</p></section>");
      return;
    }
    Sparks.describe(run.spark, "report", "evaluation-set overlap pairs");
    // The stage's sample is bounded (decontaminate --samples); this takes its first pairs.
    List<Row> shown =
        run.spark
            .read()
            .parquet(samples.toString())
            .orderBy(col(Columns.EVAL_SET), col(Columns.EVAL_ID), col(Columns.UID))
            .limit(pairs)
            .collectAsList();
    if (shown.isEmpty()) {
      h.append("<p class=\"na\">no matched pairs to show.</p></section>");
      return;
    }
    h.append("<p class=\"meta\">Matched pairs: the evaluation image, then the pool image ");
    h.append(mark ? "marked" : "removed").append(" as its copy.</p>");
    for (Row r : shown) {
      String set = r.getAs(Columns.EVAL_SET);
      String id = r.getAs(Columns.EVAL_ID);
      String uid = r.getAs(Columns.UID);
      double d = r.<Double>getAs(Columns.EVAL_DISTANCE);
      h.append("<div class=\"cluster overlap\" data-eval-id=\"")
          .append(ReportJob.esc(id))
          .append("\" data-uid=\"")
          .append(ReportJob.esc(uid))
          .append("\">");
      h.append(
          Figures.figure(
              "sample kept eval",
              null,
              "",
              r.getAs(Columns.EVAL_IMAGE),
              "<b>" + ReportJob.esc(set) + "</b> " + ReportJob.esc(id)));
      h.append(
          Figures.figure(
              "sample removed pool",
              uid,
              "",
              r.getAs(Columns.POOL_IMAGE),
              String.format(Locale.ROOT, "<b>eval_overlap</b> distance %.1f<br>", d)
                  + ReportJob.esc(String.valueOf((Object) r.getAs(Columns.POOL_CAPTION)))));
      h.append("</div>");
    }
    h.append("</section>");
  }
}
