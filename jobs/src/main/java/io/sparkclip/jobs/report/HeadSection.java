package io.sparkclip.jobs.report;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Stages;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The report's "Score heads" section: per head column of score's output, rows scored, mean, share
 * at or above 0.5 and a histogram; where filter bounded the column ({@code --min} / {@code --max}),
 * the bounds marked on it, the rows removed by them and up to {@code samples} of those pairs.
 */
final class HeadSection {
  /** filter's reasons for a bounded column; each reject's detail starts with the column. */
  static final List<String> REASONS =
      List.of(
          RejectReason.SCORE_MISSING, RejectReason.SCORE_BELOW_MIN, RejectReason.SCORE_ABOVE_MAX);

  private final CuratedRun run;
  private final int samples;

  HeadSection(CuratedRun run, int samples) {
    this.run = run;
    this.samples = samples;
  }

  void render(StringBuilder h) {
    h.append("<section id=\"heads\"><h2>Score heads</h2>");
    Optional<String> score = run.stage(Stages.SCORE);
    if (score.isEmpty()) {
      h.append("<p class=\"na\">score did not run.</p></section>");
      return;
    }
    Dataset<Row> df = run.data(score.get());
    List<String> heads = ReportJob.headColumns(df.columns());
    if (heads.isEmpty()) {
      h.append("<p class=\"na\">no score heads ran (score --head NAME=DIR).</p></section>");
      return;
    }
    Optional<String> filter = run.stage(Stages.FILTER);
    JsonNode bounds =
        filter
            .map(f -> run.summary(f))
            .map(s -> s.path("details").path("score_bounds"))
            .orElse(null);
    h.append("<table><tr><th>head column</th><th>rows scored</th><th>mean</th>");
    h.append("<th>rows &ge; 0.5</th><th>filter bounds</th><th>rows removed by them</th></tr>");
    List<List<ReportJob.Marker>> markers = new ArrayList<>();
    List<Long> removed = new ArrayList<>();
    for (String c : heads) {
      Row r = df.agg(count(col(c)), avg(col(c)), count(when(col(c).geq(0.5), true))).first();
      long n = r.getLong(0);
      List<ReportJob.Marker> m = markers(bounds == null ? null : bounds.get(c));
      markers.add(m);
      long gone = m.isEmpty() ? 0 : bounded(filter.get(), c).count();
      removed.add(gone);
      h.append("<tr data-head=\"").append(ReportJob.esc(c)).append("\"><td>");
      h.append(ReportJob.esc(c)).append("</td><td>");
      h.append(String.format(Locale.ROOT, "%,d", n)).append("</td><td>");
      h.append(r.isNullAt(1) ? "-" : String.format(Locale.ROOT, "%.3f", r.getDouble(1)));
      h.append("</td><td>");
      h.append(n == 0 ? "-" : String.format(Locale.ROOT, "%.1f %%", 100.0 * r.getLong(2) / n));
      h.append("</td><td>");
      h.append(
          m.isEmpty()
              ? "none"
              : String.join(", ", m.stream().map(ReportJob.Marker::label).toList()));
      h.append("</td><td>");
      h.append(m.isEmpty() ? "-" : String.format(Locale.ROOT, "%,d", gone));
      h.append("</td></tr>");
    }
    h.append("</table>");
    Optional<CurationInput> input = filter.flatMap(run::input);
    for (int i = 0; i < heads.size(); i++) {
      String c = heads.get(i);
      // Heads write float: the histogram buckets doubles.
      h.append(
          ReportJob.histogramHtml(
              df.select(col(c).cast("double").as(c)), c, markers.get(i), "chart-head-" + c));
      if (removed.get(i) > 0) {
        h.append("<h3>Removed by the bounds on ").append(ReportJob.esc(c)).append("</h3>");
        if (input.isEmpty()) {
          h.append(run.inputGone(filter.get(), "The removed pairs"));
        } else {
          Dataset<Row> picked =
              bounded(filter.get(), c)
                  .orderBy(col(Columns.UID))
                  .limit(samples)
                  .select(Columns.UID, Columns.REASON, Columns.DETAIL);
          Dataset<Row> shown =
              input.get().pairs().join(broadcast(picked), Columns.UID).orderBy(col(Columns.UID));
          h.append(ReportJob.grid(shown, input.get().layout(), "rejected head", samples));
        }
      }
    }
    h.append("</section>");
  }

  /** filter's rejects by the bounds on {@code column}. */
  private Dataset<Row> bounded(String filterDir, String column) {
    return run.rejects(filterDir)
        .filter(col(Columns.REASON).isin(REASONS.toArray()))
        .filter(
            col(Columns.DETAIL)
                .startsWith(column + "=")
                .or(col(Columns.DETAIL).startsWith(column + " is ")));
  }

  /** The {@code min} and {@code max} of one column's filter bounds, as chart markers. */
  static List<ReportJob.Marker> markers(JsonNode bounds) {
    List<ReportJob.Marker> out = new ArrayList<>();
    if (bounds == null) {
      return out;
    }
    for (String side : List.of("min", "max")) {
      if (bounds.path(side).isNumber()) {
        double v = bounds.path(side).asDouble();
        out.add(new ReportJob.Marker(side + " " + BasicFilterSection.number(v), v));
      }
    }
    return out;
  }
}
