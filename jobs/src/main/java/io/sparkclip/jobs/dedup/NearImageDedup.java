package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.bit_count;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.hex;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
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
    UserDefinedFunction keys =
        udf(
            (UDF2<Long, byte[], long[]>) CandidateKeys::of,
            DataTypes.createArrayType(DataTypes.LongType, false));
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
                "_keys",
                when(col(Columns.PHASH).isNotNull(), keys.apply(col(Columns.PHASH), col("_thumb"))))
            .withColumn(
                "_node",
                when(
                    col(Columns.PHASH).isNotNull(),
                    xxhash64(col(Columns.PHASH), col("_colour"), col("_thumb"))))
            .persist(StorageLevel.MEMORY_AND_DISK());
    // Decode and hash every image once: the branches below (keys, thumbnails, signatures) would
    // each evaluate the hashing again while the cache is still empty.
    Sparks.describe(spark, Stages.DEDUP, "decode and hash images");
    hashed.count();

    Dataset<Row> nodes =
        hashed
            .filter(CurationOutput.kept().and(col("_node").isNotNull()))
            .select(
                col("_node").as("id"),
                col(Columns.PHASH).as("h"),
                col("_colour").as("c"),
                col("_keys").as("k"))
            .dropDuplicates("id");
    // Thumbnails (6.9 KB) travel only to candidate pairs, not through the key explode.
    Dataset<Row> thumbs =
        hashed
            .filter(CurationOutput.kept().and(col("_node").isNotNull()))
            .select(col("_node").as("tid"), col("_thumb").as("t"))
            .dropDuplicates("tid");
    Candidates candidates = candidates(nodes, options.bucketCap());
    Dataset<Row> pairs = candidates.pairs().persist(StorageLevel.MEMORY_AND_DISK());
    UserDefinedFunction colourDistance =
        udf((UDF2<byte[], byte[], Double>) PerceptualHash::colourDistance, DataTypes.DoubleType);
    double limit = options.imageDistance();
    UserDefinedFunction sameImage =
        udf(
            (UDF2<byte[], byte[], Boolean>) (x, y) -> CropTolerantThumbnail.within(x, y, limit),
            DataTypes.BooleanType);
    Dataset<Row> hc = nodes.select(col("id").as("hid"), col("h"), col("c"));
    Sparks.describe(spark, Stages.DEDUP, "image candidate pairs");
    Dataset<Row> edges =
        pairs
            .join(hc.toDF("hid", "ha", "ca"), col("src").equalTo(col("hid")))
            .drop("hid")
            .join(hc.toDF("hid", "hb", "cb"), col("dst").equalTo(col("hid")))
            .filter(bit_count(col("ha").bitwiseXOR(col("hb"))).leq(options.phashDistance()))
            .filter(colourDistance.apply(col("ca"), col("cb")).leq(COLOUR_PREFILTER))
            .select("src", "dst")
            .join(thumbs.withColumnRenamed("t", "ta"), col("src").equalTo(col("tid")))
            .drop("tid")
            .join(thumbs.withColumnRenamed("t", "tb"), col("dst").equalTo(col("tid")))
            .filter(sameImage.apply(col("ta"), col("tb")))
            .select("src", "dst")
            .persist(StorageLevel.MEMORY_AND_DISK());
    Sparks.describe(spark, Stages.DEDUP, "count image candidates");
    long candidatePairs = pairs.count();
    long confirmed = edges.count();
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
                ConnectedComponents.NODE,
                ConnectedComponents.LABEL,
                "_node",
                "_colour",
                "_thumb",
                "_keys");
    d.put("colour_prefilter", COLOUR_PREFILTER);
    d.put("thumbnail_distance", options.imageDistance());
    d.put("phash_distance", options.phashDistance());
    long images = nodes.count();
    d.put("bucket_cap", options.bucketCap());
    d.put("oversized_buckets", candidates.oversized().count());
    d.put("distinct_images", images);
    d.put("candidate_pairs", candidatePairs);
    d.put(
        "candidate_pairs_per_row",
        images == 0 ? 0.0 : Math.round(1000.0 * candidatePairs / images) / 1000.0);
    d.put("near_duplicate_edges", confirmed);
    pairs.unpersist();
    return out;
  }

  /** Candidate pairs ({@code src < dst}) and the keys whose buckets exceeded the cap. */
  record Candidates(Dataset<Row> pairs, Dataset<Row> oversized) {}

  /**
   * Pairs of images that share a {@link CandidateKeys key}. A key's bucket of at most {@code cap}
   * images is compared all-pairs (at most cap²/2 pairs, so candidates per image are bounded by keys
   * × cap whatever the data). A larger bucket, say 20,000 re-encodings of one placeholder image, is
   * compared with its representative (its smallest node) only: a linear star, which connected
   * components closes into one cluster.
   *
   * <p>No task holds a whole bucket: bucket sizes are counted by a partially aggregated group-by
   * (one partial count per key and input partition), the all-pairs join runs only on keys of at
   * most {@code cap} images, and the star join has one row per key on its small side, so adaptive
   * query execution splits a skewed key's partition (its skew-join handling).
   */
  static Candidates candidates(Dataset<Row> nodes, int cap) {
    Dataset<Row> keyed = nodes.select(col("id"), explode(col("k")).as("key"));
    Dataset<Row> sizes = keyed.groupBy("key").agg(count(lit(1)).as("n"), min("id").as("rep"));
    Dataset<Row> oversized =
        sizes.filter(col("n").gt(cap)).select(col("key").as("okey"), col("rep"));
    Dataset<Row> small =
        keyed.join(
            sizes.filter(col("n").gt(1).and(col("n").leq(cap))).select(col("key").as("skey")),
            col("key").equalTo(col("skey")));
    Dataset<Row> a = small.select(col("id").as("src"), col("key").as("ka"));
    Dataset<Row> b = small.select(col("id").as("dst"), col("key").as("kb"));
    Dataset<Row> within =
        a.join(b, col("ka").equalTo(col("kb")).and(col("src").lt(col("dst")))).select("src", "dst");
    Dataset<Row> star =
        keyed
            .join(oversized, col("key").equalTo(col("okey")))
            .filter(col("id").notEqual(col("rep")))
            .select(
                least(col("id"), col("rep")).as("src"), greatest(col("id"), col("rep")).as("dst"));
    return new Candidates(within.union(star).distinct(), oversized);
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
