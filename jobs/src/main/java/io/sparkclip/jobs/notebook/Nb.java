package io.sparkclip.jobs.notebook;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.report.ReportJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.udfs.embed.EmbedResult;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.embed.TextEmbedder;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Helpers for the Java notebooks in {@code notebooks/}: HTML tables, charts and image grids for
 * {@code display("text/html", ...)}, stage paths of a curate output, text embedding with the
 * model's text tower, cosine search in Spark and precision/recall curves. Everything bounded:
 * tables and grids take a row limit; curves aggregate in Spark.
 */
public final class Nb {
  private Nb() {}

  /** The data/ of a curate stage ("<n>-<stage>"). */
  public static String stage(String curated, String name) {
    return CurationOutput.data(stageDir(curated, name));
  }

  public static String stageDir(String curated, String name) {
    File[] dirs = new File(curated).listFiles((d, n) -> n.matches("\\d+-" + name));
    if (dirs == null || dirs.length == 0) {
      throw new IllegalArgumentException(
          "no stage '" + name + "' under " + curated + " (run sparkclip curate or demo first)");
    }
    return dirs[0].getPath();
  }

  private static JsonNode funnelJson(String curated) {
    try {
      return new ObjectMapper().readTree(new File(curated, StageFiles.FUNNEL_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The model directory the run used. */
  public static String model(String curated) {
    return funnelJson(curated).path("model").asText();
  }

  /** The filter's absolute clip_score threshold, or null. */
  public static Double threshold(String curated) {
    JsonNode t = funnelJson(curated).path("config").path("filter").path("min-clip-score");
    return t.isNumber() ? t.asDouble() : null;
  }

  /** The funnel as an HTML table. */
  public static String funnel(String curated) {
    StringBuilder h =
        new StringBuilder("<table><tr><th>stage</th><th>rows in</th><th>rows out</th>");
    h.append("<th>rejected</th></tr>");
    for (JsonNode s : funnelJson(curated).path("stages")) {
      h.append("<tr><td>").append(s.path("stage").asText()).append("</td><td>");
      h.append(s.path("rows_in").asLong()).append("</td><td>").append(s.path("rows_out").asLong());
      h.append("</td><td>")
          .append(ReportJob.esc(s.path("rejected").toString()))
          .append("</td></tr>");
    }
    return h.append("</table>").toString();
  }

  /** The first {@code n} rows as an HTML table (binary and array columns abbreviated). */
  public static String table(Dataset<Row> df, int n) {
    StringBuilder h = new StringBuilder("<table class=\"sparkclip-table\"><tr>");
    for (String c : df.columns()) {
      h.append("<th>").append(ReportJob.esc(c)).append("</th>");
    }
    h.append("</tr>");
    for (Row r : df.limit(n).collectAsList()) {
      h.append("<tr>");
      for (int i = 0; i < r.length(); i++) {
        Object v = r.get(i);
        String s =
            v == null
                ? ""
                : v instanceof byte[] b
                    ? b.length + " bytes"
                    : v instanceof scala.collection.Seq<?> q
                        ? "[" + q.size() + " values]"
                        : v instanceof Double d
                            ? String.format(Locale.ROOT, "%.4f", d)
                            : v.toString();
        h.append("<td>").append(ReportJob.esc(s)).append("</td>");
      }
      h.append("</tr>");
    }
    return h.append("</table>").toString();
  }

  public static String histogram(Dataset<Row> df, String column, Double threshold) {
    return ReportJob.histogramHtml(df, column, threshold, "nb-" + column);
  }

  public static String grid(Dataset<Row> df, int n) {
    return ReportJob.gridHtml(df, n);
  }

  /** The text tower's L2-normalised embedding of one text (same code as the executors). */
  public static float[] embedText(String model, String text) {
    TextEmbedder t = Embedders.text(EmbedSettings.of(model));
    EmbedResult[] r = t.infer(t.prepare(List.of(text)));
    if (!r[0].isOk()) {
      throw new IllegalArgumentException("could not embed '" + text + "': " + r[0].error);
    }
    return r[0].embedding;
  }

  public static float[] vector(Row r, String column) {
    List<Float> l = r.getList(r.fieldIndex(column));
    float[] f = new float[l.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = l.get(i);
    }
    return f;
  }

  /**
   * The k rows whose image embedding is closest (cosine; embeddings are L2-normalised) to {@code
   * v}, with a similarity column. The embeddings stream to the driver as scalar (uid, position,
   * value) rows and only the running dot products are kept: Spark's generated code for array
   * columns and ordering does not compile inside the JShell kernel.
   */
  public static Dataset<Row> nearest(Dataset<Row> embedded, float[] v, int k) {
    SparkSession spark = embedded.sparkSession();
    java.util.Map<String, Double> dots = new java.util.HashMap<>();
    java.util.Iterator<Row> it =
        embedded
            .filter(col("image_embedding").isNotNull())
            .select(col("uid"), org.apache.spark.sql.functions.posexplode(col("image_embedding")))
            .toLocalIterator();
    while (it.hasNext()) {
      Row r = it.next();
      dots.merge(r.getString(0), (double) v[r.getInt(1)] * r.getFloat(2), Double::sum);
    }
    List<Row> top = new ArrayList<>();
    dots.entrySet().stream()
        .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
        .limit(k)
        .forEach(e -> top.add(RowFactory.create(e.getKey(), e.getValue())));
    StructType s =
        new StructType().add("_uid", DataTypes.StringType).add("similarity", DataTypes.DoubleType);
    Dataset<Row> hits = spark.createDataFrame(top, s);
    return embedded
        .drop(io.sparkclip.schemas.Columns.CLIP_SCORE)
        .join(hits, col("uid").equalTo(col("_uid")))
        .drop("_uid")
        .withColumn(io.sparkclip.schemas.Columns.CLIP_SCORE, col("similarity"));
  }

  /** One row's embedding, read as scalar rows (no array deserialisation). */
  public static float[] vectorOf(Dataset<Row> df, String uid, String column) {
    List<Row> parts =
        df.filter(col("uid").equalTo(uid))
            .select(org.apache.spark.sql.functions.posexplode(col(column)))
            .collectAsList();
    float[] f = new float[parts.size()];
    for (Row r : parts) {
      f[r.getInt(0)] = r.getFloat(1);
    }
    return f;
  }

  private static final StructType CURVE =
      new StructType()
          .add("threshold", DataTypes.DoubleType)
          .add("flagged", DataTypes.LongType)
          .add("precision", DataTypes.DoubleType)
          .add("recall", DataTypes.DoubleType);

  /**
   * Flagging score &lt; t as positive: precision and recall for {@code steps} thresholds between
   * the score's min and max. One Spark aggregation per threshold row, all in one pass.
   */
  public static Dataset<Row> precisionRecall(
      Dataset<Row> labelled, String score, String label, int steps) {
    Row mm =
        labelled
            .agg(
                org.apache.spark.sql.functions.min(score),
                org.apache.spark.sql.functions.max(score),
                sum(when(col(label), 1).otherwise(0)))
            .first();
    double lo = mm.getDouble(0);
    double hi = mm.getDouble(1);
    long positives = mm.getLong(2);
    List<org.apache.spark.sql.Column> aggs = new ArrayList<>();
    double[] ts = new double[steps];
    for (int i = 0; i < steps; i++) {
      ts[i] = lo + (hi - lo) * (i + 1) / (steps + 1);
      aggs.add(sum(when(col(score).lt(ts[i]), 1).otherwise(0)).as("f" + i));
      aggs.add(sum(when(col(score).lt(ts[i]).and(col(label)), 1).otherwise(0)).as("t" + i));
    }
    Row a =
        labelled
            .agg(
                aggs.get(0),
                aggs.subList(1, aggs.size()).toArray(org.apache.spark.sql.Column[]::new))
            .first();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      long f = a.getLong(2 * i);
      long t = a.getLong(2 * i + 1);
      rows.add(
          RowFactory.create(
              Math.round(ts[i] * 10000) / 10000.0,
              f,
              f == 0 ? 1.0 : (double) t / f,
              positives == 0 ? 0.0 : (double) t / positives));
    }
    return labelled.sparkSession().createDataFrame(rows, CURVE);
  }

  /** Precision/recall of dropping everything outside the global top p% by score. */
  public static Dataset<Row> topPercentCurve(
      Dataset<Row> labelled, String score, String label, double[] keepPercent) {
    List<Row> rows = new ArrayList<>();
    long positives = labelled.filter(col(label)).count();
    for (double p : keepPercent) {
      double t = labelled.stat().approxQuantile(score, new double[] {1 - p / 100.0}, 0.001)[0];
      Row a =
          labelled
              .agg(
                  sum(when(col(score).lt(t), 1).otherwise(0)),
                  sum(when(col(score).lt(t).and(col(label)), 1).otherwise(0)))
              .first();
      long f = a.getLong(0);
      long tp = a.getLong(1);
      rows.add(
          RowFactory.create(
              p,
              Math.round(t * 10000) / 10000.0,
              f == 0 ? 1.0 : (double) tp / f,
              positives == 0 ? 0.0 : (double) tp / positives));
    }
    StructType s =
        new StructType()
            .add("keep_percent", DataTypes.DoubleType)
            .add("threshold", DataTypes.DoubleType)
            .add("precision", DataTypes.DoubleType)
            .add("recall", DataTypes.DoubleType);
    return labelled.sparkSession().createDataFrame(rows, s);
  }

  /** Precision and recall against the threshold, as a chart. */
  public static String curveChart(Dataset<Row> curve) {
    XYSeries p = new XYSeries("precision");
    XYSeries r = new XYSeries("recall");
    for (Row row : curve.collectAsList()) { // a few dozen rows
      p.add(row.getDouble(0), row.getDouble(2));
      r.add(row.getDouble(0), row.getDouble(3));
    }
    XYSeriesCollection c = new XYSeriesCollection();
    c.addSeries(p);
    c.addSeries(r);
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Shuffled-caption detection (score < threshold)",
            "clip_score threshold",
            "",
            c,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    return ReportJob.chartHtml(chart, "nb-curve");
  }

  /** The threshold with the best recall among those with precision ≥ minPrecision. */
  public static double bestThreshold(Dataset<Row> curve, double minPrecision) {
    double best = Double.NaN;
    double bestRecall = -1;
    for (Row row : curve.collectAsList()) {
      if (row.getLong(1) > 0 && row.getDouble(2) >= minPrecision && row.getDouble(3) > bestRecall) {
        bestRecall = row.getDouble(3);
        best = row.getDouble(0);
      }
    }
    if (Double.isNaN(best)) {
      throw new IllegalStateException("no threshold reaches precision " + minPrecision);
    }
    return best;
  }

  /** A curate config that includes the example and sets the tuned threshold. */
  public static void writeCurateConfig(String path, double threshold) {
    String text =
        "# Written by notebooks/03-threshold-tuning.ipynb\n"
            + "include file(\"conf/curate.example.conf\")\n"
            + String.format(Locale.ROOT, "filter.min-clip-score = %.4f%n", threshold);
    try {
      Files.writeString(Path.of(path), text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
