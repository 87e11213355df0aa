package io.sparkclip.jobs.report;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.row_number;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import io.sparkclip.udfs.preprocess.ImageDimensions;
import io.sparkclip.udfs.text.CaptionCounts;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The report's "Basic filters" section: for every check basic-filter ran, a histogram of what it
 * measures over the rows it checked, its bound marked; the rows rejected per reason; and a few
 * rejected pairs per reason with the measured value ({@code detail}).
 *
 * <p>basic-filter stops at a pair's first failing check, so its rejects hold one measurement per
 * rejected row. The histograms therefore measure every usable row of the stage's input again, with
 * the same counting ({@link CaptionCounts}) and the same header reader ({@link ImageDimensions}):
 * one map over the input, no image decoded. The language confidence is not measured again (Lingua
 * is the one dear check): it is the kept rows' {@code language_confidence} and the confidence a
 * language reject records in its detail. The bounds come from the stage's summary.
 */
final class BasicFilterSection {
  /** A measured quantity, the checks that bound it (reject reason → "min" or "max"). */
  enum Measure {
    CAPTION_WORDS(
        "caption_words",
        Map.of(
            RejectReason.CAPTION_TOO_FEW_WORDS, "min", RejectReason.CAPTION_TOO_MANY_WORDS, "max")),
    CAPTION_CHARS(
        "caption_chars",
        Map.of(RejectReason.CAPTION_TOO_SHORT, "min", RejectReason.CAPTION_TOO_LONG, "max")),
    IMAGE_BYTES("image_bytes", Map.of(RejectReason.IMAGE_FILE_TOO_SMALL, "min")),
    IMAGE_SHORTEST_SIDE("image_shortest_side", Map.of(RejectReason.IMAGE_TOO_SMALL, "min")),
    IMAGE_ASPECT_RATIO("image_aspect_ratio", Map.of(RejectReason.EXTREME_ASPECT_RATIO, "max")),
    LANGUAGE_CONFIDENCE(
        Columns.LANGUAGE_CONFIDENCE, Map.of(RejectReason.LOW_LANGUAGE_CONFIDENCE, "min"));

    /** The histogram's column, and its chart's id after {@link #CHART_PREFIX}. */
    final String column;

    final Map<String, String> bounds;

    Measure(String column, Map<String, String> bounds) {
      this.column = column;
      this.bounds = bounds;
    }
  }

  static final String CHART_PREFIX = "chart-basic-";

  /** The reasons of basic-filter's own checks (the others are input pair statuses). */
  static final List<String> CHECK_REASONS =
      List.of(
          RejectReason.CAPTION_TOO_FEW_WORDS,
          RejectReason.CAPTION_TOO_MANY_WORDS,
          RejectReason.CAPTION_TOO_SHORT,
          RejectReason.CAPTION_TOO_LONG,
          RejectReason.IMAGE_FILE_TOO_SMALL,
          RejectReason.IMAGE_SIZE_UNREADABLE,
          RejectReason.IMAGE_TOO_SMALL,
          RejectReason.EXTREME_ASPECT_RATIO,
          RejectReason.CAPTION_LANGUAGE,
          RejectReason.LOW_LANGUAGE_CONFIDENCE);

  /** The confidence both language rejects write into their detail ("... confidence 0.212 ..."). */
  static final String DETAIL_CONFIDENCE = "confidence (\\d+(?:\\.\\d+)?)";

  private final CuratedRun run;
  private final int samplesPerReason;

  BasicFilterSection(CuratedRun run, int samplesPerReason) {
    this.run = run;
    this.samplesPerReason = samplesPerReason;
  }

  void render(StringBuilder h) {
    h.append("<section id=\"basic-filter\"><h2>Basic filters</h2>");
    Optional<String> dir = run.stage(Stages.BASIC_FILTER);
    JsonNode summary = dir.map(run::summary).orElse(null);
    if (summary == null) {
      h.append("<p class=\"na\">basic-filter did not run.</p></section>");
      return;
    }
    Sparks.describe(run.spark, "report", "basic-filter measures");
    JsonNode details = summary.path(StageFiles.SUMMARY_DETAILS);
    Map<String, Double> bounds = new LinkedHashMap<>();
    details
        .path(StageFiles.SUMMARY_CHECK_BOUNDS)
        .fields()
        .forEachRemaining(e -> bounds.put(e.getKey(), e.getValue().asDouble()));
    boolean language = details.path(StageFiles.SUMMARY_LANGUAGES).size() > 0;
    Map<String, Long> rejected = new TreeMap<>();
    summary
        .path("rejected")
        .forEach(
            stage ->
                stage
                    .fields()
                    .forEachRemaining(
                        e -> rejected.merge(e.getKey(), e.getValue().asLong(), Long::sum)));
    reasonTable(h, details, bounds, rejected);

    Optional<CurationInput> in = run.input(dir.get());
    if (in.isEmpty()) {
      h.append(run.inputGone(dir.get(), "The caption and image histograms and the samples"));
    }
    Dataset<Row> measured =
        in.map(i -> measure(i).persist(StorageLevel.MEMORY_AND_DISK())).orElse(null);
    for (Measure m : Measure.values()) {
      List<ReportJob.Marker> markers = markers(m, bounds);
      if (m == Measure.LANGUAGE_CONFIDENCE) {
        if (language) {
          h.append(
              ReportJob.histogramHtml(
                  languageConfidence(dir.get()), m.column, markers, CHART_PREFIX + m.column));
        }
      } else if (!markers.isEmpty() && measured != null) {
        h.append(ReportJob.histogramHtml(measured, m.column, markers, CHART_PREFIX + m.column));
      }
    }
    if (measured != null) {
      measured.unpersist();
      h.append("<h3>Rejected by basic-filter</h3>");
      h.append(rejectedSamples(dir.get(), in.get()));
    }
    h.append("</section>");
  }

  private static void reasonTable(
      StringBuilder h, JsonNode details, Map<String, Double> bounds, Map<String, Long> rejected) {
    h.append("<p class=\"meta\">checks: ");
    List<String> checks = new ArrayList<>();
    details.path("checks").forEach(c -> checks.add(c.asText()));
    h.append(ReportJob.esc(String.join("; ", checks))).append("</p>");
    h.append("<table><tr><th>reason</th><th>bound</th><th>rows rejected</th></tr>");
    rejected.forEach(
        (reason, n) -> {
          Double b = bounds.get(reason);
          h.append("<tr><td>").append(ReportJob.esc(reason)).append("</td><td>");
          h.append(b == null ? "-" : number(b)).append("</td><td>");
          h.append(String.format(Locale.ROOT, "%,d", n)).append("</td></tr>");
        });
    h.append("</table>");
  }

  /** The bounds of the checks that ran on this measure, as chart markers. */
  static List<ReportJob.Marker> markers(Measure m, Map<String, Double> bounds) {
    List<ReportJob.Marker> out = new ArrayList<>();
    m.bounds.forEach(
        (reason, side) -> {
          Double b = bounds.get(reason);
          if (b != null) {
            out.add(new ReportJob.Marker(side + " " + number(b), b));
          }
        });
    out.sort((a, b) -> Double.compare(a.value(), b.value()));
    return out;
  }

  /** A bound as the options spell it: 80, 1.5, 0.25. */
  static String number(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /**
   * One row per usable input row (pair status ok: the rows the checks saw): caption words and
   * characters, image bytes, shortest side and aspect ratio from the image header (null when the
   * layout has no images or the header is unreadable).
   */
  static Dataset<Row> measure(CurationInput in) {
    ResolvedLayout layout = in.layout();
    List<org.apache.spark.sql.Column> cols = new ArrayList<>(List.of(col(layout.captionCol())));
    layout.imageCol().ifPresent(c -> cols.add(col(c)));
    Dataset<Row> rows =
        in.pairs()
            .filter(col(Columns.PAIR_STATUS).equalTo(PairStatus.OK))
            .select(cols.toArray(org.apache.spark.sql.Column[]::new));
    StructType schema =
        new StructType()
            .add(Measure.CAPTION_WORDS.column, DataTypes.IntegerType, false /* nullable */)
            .add(Measure.CAPTION_CHARS.column, DataTypes.IntegerType, false /* nullable */)
            .add(Measure.IMAGE_BYTES.column, DataTypes.LongType, true /* nullable: no image */)
            .add(Measure.IMAGE_SHORTEST_SIDE.column, DataTypes.IntegerType, true /* unreadable */)
            .add(Measure.IMAGE_ASPECT_RATIO.column, DataTypes.DoubleType, true /* unreadable */);
    return rows.mapPartitions(
        new Measurer(layout.imageCol().isPresent(), layout.imageIsStruct()), Encoders.row(schema));
  }

  /** Executor side: the measures of one (caption, image) row. */
  static final class Measurer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final boolean image;
    private final boolean struct;

    Measurer(boolean image, boolean struct) {
      this.image = image;
      this.struct = struct;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return rows.hasNext();
        }

        @Override
        public Row next() {
          return measure(rows.next());
        }
      };
    }

    Row measure(Row r) {
      String caption = r.getString(0);
      byte[] bytes = null;
      if (image && !r.isNullAt(1)) {
        bytes =
            struct ? (byte[]) r.getStruct(1).getAs(Columns.IMAGE_BYTES_FIELD) : (byte[]) r.get(1);
      }
      ImageDimensions.Result size = bytes == null ? null : ImageDimensions.read(bytes);
      boolean readable = size != null && size.readable();
      return RowFactory.create(
          CaptionCounts.words(caption),
          CaptionCounts.characters(caption),
          bytes == null ? null : (long) bytes.length,
          readable ? size.shortestSide() : null,
          readable ? size.aspectRatio() : null);
    }
  }

  /** Kept rows' confidence, and the confidence the language rejects recorded in their detail. */
  private Dataset<Row> languageConfidence(String dir) {
    String c = Columns.LANGUAGE_CONFIDENCE;
    Dataset<Row> kept = run.data(dir).select(col(c).cast("double").as(c));
    Dataset<Row> rejected =
        run.rejects(dir)
            .filter(
                col(Columns.REASON)
                    .isin(RejectReason.CAPTION_LANGUAGE, RejectReason.LOW_LANGUAGE_CONFIDENCE))
            .select(regexp_extract(col(Columns.DETAIL), DETAIL_CONFIDENCE, 1).cast("double").as(c));
    return kept.unionByName(rejected);
  }

  /**
   * Up to {@link #samplesPerReason} rejected pairs per check reason, with image and caption from
   * the stage's input: the rejects are narrowed to that bounded set before the join.
   */
  private String rejectedSamples(String dir, CurationInput in) {
    Dataset<Row> picked =
        run.rejects(dir)
            .filter(col(Columns.REASON).isin(CHECK_REASONS.toArray()))
            .withColumn(
                "_rn",
                row_number().over(Window.partitionBy(Columns.REASON).orderBy(col(Columns.UID))))
            .filter(col("_rn").leq(samplesPerReason))
            .select(Columns.UID, Columns.REASON, Columns.DETAIL);
    Dataset<Row> shown =
        in.pairs()
            .join(broadcast(picked), Columns.UID)
            .orderBy(col(Columns.REASON), col(Columns.UID));
    return ReportJob.grid(
        shown, in.layout(), "rejected basic", samplesPerReason * CHECK_REASONS.size());
  }
}
