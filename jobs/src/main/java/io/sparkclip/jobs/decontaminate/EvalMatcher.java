package io.sparkclip.jobs.decontaminate;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;

import io.sparkclip.jobs.stage.Checkpoints;
import io.sparkclip.jobs.stage.RowIds;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.copydetect.CandidateFilter;
import io.sparkclip.jobs.stage.copydetect.CandidateKeys;
import io.sparkclip.jobs.stage.copydetect.CropTolerantThumbnail;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/**
 * Which pool images are copies of which evaluation images: a bipartite search, pool × eval, with
 * the copy detection dedup's near-image step uses (candidate keys, pHash and colour limits, the
 * crop-aligned thumbnail distance).
 *
 * <p>Candidates: a pool image and an eval image that share a {@link CandidateKeys key}. The eval
 * side bounds the work: a key held by more than {@code cap} eval images (a layout common in the
 * eval set, such as objects on white) is replaced, for the images holding it, by sub-keys, one per
 * pair of such keys they hold (two copies of one image share several keys; two distinct images of a
 * common layout rarely share two); a sub-key still held by more than {@code cap} eval images is
 * dropped and counted. So each pool image meets at most {@code cap} eval images per key, at most
 * {@value CandidateKeys#MAX_KEYS} + {@value CandidateKeys#MAX_KEYS}·({@value
 * CandidateKeys#MAX_KEYS}−1)/2 keys: the cost is linear in the pool whatever the data, and a key
 * shared by millions of pool images costs a lookup each.
 *
 * <p>The eval side also holds, for each pHash band, the band values one bit away (64 more keys):
 * the pool side's exact band keys then meet eval images up to 7 pHash bits away for certain, the
 * work of a multi-probe LSH done on the small side.
 *
 * <p>Joins: the eval key table (at most {@value CandidateKeys#MAX_KEYS} + 64 rows per eval image
 * after capping, about 40 bytes each) is broadcast up to {@link #BROADCAST_EVAL_KEYS} rows, so the
 * pool is never shuffled by key and no task holds a hot key's pool rows; above it the join shuffles
 * and adaptive execution splits skewed partitions. Candidate pairs, a small fraction of the pool,
 * are joined to the pool's thumbnails (broadcast when few) and to the eval thumbnails (broadcast up
 * to {@link #BROADCAST_THUMBNAIL_BYTES}).
 */
final class EvalMatcher {
  /** Largest eval key table broadcast to the pool's keys. */
  static final long BROADCAST_EVAL_KEYS = 4_000_000;

  /** Largest candidate pair count broadcast to the pool's thumbnails. */
  static final long BROADCAST_CANDIDATES = 2_000_000;

  /** Largest eval thumbnail table broadcast to the candidate pairs. */
  static final long BROADCAST_THUMBNAIL_BYTES = 64L << 20;

  // Columns of the pool frame the matcher reads.
  static final String PHASH = "_pool_h";
  static final String COLOUR = "_pool_c";
  static final String THUMB = "_pool_t";
  static final String KEYS = "_pool_k";

  private final SparkSession spark;
  private final DecontaminateJob.Options options;

  EvalMatcher(SparkSession spark, DecontaminateJob.Options options) {
    this.spark = spark;
    this.options = options;
  }

  /**
   * Every confirmed (pool row, eval item) pair. {@code pool} has the row id, uid and {@link
   * #PHASH}, {@link #COLOUR}, {@link #THUMB}, {@link #KEYS} (null where there is no decodable
   * image); {@code eval} is {@link EvalSets.Signed#signatures()}.
   */
  Dataset<Row> match(Dataset<Row> pool, Dataset<Row> eval, Map<String, Object> d) {
    int cap = options.bucketCap();
    Sparks.describe(spark, Stages.DECONTAMINATE, "eval keys");
    // The eval side also holds its pHash bands one bit away (the pool side only its own): a pair
    // within 7 bits then shares a band key by pigeonhole, within 8-11 bits most often.
    UserDefinedFunction withNeighbours =
        udf(
            (UDF2<scala.collection.immutable.Seq<Object>, Long, long[]>)
                (ks, h) -> withBandNeighbours(toLongs(ks), h),
            DataTypes.createArrayType(DataTypes.LongType, false));
    Dataset<Row> evalWithNeighbours =
        eval.withColumn(
            EvalSets.KEYS, withNeighbours.apply(col(EvalSets.KEYS), col(EvalSets.PHASH)));
    Dataset<Row> evalKeyed =
        evalWithNeighbours.select(col(EvalSets.IX), explode(col(EvalSets.KEYS)).as("key"));
    long[] oversized = heldByMore(evalKeyed, cap);
    Broadcast<long[]> hot =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(oversized);
    UserDefinedFunction effective =
        udf(
            (UDF1<scala.collection.immutable.Seq<Object>, long[]>)
                ks -> effectiveKeys(toLongs(ks), hot.value()),
            DataTypes.createArrayType(DataTypes.LongType, false));
    Dataset<Row> evalEffective =
        evalWithNeighbours.select(
            col(EvalSets.IX),
            explode(effective.apply(col(EvalSets.KEYS))).as("key"),
            col(EvalSets.PHASH),
            col(EvalSets.COLOUR));
    Dataset<Row> sizes = Checkpoints.cut(evalEffective.groupBy("key").agg(count(lit(1)).as("n")));
    Dataset<Row> evalTable =
        Checkpoints.cut(
            evalEffective
                .join(
                    sizes.filter(col("n").leq(cap)).select(col("key").as("skey")),
                    col("key").equalTo(col("skey")))
                .select(
                    col("key").as("ekey"),
                    col(EvalSets.IX),
                    col(EvalSets.PHASH),
                    col(EvalSets.COLOUR)));
    long evalKeys = evalTable.count();
    long dropped = sizes.filter(col("n").gt(cap)).count();
    d.put("eval_keys_held_by_more_than_cap", oversized.length);
    d.put("eval_sub_keys_dropped", dropped);
    d.put("eval_key_rows", evalKeys);

    Sparks.describe(spark, Stages.DECONTAMINATE, "candidate pairs within pHash and colour limits");
    Dataset<Row> poolKeyed =
        pool.filter(col(KEYS).isNotNull())
            .select(
                col(RowIds.FILE),
                col(RowIds.ROW),
                explode(effective.apply(col(KEYS))).as("key"),
                col(PHASH),
                col(COLOUR));
    Dataset<Row> table = evalKeys <= BROADCAST_EVAL_KEYS ? broadcast(evalTable) : evalTable;
    int phashDistance = options.phashDistance();
    Dataset<Row> candidates =
        Checkpoints.cut(
            poolKeyed
                .join(table, col("key").equalTo(col("ekey")))
                .filter(
                    CandidateFilter.close(
                        col(PHASH),
                        col(EvalSets.PHASH),
                        col(COLOUR),
                        col(EvalSets.COLOUR),
                        phashDistance))
                .select(col(RowIds.FILE), col(RowIds.ROW), col(EvalSets.IX))
                .distinct());
    long compared = candidates.count();
    d.put("thumbnail_comparisons", compared);

    Sparks.describe(spark, Stages.DECONTAMINATE, "confirm candidates");
    Dataset<Row> small = compared <= BROADCAST_CANDIDATES ? broadcast(candidates) : candidates;
    String[] rowId = {RowIds.FILE, RowIds.ROW};
    Dataset<Row> withPool =
        pool.select(col(RowIds.FILE), col(RowIds.ROW), col(Columns.UID), col(THUMB))
            .join(small, rowId);
    Dataset<Row> evalThumbs =
        eval.select(
                col(EvalSets.IX).as("tix"),
                col(EvalSets.SET),
                col(EvalSets.ID),
                col(EvalSets.THUMB))
            .join(
                candidates.select(col(EvalSets.IX)).distinct(),
                col("tix").equalTo(col(EvalSets.IX)),
                "left_semi");
    long evalItems = evalThumbs.count();
    if (evalItems * CropTolerantThumbnail.BYTES <= BROADCAST_THUMBNAIL_BYTES) {
      evalThumbs = broadcast(evalThumbs);
    }
    double limit = options.imageDistance();
    UserDefinedFunction distanceWithin =
        udf(
            (UDF2<byte[], byte[], Double>)
                (x, y) ->
                    CropTolerantThumbnail.within(x, y, limit)
                        ? CropTolerantThumbnail.distance(x, y)
                        : null,
            DataTypes.DoubleType);
    Dataset<Row> matches =
        Checkpoints.cut(
            withPool
                .join(evalThumbs, col(EvalSets.IX).equalTo(col("tix")))
                .withColumn(
                    Columns.EVAL_DISTANCE, distanceWithin.apply(col(THUMB), col(EvalSets.THUMB)))
                .filter(col(Columns.EVAL_DISTANCE).isNotNull())
                .select(
                    col(RowIds.FILE),
                    col(RowIds.ROW),
                    col(Columns.UID),
                    col(EvalSets.SET),
                    col(EvalSets.ID),
                    col(EvalSets.IX),
                    col(Columns.EVAL_DISTANCE)));
    d.put("confirmed_pairs", matches.count());
    return matches;
  }

  /**
   * The closest eval item of each matched pool row (ties: eval set, then id): row id, uid, {@link
   * Columns#EVAL_SET}, {@link Columns#EVAL_ID}, {@link Columns#EVAL_DISTANCE}.
   */
  static Dataset<Row> closest(Dataset<Row> matches) {
    Dataset<Row> best =
        matches
            .groupBy(RowIds.FILE, RowIds.ROW)
            .agg(
                first(Columns.UID).as(Columns.UID),
                min(struct(col(Columns.EVAL_DISTANCE), col(EvalSets.SET), col(EvalSets.ID)))
                    .as("_m"));
    return best.select(
        col(RowIds.FILE),
        col(RowIds.ROW),
        col(Columns.UID),
        col("_m." + EvalSets.SET).as(Columns.EVAL_SET),
        col("_m." + EvalSets.ID).as(Columns.EVAL_ID),
        col("_m." + Columns.EVAL_DISTANCE).as(Columns.EVAL_DISTANCE));
  }

  /** Keys held by more than {@code cap} eval images, sorted. */
  private long[] heldByMore(Dataset<Row> evalKeyed, int cap) {
    // At most keys × eval images / cap values: tens of thousands for 100,000 eval images.
    List<Row> rows =
        evalKeyed
            .filter(col("key").notEqual(lit(NEIGHBOURS_MARK)))
            .groupBy("key")
            .agg(count(lit(1)).as("n"))
            .filter(col("n").gt(cap))
            .select("key")
            .collectAsList();
    long[] out = rows.stream().mapToLong(r -> r.getLong(0)).toArray();
    Arrays.sort(out);
    return out;
  }

  private static long[] toLongs(scala.collection.immutable.Seq<Object> s) {
    long[] out = new long[s.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (Long) s.apply(i);
    }
    return out;
  }

  /**
   * An eval image's keys and, after them, the band keys of every pHash one bit away within a band
   * (4 × 16), so that the pool's exact band keys meet them. Only the image's own keys pair into
   * sub-keys ({@link #effectiveKeys}); a neighbour key held by too many eval images is dropped.
   */
  static long[] withBandNeighbours(long[] keys, long phash) {
    long[] out = Arrays.copyOf(keys, keys.length + 64 + 1);
    out[keys.length] = NEIGHBOURS_MARK;
    int n = keys.length + 1;
    for (int band = 0; band < 4; band++) {
      long v = (phash >>> (16 * band)) & 0xFFFFL;
      for (int b = 0; b < 16; b++) {
        out[n++] = CandidateKeys.key(band, v ^ (1L << b));
      }
    }
    return out;
  }

  /**
   * Separates an image's own keys from the neighbour keys after it in {@link #withBandNeighbours}
   * (a value no key takes: keys carry their table, 0-5 or 0x7F, in the top byte).
   */
  static final long NEIGHBOURS_MARK = -1L;

  /**
   * The keys an image is looked up under: its keys that at most {@code cap} eval images hold, and a
   * sub-key for each pair of the others ({@code hot}, sorted); neighbour keys (after {@link
   * #NEIGHBOURS_MARK}) that are not hot, unpaired.
   */
  static long[] effectiveKeys(long[] all, long[] hot) {
    int mark = 0;
    while (mark < all.length && all[mark] != NEIGHBOURS_MARK) {
      mark++;
    }
    long[] own = ownEffectiveKeys(Arrays.copyOf(all, mark), hot);
    if (mark == all.length) {
      return own;
    }
    long[] out = Arrays.copyOf(own, own.length + all.length - mark - 1);
    int n = own.length;
    for (int i = mark + 1; i < all.length; i++) {
      if (Arrays.binarySearch(hot, all[i]) < 0) {
        out[n++] = all[i];
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static long[] ownEffectiveKeys(long[] keys, long[] hot) {
    long[] out = new long[keys.length + keys.length * (keys.length - 1) / 2];
    int n = 0;
    long[] held = new long[keys.length];
    int h = 0;
    for (long k : keys) {
      if (Arrays.binarySearch(hot, k) >= 0) {
        held[h++] = k;
      } else {
        out[n++] = k;
      }
    }
    Arrays.sort(held, 0, h);
    for (int i = 0; i < h; i++) {
      for (int j = i + 1; j < h; j++) {
        out[n++] = subKey(held[i], held[j]);
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** A 64-bit mix of two keys (a < b), in a table of its own (top byte 0x7F). */
  static long subKey(long a, long b) {
    long x = a * 0x9E3779B97F4A7C15L + Long.rotateLeft(b, 29) * 0xC2B2AE3D27D4EB4FL;
    x ^= x >>> 31;
    x *= 0xBF58476D1CE4E5B9L;
    x ^= x >>> 29;
    return (0x7FL << 56) | (x & 0x00FFFFFFFFFFFFFFL);
  }
}
