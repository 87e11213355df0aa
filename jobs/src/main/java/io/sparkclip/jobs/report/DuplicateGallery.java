package io.sparkclip.jobs.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.Stages;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * The report's "Near-duplicate clusters" gallery: dedup's removals grouped by the row each one
 * duplicates ({@code related_uid}), the kept row's thumbnail next to those of the rows removed as
 * its copies, with captions and reasons. Clusters with a near-duplicate image come first (the
 * decisions worth a look: exact copies look alike by construction), then the largest.
 *
 * <p>Everything the driver sees is bounded: the cluster list is a {@code limit}, the removed rows
 * are a per-cluster {@code row_number} cut, and only those uids are read back from the stage's
 * input for their images.
 */
final class DuplicateGallery {
  /** dedup's duplicate reasons; each reject of these names the row it duplicates. */
  static final List<String> REASONS =
      List.of(
          RejectReason.NEAR_DUPLICATE_IMAGE,
          RejectReason.DUPLICATE_IMAGE_HASH,
          RejectReason.DUPLICATE_EXACT_URL,
          RejectReason.NEAR_DUPLICATE_CAPTION);

  private final CuratedRun run;
  private final int clusters;
  private final int perCluster;

  DuplicateGallery(CuratedRun run, int clusters, int perCluster) {
    this.run = run;
    this.clusters = clusters;
    this.perCluster = perCluster;
  }

  void render(StringBuilder h) {
    h.append("<section id=\"dup-clusters\"><h2>Near-duplicate clusters</h2>");
    Optional<String> dir = run.stage(Stages.DEDUP);
    if (dir.isEmpty() || run.summary(dir.get()) == null) {
      h.append("<p class=\"na\">dedup did not run.</p></section>");
      return;
    }
    Sparks.describe(run.spark, "report", "duplicate clusters");
    Dataset<Row> removed =
        run.rejects(dir.get())
            .filter(col(Columns.REASON).isin(REASONS.toArray()))
            .filter(col(Columns.RELATED_UID).isNotNull());
    // Only rows dedup kept head a cluster: a row removed later in the same run (an exact copy of
    // an image that was then found a near-duplicate of another) has no kept row to show.
    Dataset<Row> kept = run.data(dir.get()).select(col(Columns.UID).as("_kept"));
    Dataset<Row> byKept =
        removed.join(kept, col(Columns.RELATED_UID).equalTo(col("_kept"))).drop("_kept");
    Row totals = byKept.agg(countDistinct(col(Columns.RELATED_UID)), count(lit(1))).first();
    List<Row> top =
        byKept
            .groupBy(Columns.RELATED_UID)
            .agg(
                max(when(col(Columns.REASON).equalTo(RejectReason.NEAR_DUPLICATE_IMAGE), 1)
                        .otherwise(0))
                    .as("_near"),
                count(lit(1)).as("_n"))
            .orderBy(col("_near").desc(), col("_n").desc(), col(Columns.RELATED_UID))
            .limit(clusters)
            .collectAsList();
    if (top.isEmpty()) {
      h.append("<p class=\"na\">dedup removed no duplicates.</p></section>");
      return;
    }
    List<String> keptUids = new ArrayList<>();
    Map<String, Long> sizes = new HashMap<>();
    for (Row r : top) {
      keptUids.add(r.getString(0));
      sizes.put(r.getString(0), r.getLong(2));
    }
    List<Row> shownRemoved =
        byKept
            .filter(col(Columns.RELATED_UID).isin(keptUids.toArray()))
            .withColumn(
                "_rn",
                row_number()
                    .over(
                        Window.partitionBy(Columns.RELATED_UID)
                            .orderBy(col(Columns.REASON).desc(), col(Columns.UID))))
            .filter(col("_rn").leq(perCluster))
            .select(Columns.UID, Columns.REASON, Columns.DETAIL, Columns.RELATED_UID)
            .collectAsList();
    Map<String, List<Row>> members = new LinkedHashMap<>();
    keptUids.forEach(k -> members.put(k, new ArrayList<>()));
    List<Object> uids = new ArrayList<>(keptUids);
    for (Row r : shownRemoved) {
      members.get(r.getString(3)).add(r);
      uids.add(r.getString(0));
    }
    Optional<CurationInput> input = run.input(dir.get());
    if (input.isEmpty()) {
      h.append(run.inputGone(dir.get(), "Thumbnails and captions"));
    }
    ResolvedLayout layout = input.map(CurationInput::layout).orElse(null);
    Map<String, Row> pairs = new HashMap<>();
    if (input.isPresent()) {
      List<String> cols = new ArrayList<>(List.of(Columns.UID, layout.captionCol()));
      layout.imageCol().ifPresent(cols::add);
      for (Row r :
          input
              .get()
              .pairs()
              .filter(col(Columns.UID).isin(uids.toArray()))
              .select(cols.stream().map(c -> col(c)).toArray(org.apache.spark.sql.Column[]::new))
              .collectAsList()) {
        pairs.put(r.getAs(Columns.UID), r);
      }
    }

    h.append(
        String.format(
            Locale.ROOT,
            "<p class=\"meta\">%,d rows removed as copies of %,d kept rows; %d clusters shown, up"
                + " to %d removed rows each.</p>",
            totals.getLong(1),
            totals.getLong(0),
            members.size(),
            perCluster));
    members.forEach(
        (keptUid, rows) -> {
          h.append("<div class=\"cluster\" data-kept-uid=\"").append(ReportJob.esc(keptUid));
          h.append("\">");
          h.append(figure("sample kept", keptUid, "", layout, pairs.get(keptUid), "kept", ""));
          h.append(
              String.format(
                  Locale.ROOT,
                  "<span class=\"dups\">&larr; %,d removed</span>",
                  sizes.get(keptUid)));
          for (Row r : rows) {
            h.append(
                figure(
                    "sample removed",
                    r.getString(0),
                    " data-related-uid=\"" + ReportJob.esc(keptUid) + "\"",
                    layout,
                    pairs.get(r.getString(0)),
                    r.getString(1),
                    r.getString(2)));
          }
          h.append("</div>");
        });
    h.append("</section>");
  }

  /** A cluster member; {@code layout} and {@code pair} are null when the input is gone. */
  private static String figure(
      String cls,
      String uid,
      String attributes,
      ResolvedLayout layout,
      Row pair,
      String label,
      String detail) {
    String caption =
        pair == null
            ? "(not in dedup's input)"
            : String.valueOf(pair.<Object>getAs(layout.captionCol()));
    return Figures.figure(
        cls,
        uid,
        attributes,
        pair == null ? null : Figures.imageBytes(pair, layout),
        ReportJob.esc(caption)
            + "<br><b>"
            + ReportJob.esc(label)
            + "</b> "
            + ReportJob.esc(detail == null ? "" : detail));
  }
}
