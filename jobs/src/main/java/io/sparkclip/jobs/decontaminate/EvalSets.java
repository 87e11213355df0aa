package io.sparkclip.jobs.decontaminate;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.jobs.stage.InputFiles;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.RowIds;
import io.sparkclip.jobs.stage.copydetect.ImageSignatureUdf;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.LayoutDetector;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.storage.StorageLevel;

/**
 * The evaluation sets decontaminate compares the pool with: {@code NAME=PATH} specs, each path any
 * input layout sparkclip reads (a folder of image files, WebDataset shards, Parquet with image
 * bytes or a Hugging Face image struct), no caption needed. Each item gets the copy-detection
 * signature the pool rows get; the signature frame is small (one row of about 7 KB per eval image)
 * and persisted.
 */
final class EvalSets {
  private EvalSets() {}

  /** One evaluation set as given. */
  record Spec(String name, String path) implements Serializable {}

  // Columns of the signature frame.
  static final String SET = "e_set";
  static final String ID = "e_id";
  static final String IX = "e_ix";
  static final String PHASH = "e_h";
  static final String COLOUR = "e_c";
  static final String THUMB = "e_t";
  static final String KEYS = "e_k";
  static final String BYTES = "e_bytes";

  /** Parses {@code NAME=PATH} values; fails on a malformed value or a repeated name. */
  static List<Spec> parse(List<String> values) {
    List<Spec> specs = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String v : values) {
      int eq = v.indexOf('=');
      if (eq <= 0 || eq == v.length() - 1) {
        throw Errors.evalSpecInvalid(v, "it is not NAME=PATH");
      }
      String name = v.substring(0, eq).trim();
      String path = v.substring(eq + 1).trim();
      if (!Columns.EVAL_SET_NAME.matcher(name).matches()) {
        throw Errors.evalSpecInvalid(
            v, "the name '" + name + "' does not match " + Columns.EVAL_SET_NAME.pattern());
      }
      if (!names.add(name)) {
        throw Errors.evalSpecInvalid(v, "the name '" + name + "' is given twice");
      }
      specs.add(new Spec(name, path));
    }
    return specs;
  }

  /**
   * The items of every set: {@link #SET}, {@link #ID}, {@link #IX} (a 64-bit hash of both) and
   * {@link #BYTES}, lazily (read again for the report's samples). Fails before any work on a set
   * that is missing or has no image column.
   */
  static Dataset<Row> items(SparkSession spark, List<Spec> specs) {
    Dataset<Row> all = null;
    for (Spec s : specs) {
      InputFiles.Listing listing = InputFiles.list(Paths.fs(spark, s.path()), new Path(s.path()));
      Dataset<Row> df = InputFiles.read(spark, s.path(), listing);
      LayoutDetector.ImageColumns ic =
          LayoutDetector.detectImages(df.schema(), ColumnMapping.DETECT, s.path())
              .orElseThrow(
                  () ->
                      Errors.evalSetNoImages(
                          s.name(),
                          s.path(),
                          "it has no image column (" + df.schema().simpleString() + ")"));
      Column bytes =
          ic.isStruct() ? col(ic.image()).getField(Columns.IMAGE_BYTES_FIELD) : col(ic.image());
      // Without an id column (or where it is null), a Parquet row is named by its file and index.
      Column fallback =
          listing.format() == InputFiles.Format.PARQUET
              ? concat_ws(
                  ":",
                  element_at(split(col("_metadata.file_path"), "/"), -1),
                  col("_metadata.row_index").cast("string"))
              : lit(null).cast("string");
      Column given = ic.id() == null ? null : col(ic.id()).cast("string");
      if (given != null && flatFolder(listing, s.path())) {
        // A flat folder of images: its items are named by file, without the folder's name that
        // the files layout puts before each key (img2dataset's shard folders keep it).
        given = regexp_replace(given, "^[^/]*/", "");
      }
      Column id = given == null ? fallback : coalesce(given, fallback);
      Dataset<Row> one =
          df.select(lit(s.name()).as(SET), id.as(ID), bytes.as(BYTES))
              .withColumn(IX, xxhash64(col(SET), col(ID)));
      all = all == null ? one : all.unionByName(one);
    }
    return all;
  }

  /** Whether the set is one folder of image files, the set's path itself. */
  private static boolean flatFolder(InputFiles.Listing l, String path) {
    return l.format() == InputFiles.Format.FILES
        && l.files().size() == 1
        && l.files().get(0).getPath().getName().equals(new Path(path).getName());
  }

  /**
   * Persisted signatures of the decodable items ({@link #SET}, {@link #ID}, {@link #IX}, pHash,
   * colour grid, thumbnail, keys), with the items read and the undecodable ones per set.
   */
  record Signed(Dataset<Row> signatures, Map<String, Long> items, Map<String, Long> undecodable) {
    void unpersist() {
      signatures.unpersist();
    }
  }

  /** Signs every item; fails when a set has no decodable image. */
  static Signed sign(Dataset<Row> items, List<Spec> specs) {
    UserDefinedFunction sig = udf(new ImageSignatureUdf(), ImageSignatureUdf.TYPE);
    // A folder of images reads as one task per 10,000 files: spread the decoding over the cores.
    Dataset<Row> spread = RowIds.spreadDecode(items.sparkSession(), items, col(IX));
    Dataset<Row> signed =
        spread
            .withColumn("_sig", sig.apply(col(BYTES)))
            .select(
                col(SET),
                col(ID),
                col(IX),
                col("_sig." + ImageSignatureUdf.PHASH).as(PHASH),
                col("_sig." + ImageSignatureUdf.COLOUR).as(COLOUR),
                col("_sig." + ImageSignatureUdf.THUMBNAIL).as(THUMB),
                col("_sig." + ImageSignatureUdf.KEYS).as(KEYS))
            .persist(StorageLevel.MEMORY_AND_DISK());
    Map<String, Long> n = new LinkedHashMap<>();
    Map<String, Long> bad = new LinkedHashMap<>();
    for (Spec s : specs) {
      n.put(s.name(), 0L);
      bad.put(s.name(), 0L);
    }
    // One row per set.
    for (Row r :
        signed
            .groupBy(SET)
            .agg(count(lit(1)), sum(when(col(PHASH).isNull(), 1).otherwise(0)))
            .collectAsList()) {
      n.put(r.getString(0), r.getLong(1));
      bad.put(r.getString(0), r.getLong(2));
    }
    for (Spec s : specs) {
      if (n.get(s.name()) - bad.get(s.name()) == 0) {
        throw Errors.evalSetNoImages(
            s.name(),
            s.path(),
            n.get(s.name()) == 0
                ? "it holds no item"
                : "none of its " + n.get(s.name()) + " images decodes");
      }
    }
    return new Signed(signed.filter(col(PHASH).isNotNull()), n, bad);
  }
}
