package io.sparkclip.jobs.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code sparkclip report}: one self-contained HTML file (inline CSS, charts and thumbnails as data
 * URIs, no network) for a curate run: the funnel, per-query counts before/after balancing, the
 * {@code clip_score} and {@code query_score} histograms (threshold marked) and a grid of kept and
 * rejected samples with captions, scores and reasons. Histograms are bucketed in Spark; samples are
 * a bounded {@code limit}; a histogram per score head column ({@code score --head}); basic-filter's
 * checks ({@link BasicFilterSection}) and dedup's duplicate clusters ({@link DuplicateGallery}),
 * decontaminate's overlap table and pairs ({@link EvalOverlapSection}), each in its own class.
 * Charts are JFreeChart PNGs. A stage that did not run shows as such.
 */
public final class ReportJob {
  public static final int BUCKETS = 40;

  /** Rejected samples the basic-filter section shows per reason. */
  static final int SAMPLES_PER_REASON = 4;

  /** Rejected pairs shown per bounded score head. */
  static final int HEAD_REJECTED_SAMPLES = 8;

  /** Matched eval/pool pairs the overlap section shows. */
  static final int OVERLAP_PAIRS = 12;

  /** Duplicate clusters the gallery shows, and removed rows shown per cluster. */
  static final int CLUSTERS = 8;

  static final int REMOVED_PER_CLUSTER = 4;
  private final SparkSession spark;
  private final String curated;
  private final String out;
  private final int samples;

  public ReportJob(SparkSession spark, String curated, String out, int samples) {
    this.spark = spark;
    this.curated = curated;
    this.out = out;
    this.samples = samples;
  }

  public String run() {
    CuratedRun run = new CuratedRun(spark, curated);
    JsonNode funnel = run.readJson(new Path(curated, StageFiles.FUNNEL_FILE));
    if (funnel == null) {
      throw Errors.notCurated(curated, StageFiles.FUNNEL_FILE);
    }
    Sparks.describe(spark, "report", "histograms and samples");
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>sparkclip report</title>");
    h.append("<style>").append(CSS).append("</style></head><body>");
    h.append("<h1>sparkclip curation report</h1>");
    h.append("<p class=\"meta\">").append(esc(curated)).append(" &middot; model ");
    h.append(esc(funnel.path("model").asText())).append(" &middot; ");
    h.append(String.format(Locale.ROOT, "%.1f s", funnel.path("seconds").asDouble()));
    h.append("</p>");
    funnelSection(h, funnel);
    querySection(h, run);
    new BasicFilterSection(run, SAMPLES_PER_REASON).render(h);
    new DuplicateGallery(run, CLUSTERS, REMOVED_PER_CLUSTER).render(h);
    new EvalOverlapSection(run, OVERLAP_PAIRS).render(h);
    Double threshold = threshold(run, funnel);
    scoreSection(h, run, threshold);
    new HeadSection(run, HEAD_REJECTED_SAMPLES).render(h);
    sampleSection(h, run);
    // Marks how many images decoded once the page loaded (read by the browser test; no network).
    h.append(
        "<script>window.addEventListener('load',function(){var i=Array.prototype.slice.call("
            + "document.images);document.body.setAttribute('data-images-loaded',i.filter("
            + "function(x){return x.complete&&x.naturalWidth>0;}).length+'/'+i.length);});"
            + "</script>");
    h.append("</body></html>\n");
    Paths.writeText(spark, out, h.toString());
    return out;
  }

  // ------------------------------------------------------------------------------------ sections

  private void funnelSection(StringBuilder h, JsonNode funnel) {
    h.append("<section id=\"funnel\"><h2>Funnel</h2><table><tr><th>stage</th><th>rows in</th>");
    h.append("<th>rows out</th><th>rejected (reason: rows)</th><th>seconds</th></tr>");
    DefaultCategoryDataset ds = new DefaultCategoryDataset();
    for (JsonNode s : funnel.path("stages")) {
      String stage = s.path("stage").asText();
      h.append("<tr><td>").append(esc(stage)).append("</td><td>");
      h.append(String.format("%,d", s.path("rows_in").asLong())).append("</td><td>");
      h.append(String.format("%,d", s.path("rows_out").asLong())).append("</td><td>");
      List<String> r = new ArrayList<>();
      s.path("rejected").fields().forEachRemaining(e -> r.add(e.getKey() + ": " + e.getValue()));
      h.append(esc(r.isEmpty() ? "-" : String.join(", ", r))).append("</td><td>");
      h.append(s.path("seconds").asText()).append("</td></tr>");
      ds.addValue(s.path("rows_out").asLong(), "rows out", stage);
    }
    h.append("</table>");
    JFreeChart c =
        ChartFactory.createBarChart(
            "Rows after each stage",
            "stage",
            "rows",
            ds,
            PlotOrientation.VERTICAL,
            false,
            false,
            false);
    h.append(chartHtml(c, "chart-funnel"));
    h.append("</section>");
  }

  private void querySection(StringBuilder h, CuratedRun run) {
    h.append("<section id=\"queries\"><h2>Pairs per query, before and after balancing</h2>");
    Optional<String> balance = run.stage(Stages.BALANCE);
    Path counts = balance.map(b -> new Path(b, StageFiles.QUERY_COUNTS_DIR)).orElse(null);
    if (counts == null || !run.exists(counts)) {
      h.append("<p class=\"na\">balance did not run.</p></section>");
      return;
    }
    Dataset<Row> q = spark.read().parquet(counts.toString());
    List<Row> top =
        q.orderBy(col(Columns.ROWS_BEFORE).desc(), col(Columns.QUERY)).limit(15).collectAsList();
    List<Row> tail =
        q.orderBy(col(Columns.ROWS_BEFORE).asc(), col(Columns.QUERY)).limit(10).collectAsList();
    long queries = q.count();
    DefaultCategoryDataset ds = new DefaultCategoryDataset();
    for (Row r : top) {
      String name = r.getAs(Columns.QUERY);
      ds.addValue(((Number) r.getAs(Columns.ROWS_BEFORE)).longValue(), "before", name);
      ds.addValue(((Number) r.getAs(Columns.ROWS_AFTER)).longValue(), "after", name);
    }
    JFreeChart c =
        ChartFactory.createBarChart(
            "Top 15 of " + queries + " queries",
            "query",
            "pairs",
            ds,
            PlotOrientation.HORIZONTAL,
            true,
            false,
            false);
    h.append(chartHtml(c, "chart-queries"));
    h.append(
        "<h3>Tail (rarest queries)</h3><table><tr><th>query</th><th>before</th><th>after</th></tr>");
    for (Row r : tail) {
      h.append("<tr><td>")
          .append(esc(String.valueOf(r.<Object>getAs(Columns.QUERY))))
          .append("</td><td>");
      h.append(r.<Object>getAs(Columns.ROWS_BEFORE)).append("</td><td>");
      h.append(r.<Object>getAs(Columns.ROWS_AFTER)).append("</td></tr>");
    }
    h.append("</table></section>");
  }

  /**
   * One histogram per score head column ({@code NAME_score}, written by {@code score --head}) of
   * the score stage's output, with the share of rows at or above 0.5 (a classifier head's
   * decision).
   */

  /** The columns score heads wrote: every {@code *_score} but CLIP's own two. */
  static List<String> headColumns(String[] columns) {
    List<String> out = new ArrayList<>();
    for (String c : columns) {
      if (c.endsWith(Columns.HEAD_SCORE_SUFFIX)
          && !c.equals(Columns.CLIP_SCORE)
          && !c.equals(Columns.QUERY_SCORE)) {
        out.add(c);
      }
    }
    return out;
  }

  private void scoreSection(StringBuilder h, CuratedRun run, Double threshold) {
    h.append("<section id=\"scores\"><h2>Scores</h2>");
    Optional<String> score = run.stage(Stages.SCORE);
    if (score.isEmpty()) {
      h.append("<p class=\"na\">score did not run.</p></section>");
      return;
    }
    Dataset<Row> df = spark.read().parquet(CurationOutput.data(score.get()));
    h.append(histogramHtml(df, Columns.CLIP_SCORE, threshold, "chart-clip-score"));
    h.append(histogramHtml(df, Columns.QUERY_SCORE, List.of(), "chart-query-score"));
    h.append("</section>");
  }

  private void sampleSection(StringBuilder h, CuratedRun run) {
    h.append("<section id=\"samples\"><h2>Samples</h2>");
    Optional<String> score = run.stage(Stages.SCORE);
    Optional<String> filter = run.stage(Stages.FILTER);
    if (score.isEmpty() || filter.isEmpty()) {
      h.append("<p class=\"na\">score and filter did not both run.</p></section>");
      return;
    }
    Dataset<Row> scored = spark.read().parquet(CurationOutput.data(score.get()));
    ResolvedLayout layout =
        LayoutDetector.detect(scored.schema(), ColumnMapping.DETECT, score.get());
    Dataset<Row> kept = spark.read().parquet(CurationOutput.data(filter.get()));
    Dataset<Row> rejects = spark.read().parquet(CurationOutput.rejects(filter.get()));
    Dataset<Row> rejected =
        scored.join(rejects.select(Columns.UID, Columns.REASON, Columns.DETAIL), Columns.UID);
    h.append("<h3>Kept</h3>").append(grid(kept, layout, "kept", samples));
    h.append("<h3>Rejected by the filter</h3>").append(grid(rejected, layout, "rejected", samples));
    h.append("</section>");
  }

  // ------------------------------------------------------------------------------------- helpers

  /** A grid of up to n samples (thumbnail, caption, scores, reject reason when present). */
  public static String gridHtml(Dataset<Row> df, int n) {
    return grid(
        df, LayoutDetector.detect(df.schema(), ColumnMapping.DETECT, "notebook"), "samples", n);
  }

  static String grid(Dataset<Row> df, ResolvedLayout layout, String cls, int samples) {
    List<String> cols = new ArrayList<>(List.of(layout.captionCol()));
    layout.imageCol().ifPresent(cols::add);
    boolean uids = CurationOutput.has(df, Columns.UID);
    if (uids) {
      cols.add(Columns.UID);
    }
    for (String c :
        List.of(Columns.CLIP_SCORE, Columns.QUERY_SCORE, Columns.REASON, Columns.DETAIL)) {
      if (CurationOutput.has(df, c)) {
        cols.add(c);
      }
    }
    List<Row> rows =
        df.select(
                cols.stream()
                    .map(org.apache.spark.sql.functions::col)
                    .toArray(org.apache.spark.sql.Column[]::new))
            .limit(samples)
            .collectAsList();
    StringBuilder g = new StringBuilder("<div class=\"grid " + cls + "\">");
    for (Row r : rows) {
      StringBuilder c =
          new StringBuilder(esc(String.valueOf(r.<Object>getAs(layout.captionCol()))));
      if (CurationOutput.has(df, Columns.CLIP_SCORE) && r.getAs(Columns.CLIP_SCORE) != null) {
        c.append(String.format(Locale.ROOT, "<br>clip %.3f", r.<Double>getAs(Columns.CLIP_SCORE)));
      }
      if (CurationOutput.has(df, Columns.QUERY_SCORE) && r.getAs(Columns.QUERY_SCORE) != null) {
        c.append(
            String.format(
                Locale.ROOT, " &middot; query %.3f", r.<Double>getAs(Columns.QUERY_SCORE)));
      }
      if (cols.contains(Columns.REASON)) {
        c.append("<br><b>").append(esc(r.getAs(Columns.REASON))).append("</b> ");
        c.append(esc(String.valueOf(r.<Object>getAs(Columns.DETAIL))));
      }
      g.append(
          Figures.figure(
              "sample",
              uids ? r.getAs(Columns.UID) : null,
              "",
              Figures.imageBytes(r, layout),
              c.toString()));
    }
    return g.append("</div>").toString();
  }

  /** A bound marked on a histogram: a red line at {@code value}, labelled. */
  public record Marker(String label, double value) {}

  /** An HTML img of the histogram of a score column (bucketed in Spark), threshold marked. */
  public static String histogramHtml(Dataset<Row> df, String column, Double threshold, String id) {
    return histogramHtml(
        df,
        column,
        threshold == null
            ? List.of()
            : List.of(
                new Marker(
                    "threshold " + String.format(Locale.ROOT, "%.3f", threshold), threshold)),
        id);
  }

  /**
   * An HTML img of the histogram of a numeric column (bucketed in Spark), each marker drawn; the
   * range covers the markers, so a bound outside the data still shows.
   */
  public static String histogramHtml(
      Dataset<Row> df, String column, List<Marker> markers, String id) {
    if (!CurationOutput.has(df, column)) {
      return "<p class=\"na\">no " + column + " column.</p>";
    }
    Dataset<Row> v = df.filter(col(column).isNotNull()).select(col(column).cast("double").as("v"));
    Row mm = v.agg(min("v"), max("v"), count(lit(1))).first();
    if (mm.getLong(2) == 0) {
      return "<p class=\"na\">" + column + " is empty.</p>";
    }
    double lo = mm.getDouble(0);
    double hi = mm.getDouble(1);
    for (Marker m : markers) {
      lo = Math.min(lo, m.value());
      hi = Math.max(hi, m.value());
    }
    double width = Math.max(1e-9, (hi - lo) / BUCKETS);
    List<Row> buckets =
        v.groupBy(floor(col("v").minus(lo).divide(width)).as("b")).count().collectAsList();
    long[] n = new long[BUCKETS + 1];
    for (Row b : buckets) {
      n[(int) Math.min(BUCKETS, Math.max(0, b.getLong(0)))] += b.getLong(1);
    }
    XYSeries s = new XYSeries(column);
    for (int i = 0; i <= BUCKETS; i++) {
      s.add(lo + (i + 0.5) * width, n[i]);
    }
    JFreeChart c =
        ChartFactory.createXYBarChart(
            column + " (" + String.format("%,d", mm.getLong(2)) + " pairs)",
            column,
            false,
            "pairs",
            collection(s, width),
            PlotOrientation.VERTICAL,
            false,
            false,
            false);
    for (Marker marker : markers) {
      ValueMarker m = new ValueMarker(marker.value());
      m.setPaint(Color.RED);
      m.setStroke(new java.awt.BasicStroke(2f));
      m.setLabel(marker.label());
      ((XYPlot) c.getPlot()).addDomainMarker(m);
    }
    return chartHtml(c, id);
  }

  private static XYSeriesCollection collection(XYSeries s, double width) {
    XYSeriesCollection c = new XYSeriesCollection(s);
    c.setIntervalWidth(width);
    return c;
  }

  static {
    // Flat bars, white plots: the legacy theme without gradients and shadows.
    org.jfree.chart.ChartFactory.setChartTheme(
        org.jfree.chart.StandardChartTheme.createLegacyTheme());
    org.jfree.chart.renderer.category.BarRenderer.setDefaultShadowsVisible(false);
    org.jfree.chart.renderer.xy.XYBarRenderer.setDefaultShadowsVisible(false);
  }

  public static String chartHtml(JFreeChart c, String id) {
    try {
      c.setBackgroundPaint(Color.WHITE);
      byte[] png = ChartUtils.encodeAsPNG(c.createBufferedImage(760, 340));
      return "<img class=\"chart\" id=\""
          + id
          + "\" alt=\""
          + esc(c.getTitle() == null ? id : c.getTitle().getText())
          + "\" src=\"data:image/png;base64,"
          + Base64.getEncoder().encodeToString(png)
          + "\">";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The filter's clip_score threshold: the absolute one, else the global-percentile one. */
  private static Double threshold(CuratedRun run, JsonNode funnel) {
    JsonNode f = funnel.path("config").path("filter").path("min-clip-score");
    if (f.isNumber()) {
      return f.asDouble();
    }
    Optional<String> filter = run.stage(Stages.FILTER);
    if (filter.isPresent()) {
      JsonNode s = run.summary(filter.get());
      if (s != null && s.path("details").path("global_threshold").isNumber()) {
        return s.path("details").path("global_threshold").asDouble();
      }
    }
    return null;
  }

  public static String esc(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static final String CSS =
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}"
          + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
          + "text-align:left}th{background:#f3f3f3}.meta{color:#666}.na{color:#999;font-style:italic}"
          + ".chart{display:block;margin:1em 0;border:1px solid #eee}"
          + ".grid{display:flex;flex-wrap:wrap;gap:10px}.sample{width:160px;margin:0;font-size:12px}"
          + ".thumb{width:128px;height:128px;object-fit:contain;background:#fafafa;display:block}"
          + ".missing{display:flex;align-items:center;justify-content:center;color:#a00;"
          + "border:1px dashed #a00}.rejected figcaption b{color:#a00}"
          + ".cluster{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start;"
          + "border:1px solid #eee;padding:8px;margin:8px 0}.cluster .kept figcaption b{color:#070}"
          + ".cluster .removed figcaption b{color:#a00}.dups{align-self:center;color:#666}";
}
