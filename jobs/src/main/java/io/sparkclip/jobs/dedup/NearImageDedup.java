package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.hex;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.sparkclip.jobs.stage.Checkpoints;
import io.sparkclip.jobs.stage.ConnectedComponents;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.copydetect.CandidateFilter;
import io.sparkclip.jobs.stage.copydetect.CandidateKeys;
import io.sparkclip.jobs.stage.copydetect.CropTolerantThumbnail;
import io.sparkclip.jobs.stage.copydetect.PerceptualHash;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Stages;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

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
   * Largest pHash distance of a star pair (an image and the representative of an oversized bucket).
   * A star exists for heavy clusters, thousands of re-encodings or resizes of one image, which move
   * pHash by a few bits; the other members of a big bucket of merely similar layouts are distinct
   * images, each a full crop-search comparison if let through at the crop tolerance. Crops of one
   * another in such a bucket are found through their other keys.
   */
  static final int STAR_PHASH_DISTANCE = 8;

  /**
   * Thumbnail comparisons per task when the thumbnails are broadcast (about half a millisecond each
   * for a distinct pair).
   */
  static final long COMPARISONS_PER_TASK = 2_000;

  /** Largest thumbnail table broadcast to the compared pairs; above it the join shuffles. */
  static final long BROADCAST_THUMBNAIL_BYTES = 16L << 20;

  /**
   * Near-duplicate image clusters over the {@link DedupFrame} narrow frame (signatures computed),
   * with the frame's {@link DedupFrame#thumbnails() thumbnails} for the candidate pairs.
   */
  Dataset<Row> run(
      Dataset<Row> labelled, Dataset<Row> thumbs, List<Column> order, Map<String, Object> d) {
    Sparks.describe(spark, Stages.DEDUP, "image candidate keys");
    // The signature of a row still kept after the exact steps (as if hashed only now).
    Dataset<Row> hashed =
        labelled
            .withColumn(Columns.PHASH, when(CurationOutput.kept(), col(DedupFrame.PHASH)))
            .withColumn("_ph_error", when(CurationOutput.kept(), col(DedupFrame.ERROR)));
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
            .withColumn("_node", when(col(Columns.PHASH).isNotNull(), col(DedupFrame.NODE)));

    Dataset<Row> nodes =
        Checkpoints.cut(
            hashed
                .filter(CurationOutput.kept().and(col("_node").isNotNull()))
                .select(
                    col("_node").as("id"),
                    col(Columns.PHASH).as("h"),
                    col(DedupFrame.COLOUR).as("c"),
                    col(DedupFrame.KEYS).as("k"))
                .dropDuplicates("id"));
    int starDistance = Math.min(STAR_PHASH_DISTANCE, options.phashDistance());
    Candidates candidates =
        candidates(nodes, options.bucketCap(), options.phashDistance(), starDistance);
    Sparks.describe(spark, Stages.DEDUP, "image candidate pairs within pHash and colour limits");
    Dataset<Row> prefiltered = Checkpoints.cut(candidates.pairs());
    double limit = options.imageDistance();
    UserDefinedFunction sameImage =
        udf(
            (UDF2<byte[], byte[], Boolean>) (x, y) -> CropTolerantThumbnail.within(x, y, limit),
            DataTypes.BooleanType);
    Sparks.describe(spark, Stages.DEDUP, "confirm image candidates");
    long compared = prefiltered.count();
    // Only the thumbnails of images in a remaining pair move (6.9 KB each).
    Dataset<Row> needed =
        prefiltered
            .select(col("src").as("nid"))
            .union(prefiltered.select(col("dst").as("nid")))
            .distinct();
    if (compared <= DedupFrame.BROADCAST_ROWS) {
      needed = broadcast(needed);
    }
    Dataset<Row> t =
        thumbs.join(needed, col("tid").equalTo(col("nid")), "left_semi").dropDuplicates("tid");
    // At most two thumbnails a compared pair.
    boolean broadcastThumbs =
        2 * compared * CropTolerantThumbnail.BYTES <= BROADCAST_THUMBNAIL_BYTES;
    Dataset<Row> toCompare = prefiltered;
    if (broadcastThumbs) {
      t = broadcast(t);
      // The comparisons then run in the pairs' own partitions, and their input is small in bytes,
      // so adaptive execution would leave them in one task: spread them by count. (Shuffled
      // thumbnails are spread by the join, by bytes.)
      int compareTasks =
          (int)
              Math.max(
                  spark.sparkContext().defaultParallelism(),
                  (compared + COMPARISONS_PER_TASK - 1) / COMPARISONS_PER_TASK);
      toCompare = prefiltered.repartition(compareTasks);
    } else {
      // Both joins below read it: one scan of the cached frame and one shuffle, not one each.
      t = Checkpoints.cut(t);
    }
    Dataset<Row> edges =
        Checkpoints.cut(
            toCompare
                .join(t, col("src").equalTo(col("tid")))
                .select(col("src"), col("dst"), col("t").as("ta"))
                .join(t, col("dst").equalTo(col("tid")))
                .filter(sameImage.apply(col("ta"), col("t")))
                .select("src", "dst"));
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
            .drop(ConnectedComponents.NODE, ConnectedComponents.LABEL, "_node");
    d.put("colour_prefilter", PerceptualHash.COLOUR_PREFILTER);
    d.put("thumbnail_distance", options.imageDistance());
    d.put("phash_distance", options.phashDistance());
    long images = nodes.count();
    d.put("bucket_cap", options.bucketCap());
    d.put("oversized_buckets", candidates.first().oversized());
    d.put("oversized_sub_buckets", candidates.second().oversized());
    d.put("distinct_images", images);
    long candidatePairs = candidates.first().pairs() + candidates.second().pairs();
    d.put("candidate_pairs", candidatePairs);
    d.put("star_pairs", candidates.first().starPairs() + candidates.second().starPairs());
    d.put("star_phash_distance", starDistance);
    d.put(
        "candidate_pairs_per_row",
        images == 0 ? 0.0 : Math.round(1000.0 * candidatePairs / images) / 1000.0);
    d.put("thumbnail_comparisons", compared);
    d.put("near_duplicate_edges", confirmed);
    return out;
  }

  /**
   * Candidate pairs within the pHash and colour limits ({@code src < dst}, each once) and the
   * bucket counts of both levels.
   */
  record Candidates(Dataset<Row> pairs, BucketCounts first, BucketCounts second) {}

  /**
   * What one level of bucketing generated before the pHash and colour limits: pairs (a pair once
   * per key it shares; all-pairs and star), star pairs alone, buckets above the cap.
   */
  record BucketCounts(long pairs, long starPairs, long oversized) {}

  /** One level of bucketing: all-pairs within small buckets, a star over each oversized one. */
  private record Level(Dataset<Row> pairs, Dataset<Row> oversized, BucketCounts counts) {}

  /**
   * Pairs of images that share a {@link CandidateKeys key} and whose pHash and colour grid are
   * close enough to be worth a thumbnail comparison. A key's bucket of at most {@code cap} images
   * is compared all-pairs (at most cap²/2 pairs, so candidates per image are bounded by keys × cap
   * whatever the data).
   *
   * <p>A larger bucket (a coarse layout many distinct images share, or 20,000 re-encodings of one
   * placeholder image) is split deterministically: each member enters one sub-bucket per other
   * oversized key it has, keyed by the pair of keys, and sub-buckets of at most {@code cap} are
   * compared all-pairs. Two copies of one image share several keys (a crop moves some of them,
   * rarely all but one), two distinct images of a common layout rarely share a second. A member of
   * an oversized bucket is also compared with the bucket's representative (its smallest node), and
   * so is a member of an oversized sub-bucket: a linear star, which connected components closes
   * into one cluster, so heavy clusters cost one pair per copy and key.
   *
   * <p>Each key row carries its image's pHash and colour grid (56 bytes), so the limits apply where
   * a bucket's pairs are formed: only the pairs within them are shuffled again (to merge a pair
   * found under several keys), a few percent of the generated ones.
   *
   * <p>Sizes: a node has at most {@value CandidateKeys#MAX_KEYS} keys, so at most that many
   * first-level and {@value CandidateKeys#MAX_KEYS} × ({@value CandidateKeys#MAX_KEYS} − 1) / 2
   * sub-bucket memberships; pairs are bounded by memberships × cap. No task holds a whole bucket:
   * bucket sizes are counted by a partially aggregated group-by (one partial count per key and
   * input partition), the all-pairs join runs only on buckets of at most {@code cap} images, and
   * the star joins have one row per key on their small side, so adaptive query execution splits a
   * skewed key's partition (its skew-join handling).
   */
  static Candidates candidates(
      Dataset<Row> nodes, int cap, int phashDistance, int starPhashDistance) {
    Dataset<Row> keyed = nodes.select(col("id"), explode(col("k")).as("key"), col("h"), col("c"));
    Dataset<Row> signatures =
        nodes.select(col("id").as("rid"), col("h").as("hr"), col("c").as("cr"));
    Level level1 = level(keyed, signatures, cap, phashDistance, starPhashDistance);
    // Sub-buckets pair two oversized keys of a node: a pair that shares a key of a small bucket is
    // a candidate there already.
    Dataset<Row> members =
        keyed
            .join(level1.oversized().select(col("okey")), col("key").equalTo(col("okey")))
            .groupBy("id")
            .agg(collect_list(col("key")).as("ok"), first("h").as("h"), first("c").as("c"))
            .filter(size(col("ok")).geq(2));
    Dataset<Row> sub =
        members
            .select(col("id"), col("h"), col("c"), explode(col("ok")).as("k1"), col("ok"))
            .select(col("id"), col("h"), col("c"), col("k1"), explode(col("ok")).as("k2"))
            .filter(col("k1").lt(col("k2")))
            .select(col("id"), xxhash64(col("k1"), col("k2")).as("key"), col("h"), col("c"));
    Level level2 = level(sub, signatures, cap, phashDistance, starPhashDistance);
    // A pair found under several keys, levels or as a star is compared once.
    Dataset<Row> pairs = level1.pairs().union(level2.pairs()).distinct();
    return new Candidates(pairs, level1.counts(), level2.counts());
  }

  private static Level level(
      Dataset<Row> keyed,
      Dataset<Row> signatures,
      int cap,
      int phashDistance,
      int starPhashDistance) {
    Dataset<Row> sizes =
        Checkpoints.cut(
            keyed
                .groupBy("key")
                .agg(count(lit(1)).as("n"), min("id").as("rep"))
                .filter(col("n").gt(1)));
    Row counted =
        sizes
            .agg(
                sum(when(col("n").leq(cap), col("n").multiply(col("n").minus(1)).divide(2)))
                    .cast("long"),
                sum(when(col("n").gt(cap), col("n").minus(1))).cast("long"),
                count(when(col("n").gt(cap), lit(1))))
            .first();
    long all = counted.isNullAt(0) ? 0 : counted.getLong(0);
    long star = counted.isNullAt(1) ? 0 : counted.getLong(1);
    BucketCounts counts = new BucketCounts(all + star, star, counted.getLong(2));
    Dataset<Row> oversized =
        sizes.filter(col("n").gt(cap)).select(col("key").as("okey"), col("rep"));
    Dataset<Row> small =
        keyed.join(
            sizes.filter(col("n").leq(cap)).select(col("key").as("skey")),
            col("key").equalTo(col("skey")));
    Dataset<Row> a =
        small.select(
            col("id").as("src"), col("key").as("ka"), col("h").as("ha"), col("c").as("ca"));
    Dataset<Row> b =
        small.select(
            col("id").as("dst"), col("key").as("kb"), col("h").as("hb"), col("c").as("cb"));
    Dataset<Row> within =
        a.join(b, col("ka").equalTo(col("kb")).and(col("src").lt(col("dst"))))
            .filter(
                CandidateFilter.close(col("ha"), col("hb"), col("ca"), col("cb"), phashDistance))
            .select(col("src"), col("dst"));
    Dataset<Row> stars =
        keyed
            .join(
                oversized.join(signatures, col("rep").equalTo(col("rid"))),
                col("key").equalTo(col("okey")))
            .filter(col("id").notEqual(col("rep")))
            .filter(
                CandidateFilter.close(col("h"), col("hr"), col("c"), col("cr"), starPhashDistance))
            .select(
                least(col("id"), col("rep")).as("src"), greatest(col("id"), col("rep")).as("dst"));
    return new Level(within.union(stars), oversized, counts);
  }
}
