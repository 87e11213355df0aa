package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.KeepPolicy;
import io.sparkclip.jobs.stage.RowIds;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.copydetect.ImageSignatureUdf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.Stages;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.storage.StorageLevel;

/**
 * The narrow frame dedup decides on, and the join of its decisions back to the full rows.
 *
 * <p>Full rows carry the image bytes (tens of KB each), so every window or join over them shuffles
 * the whole dataset. One scan of the input computes, per row, what the steps need: a row id, the
 * uid and labels, the keep-order values, the url, caption and image SHA-256, and the image
 * signature (pHash, colour grid, thumbnail, candidate keys, node id). The steps then group and join
 * rows of about a hundred bytes; the 6.9 KB thumbnails stay in their cached column until candidate
 * pairs read them. The full rows are read again only by the writes, joined to the decisions by row
 * id.
 */
final class DedupFrame {
  /** Row id ({@link RowIds}): hash of the input file's path and the row's index in it. */
  static final String FILE = RowIds.FILE;

  static final String ROW = RowIds.ROW;
  static final String URL = "_dd_url";
  static final String CAPTION = "_dd_caption";
  static final String SHA = "_dd_sha";
  static final String PHASH = "_dd_phash";
  static final String COLOUR = "_dd_colour";
  static final String THUMB = "_dd_thumb";
  static final String KEYS = "_dd_keys";
  static final String NODE = "_dd_node";
  static final String ERROR = "_dd_error";

  /**
   * Largest decision table broadcast to the full rows at the writes (rows of about 60 bytes, so
   * about 64 MB); above it the join shuffles.
   */
  static final long BROADCAST_ROWS = 1_000_000;

  private static final String[] LABELS = {
    CurationOutput.REJECT_STAGE,
    CurationOutput.REJECT_REASON,
    CurationOutput.REJECT_DETAIL,
    CurationOutput.REJECT_RELATED,
    Columns.DUP_CLUSTER,
    Columns.DUP_OF
  };

  private final Dataset<Row> cached;
  private final List<Column> order;
  private final long rows;
  private final boolean signatures;

  private DedupFrame(Dataset<Row> cached, List<Column> order, long rows, boolean signatures) {
    this.cached = cached;
    this.order = order;
    this.rows = rows;
    this.signatures = signatures;
  }

  /** Adds the row id ({@link RowIds#withRowId}) to a frame as read. */
  static Dataset<Row> withRowId(Dataset<Row> fromFiles) {
    return RowIds.withRowId(fromFiles);
  }

  /**
   * Projects, persists and counts the narrow frame of {@code labelled} (which has the row id): one
   * scan of the input, decoding and hashing every kept image once when {@code signatures}.
   */
  static DedupFrame build(
      SparkSession spark,
      Dataset<Row> labelled,
      ResolvedLayout layout,
      KeepPolicy keep,
      boolean sha,
      boolean signatures) {
    List<Column> cols = new ArrayList<>();
    for (String c : List.of(FILE, ROW, Columns.UID)) {
      cols.add(col(c));
    }
    for (String c : LABELS) {
      cols.add(col(c));
    }
    List<Column> order = new ArrayList<>();
    List<KeepPolicy.SortKey> keys = keep.sortKeys(labelled.schema(), layout);
    for (int i = 0; i < keys.size(); i++) {
      String name = "_dd_o" + i;
      cols.add(keys.get(i).value().as(name));
      order.add(keys.get(i).sort(col(name)));
    }
    layout.url().ifPresent(u -> cols.add(u.as(URL)));
    cols.add(layout.caption().as(CAPTION));
    boolean images = layout.hasImages();
    if (sha && images) {
      Column computed = sha2(layout.imageBytes(), 256);
      Column value =
          CurationOutput.has(labelled, Columns.SHA256)
              ? coalesce(col(Columns.SHA256), computed)
              : computed;
      cols.add(when(layout.imageBytes().isNotNull(), value).as(SHA));
    }
    boolean sig = signatures && images;
    Dataset<Row> narrow;
    if (sig) {
      cols.add(layout.imageBytes().as("_dd_bytes"));
      narrow = RowIds.spreadDecode(spark, labelled.select(cols.toArray(Column[]::new)));
      UserDefinedFunction f = udf(new ImageSignatureUdf(), ImageSignatureUdf.TYPE);
      narrow =
          narrow
              .withColumn("_dd_sig", when(CurationOutput.kept(), f.apply(col("_dd_bytes"))))
              .drop("_dd_bytes");
    } else {
      narrow = labelled.select(cols.toArray(Column[]::new));
    }
    if (sig) {
      // A separate projection: the signature UDF runs once per row, its fields are read after.
      narrow =
          narrow
              .withColumn(PHASH, col("_dd_sig.phash"))
              .withColumn(COLOUR, col("_dd_sig.colour"))
              .withColumn(THUMB, col("_dd_sig.thumbnail"))
              .withColumn(KEYS, col("_dd_sig.keys"))
              .withColumn(ERROR, col("_dd_sig.error"))
              .drop("_dd_sig")
              .withColumn(
                  NODE,
                  when(col(PHASH).isNotNull(), xxhash64(col(PHASH), col(COLOUR), col(THUMB))));
    }
    narrow = narrow.persist(StorageLevel.MEMORY_AND_DISK());
    Sparks.describe(
        spark, Stages.DEDUP, sig ? "read input, decode and hash images" : "read input keys");
    long n = narrow.count();
    return new DedupFrame(narrow, order, n, sig);
  }

  /** The keep order over the narrow frame's columns. */
  List<Column> order() {
    return order;
  }

  long rows() {
    return rows;
  }

  /** The narrow frame without thumbnails: what the grouping steps shuffle. */
  Dataset<Row> keys() {
    return signatures ? cached.drop(THUMB) : cached;
  }

  /**
   * Thumbnails by image node ({@code tid}, {@code t}); a node repeats once per row that has it
   * (exact copies).
   */
  Dataset<Row> thumbnails() {
    return cached.filter(col(NODE).isNotNull()).select(col(NODE).as("tid"), col(THUMB).as("t"));
  }

  void unpersist() {
    cached.unpersist();
  }

  /**
   * The full rows of {@code labelled} with the labels, cluster columns and pHash of {@code decided}
   * (the narrow frame after every step, one row per input row), in the column order of {@code
   * labelled} with pHash last.
   */
  static Dataset<Row> joinBack(
      Dataset<Row> labelled, Dataset<Row> decided, long rows, boolean withPhash) {
    List<String> take = new ArrayList<>(List.of(FILE, ROW));
    take.addAll(Arrays.asList(LABELS));
    if (withPhash) {
      take.add(Columns.PHASH);
    }
    Dataset<Row> decisions = decided.select(take.stream().map(c -> col(c)).toArray(Column[]::new));
    if (rows <= BROADCAST_ROWS) {
      decisions = broadcast(decisions);
    }
    Dataset<Row> joined = labelled.drop(LABELS).join(decisions, new String[] {FILE, ROW});
    List<Column> out = new ArrayList<>();
    for (String c : labelled.columns()) {
      if (!c.equals(FILE) && !c.equals(ROW)) {
        out.add(col(c));
      }
    }
    if (withPhash) {
      out.add(col(Columns.PHASH));
    }
    return joined.select(out.toArray(Column[]::new));
  }
}
