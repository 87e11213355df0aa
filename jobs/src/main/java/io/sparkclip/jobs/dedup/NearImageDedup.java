package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.bit_count;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.hex;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.shiftrightunsigned;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.jobs.stage.ConnectedComponents;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.Stages;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Near-duplicate images: pHash LSH candidates, a colour-grid pre-filter and the crop-aligned
 * thumbnail distance that confirms them, then connected components.
 */
final class NearImageDedup {
  private final SparkSession spark;
  private final DedupJob.Options options;

  NearImageDedup(SparkSession spark, DedupJob.Options options) {
    this.spark = spark;
    this.options = options;
  }

  /**
   * Cheap pre-filter before the thumbnail comparison: largest mean absolute difference (0..255) of
   * the 4×4 RGB colour grids. Loose on purpose (crops shift the grid); it only spares thumbnail
   * comparisons of pairs whose colours plainly differ.
   */
  public static final double COLOUR_PREFILTER = 12.0;

  Dataset<Row> run(
      Dataset<Row> labelled, ResolvedLayout layout, List<Column> order, Map<String, Object> d) {
    Sparks.describe(spark, Stages.DEDUP, "image phash");
    UserDefinedFunction phash = udf(new PhashUdf(), PhashUdf.TYPE);
    Dataset<Row> hashed =
        labelled
            .withColumn("_ph", when(CurationOutput.kept(), phash.apply(layout.imageBytes())))
            .withColumn(Columns.PHASH, col("_ph.phash"))
            .withColumn("_colour", col("_ph.colour"))
            .withColumn("_thumb", col("_ph.thumbnail"))
            .withColumn("_ph_error", col("_ph.error"))
            .drop("_ph");
    if (!options.keepUndecodable()) {
      hashed =
          CurationOutput.reject(
              hashed,
              col("_ph_error").isNotNull(),
              Stages.REJECT_DEDUP_IMAGE,
              lit(RejectReason.UNDECODABLE_IMAGE),
              col("_ph_error"),
              lit(null));
    }
    // A node is one distinct look (pHash, colour grid, thumbnail); its id a 64-bit hash of them.
    hashed =
        hashed
            .drop("_ph_error")
            .withColumn(
                "_node",
                when(
                    col(Columns.PHASH).isNotNull(),
                    xxhash64(col(Columns.PHASH), col("_colour"), col("_thumb"))))
            .persist(StorageLevel.MEMORY_AND_DISK());

    int bands = options.phashBands();
    int width = 64 / bands;
    Dataset<Row> nodes =
        hashed
            .filter(CurationOutput.kept().and(col("_node").isNotNull()))
            .select(col("_node").as("id"), col(Columns.PHASH).as("h"), col("_colour").as("c"))
            .dropDuplicates("id");
    // Thumbnails (6.9 KB) travel only to candidate pairs, not through the band explode.
    Dataset<Row> thumbs =
        hashed
            .filter(CurationOutput.kept().and(col("_node").isNotNull()))
            .select(col("_node").as("tid"), col("_thumb").as("t"))
            .dropDuplicates("tid");
    List<Column> bandCols = new ArrayList<>();
    long mask = width == 64 ? -1L : (1L << width) - 1;
    for (int b = 0; b < bands; b++) {
      bandCols.add(shiftrightunsigned(col("h"), b * width).bitwiseAND(lit(mask)));
    }
    Dataset<Row> banded =
        nodes.select(
            col("id"),
            col("h"),
            col("c"),
            posexplode(array(bandCols.toArray(Column[]::new))).as(new String[] {"band", "v"}));
    Dataset<Row> a =
        banded.select(
            col("id").as("src"),
            col("h").as("ha"),
            col("c").as("ca"),
            col("band").as("ba"),
            col("v").as("va"));
    Dataset<Row> b =
        banded.select(
            col("id").as("dst"),
            col("h").as("hb"),
            col("c").as("cb"),
            col("band").as("bb"),
            col("v").as("vb"));
    UserDefinedFunction colourDistance =
        udf((UDF2<byte[], byte[], Double>) PerceptualHash::colourDistance, DataTypes.DoubleType);
    UserDefinedFunction thumbDistance =
        udf((UDF2<byte[], byte[], Double>) CropTolerantThumbnail::distance, DataTypes.DoubleType);
    Sparks.describe(spark, Stages.DEDUP, "image phash candidate pairs");
    Dataset<Row> edges =
        a.join(
                b,
                col("ba")
                    .equalTo(col("bb"))
                    .and(col("va").equalTo(col("vb")))
                    .and(col("src").lt(col("dst"))))
            .select("src", "dst", "ha", "hb", "ca", "cb")
            .dropDuplicates("src", "dst")
            .filter(bit_count(col("ha").bitwiseXOR(col("hb"))).leq(options.phashDistance()))
            .filter(colourDistance.apply(col("ca"), col("cb")).leq(COLOUR_PREFILTER))
            .select("src", "dst")
            .join(thumbs.withColumnRenamed("t", "ta"), col("src").equalTo(col("tid")))
            .drop("tid")
            .join(thumbs.withColumnRenamed("t", "tb"), col("dst").equalTo(col("tid")))
            .filter(thumbDistance.apply(col("ta"), col("tb")).leq(options.imageDistance()))
            .select("src", "dst");
    Dataset<Row> cc = ConnectedComponents.of(spark, edges, Stages.DEDUP, options.maxIterations());
    Dataset<Row> joined =
        hashed.join(cc, hashed.col("_node").equalTo(cc.col(ConnectedComponents.NODE)), "left");
    Column key =
        when(col("_node").isNotNull(), coalesce(col(ConnectedComponents.LABEL), col("_node")));
    Dataset<Row> out =
        DuplicateGroups.byKey(
                joined,
                hex(key),
                Stages.REJECT_DEDUP_IMAGE,
                RejectReason.NEAR_DUPLICATE_IMAGE,
                "image",
                order,
                options.markOnly())
            .drop(
                ConnectedComponents.NODE, ConnectedComponents.LABEL, "_node", "_colour", "_thumb");
    d.put("colour_prefilter", COLOUR_PREFILTER);
    d.put("thumbnail_distance", options.imageDistance());
    d.put("phash_distance", options.phashDistance());
    d.put("phash_bands", bands);
    return out;
  }

  /** Executor side: pHash of image bytes, or the reason it cannot be computed. */
  static final class PhashUdf implements UDF1<byte[], Row> {
    private static final long serialVersionUID = 1L;
    static final StructType TYPE =
        new StructType()
            .add("phash", DataTypes.LongType, true)
            .add("colour", DataTypes.BinaryType, true)
            .add("thumbnail", DataTypes.BinaryType, true)
            .add("error", DataTypes.StringType, true);

    @Override
    public Row call(byte[] bytes) {
      if (bytes == null) {
        return null;
      }
      try {
        PerceptualHash.Signature sig = PerceptualHash.signature(bytes);
        return RowFactory.create(sig.phash(), sig.colour(), sig.thumbnail(), null);
      } catch (PerceptualHash.UndecodableImageException e) {
        return RowFactory.create(null, null, null, e.getMessage());
      }
    }
  }
}
