package io.sparkclip.jobs.semdedup;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * A b-ary hierarchical (tree) spherical k-means over embeddings in Spark, built breadth first: a
 * node with more rows than its leaf budget allows is split into at most {@code b} children by a
 * small k-means trained on a bounded sample of the node's rows (at most {@value #SAMPLE_PER_CHILD}
 * per child), and each row moves to its nearest child centre. A row therefore costs {@code b ×
 * depth} dot products, depth ≈ log_b(rows / leaf size), and one level is two passes over the cached
 * rows (sample, then assign and count), so building the tree is O(rows × b × depth) — near-linear —
 * where a flat k-means with k = rows / 1,000 is O(rows × k).
 *
 * <p>Leaf budget: the root gets {@code budget} leaves (the requested k, or rows / leaf size), a
 * split hands each non-empty child one leaf plus a share of the rest proportional to its rows, and
 * a node with a budget of one is a leaf. Any node above the cap ({@value #LEAF_CAP_FACTOR} × the
 * target leaf size) is split again whatever its budget, so a lopsided split cannot leave a huge
 * leaf.
 *
 * <p>Skew guard: a node above the cap that k-means cannot split (its sample has one direction only,
 * k-means sent every row to one child, or the tree is {@code maxDepth} deep) is cut into chunks of
 * about the cap along its principal direction, at sample quantiles; if even that moves every row to
 * one chunk (all rows project alike), by a hash of the row id. Chunks are final. The guard keeps
 * every leaf, and so the within-leaf all-pairs step, bounded; it costs the duplicate pairs that
 * straddle a cut, and the result counts the pairs it leaves uncompared.
 *
 * <p>Spill: a row (not a guest) within {@code reach} of the boundary between its child and another
 * also goes, as a guest copy, to that other child (the nearest such, once per level); guests
 * descend by their nearest centre only. Rows therefore have at most 1 + depth copies, and a pair of
 * duplicates that the first split between them would part meets in a leaf when the spill reaches
 * that far. Counts, leaf sizes and pairs include the guests; training samples do not.
 *
 * <p>Only bounded data reaches the driver: the node row counts and the centres; samples are trained
 * on executors, each node's sample in one task. Assignment is a map over the rows with the level's
 * centres broadcast.
 */
final class ClusterTree {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterTree.class);

  /** Training rows per child centre a node samples at most (so ≤ 16 × 128 = 2,048 at b = 16). */
  static final int SAMPLE_PER_CHILD = 128;

  /** A leaf may hold at most this many times the target rows per leaf before it is split again. */
  static final int LEAF_CAP_FACTOR = 4;

  /** Sample rows of one node, at most (k-means or a cut). */
  static final int MAX_SAMPLE = 8192;

  /** Power-iteration rounds for a principal direction. */
  static final int POWER_ROUNDS = 20;

  /**
   * A row of the tree: its node id and its embedding (any positive length, not normalised). A guest
   * is a copy of a row that lies near a split boundary, placed on the other side too so that its
   * duplicates there meet it; guests are compared but do not train, spill or count as the row's
   * leaf.
   */
  record Point(long id, float[] vec, boolean guest) implements Serializable {
    Point(long id, float[] vec) {
      this(id, vec, false);
    }

    Point asGuest() {
      return new Point(id, vec, true);
    }
  }

  /** How a node hands its rows to its children. */
  interface Split extends Serializable {
    /**
     * Sets {@code out[0]} to the row's child and {@code out[1]} to a second child the row also
     * joins because it lies within {@code reach} (a distance between unit vectors) of that child's
     * side, or -1; {@code reach = 0} never spills.
     */
    void route(Point p, double reach, int[] out);

    int[] children();
  }

  /**
   * The child whose centre has the largest dot product with the row (cosine, as all are unit). A
   * row x with best centre b is closer to centre j's side than {@code reach} when (x·c_b − x·c_j) ≤
   * reach·|c_b − c_j|: a row y on j's side (y·c_j ≥ y·c_b) at distance |x − y| ≤ reach gives
   * exactly that bound, so with reach = sqrt(2ε), the distance of unit vectors at cosine 1 − ε, no
   * duplicate pair could straddle the split unseen.
   */
  static final class CentreSplit implements Split {
    private final float[][] centres;
    private final int[] children;
    private final float[][] gaps; // |c_i − c_j|

    CentreSplit(float[][] centres, int[] children) {
      this.centres = centres;
      this.children = children;
      int k = centres.length;
      gaps = new float[k][k];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
          gaps[i][j] =
              (float) Math.sqrt(Math.max(0, 2 - 2 * SphericalKMeans.dot(centres[i], centres[j])));
        }
      }
    }

    @Override
    public void route(Point p, double reach, int[] out) {
      float[] v = p.vec();
      int k = centres.length;
      double[] s = new double[k];
      int best = 0;
      for (int j = 0; j < k; j++) {
        s[j] = SphericalKMeans.dot(centres[j], v);
        if (s[j] > s[best]) {
          best = j;
        }
      }
      out[0] = children[best];
      out[1] = -1;
      if (reach <= 0) {
        return;
      }
      double norm = Math.sqrt(SphericalKMeans.dot(v, v));
      double closest = 1;
      for (int j = 0; j < k; j++) {
        double bound = reach * gaps[best][j];
        if (j != best && bound > 0) {
          double r = (s[best] - s[j]) / norm / bound;
          if (r <= closest) {
            closest = r;
            out[1] = children[j];
          }
        }
      }
    }

    @Override
    public int[] children() {
      return children;
    }

    float[][] centres() {
      return centres;
    }
  }

  /**
   * The skew guard for a node k-means cannot split: runs of the rows' cosine with the node's
   * principal direction, cut at sample quantiles; near-duplicates have nearly the same projection
   * (they differ by at most their distance), so few of their pairs straddle a cut, and a row within
   * {@code reach} of a cut also joins the run on its other side.
   */
  record CutSplit(float[] direction, float[] thresholds, int[] children) implements Split {
    @Override
    public void route(Point p, double reach, int[] out) {
      float[] v = p.vec();
      double norm = Math.sqrt(SphericalKMeans.dot(v, v));
      double x = norm > 0 ? SphericalKMeans.dot(v, direction) / norm : 0;
      int lo = 0;
      int hi = thresholds.length;
      while (lo < hi) { // the number of cut points ≤ x
        int mid = (lo + hi) >>> 1;
        if (thresholds[mid] <= x) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      out[0] = children[lo];
      out[1] = -1;
      double below = lo > 0 ? x - thresholds[lo - 1] : Double.POSITIVE_INFINITY;
      double above = lo < thresholds.length ? thresholds[lo] - x : Double.POSITIVE_INFINITY;
      if (Math.min(below, above) <= reach) {
        out[1] = children[below <= above ? lo - 1 : lo + 1];
      }
    }
  }

  /** The last resort: chunks by a hash of the row id, independent of the embedding; no spill. */
  record HashSplit(int[] children, long seed) implements Split {
    @Override
    public void route(Point p, double reach, int[] out) {
      out[0] = children[(int) Math.floorMod(mix(p.id() ^ seed), (long) children.length)];
      out[1] = -1;
    }
  }

  /** What one node's sample gave: k-means centres, or a direction and cut points. */
  record Trained(int node, int sample, float[][] centres, float[] direction, float[] thresholds)
      implements Serializable {}

  /**
   * @param reach a row this close (distance of unit vectors) to a split boundary also joins the
   *     child on the other side (once per level, not for guests); 0 = never
   */
  record Params(
      int budget,
      int branching,
      int maxDepth,
      int iterations,
      double trainFraction,
      long seed,
      double reach) {}

  /** One node as the driver sees it. */
  static final class Node {
    final int id;
    final int depth;
    final long rows;
    int budget;
    Split split;

    /** A chunk of a guard split (cut or hash): final, never split again. */
    final boolean chunk;

    /** k-means moved all of the parent's rows here: only a cut can make progress. */
    boolean stuck;

    /** A cut moved all of the parent's rows here: only the row hash can make progress. */
    boolean hashNext;

    Node(int id, int depth, long rows, int budget, boolean chunk) {
      this.id = id;
      this.depth = depth;
      this.rows = rows;
      this.budget = budget;
      this.chunk = chunk;
    }

    boolean leaf() {
      return split == null;
    }
  }

  /**
   * The built tree.
   *
   * @param rows (leaf index, row): every row with its dense leaf index 0..leaves-1, and the guest
   *     copies of rows near a boundary in the leaves they spilled to; backed by a cached RDD,
   *     {@link #release()} drops it
   * @param leafRows rows per leaf (guests included), by leaf index
   */
  record Result(
      JavaPairRDD<Integer, Point> rows,
      long[] leafRows,
      int depth,
      int levels,
      int centreSplits,
      int guardSplits,
      int hashSplits,
      long pairsSkippedByGuard,
      long largestSample,
      JavaPairRDD<Integer, Point> cached) {
    long largestLeaf() {
      long m = 0;
      for (long r : leafRows) {
        m = Math.max(m, r);
      }
      return m;
    }

    long pairsCompared() {
      long p = 0;
      for (long r : leafRows) {
        p += r * (r - 1) / 2;
      }
      return p;
    }

    /** (leaf index, row) of every row once: its own leaf, without the guests. */
    JavaPairRDD<Integer, Point> primaries() {
      return rows.filter(t -> !t._2().guest());
    }

    long copies() {
      long c = 0;
      for (long r : leafRows) {
        c += r;
      }
      return c;
    }

    void release() {
      cached.unpersist(false);
    }
  }

  private ClusterTree() {}

  /** Rows per leaf the tree aims for, and the cap above which a node is always split again. */
  static long cap(long rows, int budget) {
    double target = (double) rows / Math.max(1, budget);
    return Math.max(2, (long) Math.ceil(LEAF_CAP_FACTOR * target));
  }

  /**
   * @param points the rows to cluster, each once, with embeddings of one length
   * @param rows their number
   */
  static Result build(JavaRDD<Point> points, long rows, Params p, int partitions) {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(points.context());
    long cap = cap(rows, p.budget());
    double target = (double) rows / Math.max(1, p.budget());
    Map<Integer, Node> nodes = new TreeMap<>();
    int[] nextId = {1};
    Node root = new Node(0, 0, rows, Math.max(1, p.budget()), false);
    nodes.put(0, root);
    JavaPairRDD<Integer, Point> cur =
        points.mapToPair(pt -> new Tuple2<>(0, pt)).persist(StorageLevel.MEMORY_AND_DISK());
    List<Node> open = new ArrayList<>();
    if (wantsSplit(root, cap)) {
      open.add(root);
    }
    Stats st = new Stats();
    while (!open.isEmpty()) {
      Map<Integer, Split> splits = new HashMap<>();
      Map<Integer, double[]> plan = new HashMap<>(); // node → {sample probability, k, cut into}
      for (Node n : open) {
        boolean kmeans = n.depth < p.maxDepth() && !n.stuck;
        if (!kmeans && n.rows <= cap) {
          continue; // deep enough and within the cap: a leaf
        }
        int cut = n.rows > cap ? (int) Math.max(2, (n.rows + cap - 1) / cap) : 0;
        if (n.hashNext) {
          splits.put(n.id, hashSplit(n, cut, nextId, p.seed()));
          continue;
        }
        int k = kmeans ? (int) Math.min(Math.min(p.branching(), n.budget), n.rows) : 0;
        // A k-means node samples for its k centres; should k-means fail, the cut uses that sample.
        int parts = k >= 2 ? k : cut;
        double s = Math.min(MAX_SAMPLE, (double) SAMPLE_PER_CHILD * parts);
        double prob = Math.min(p.trainFraction(), s / n.rows);
        prob = Math.min(1, Math.max(prob, 4.0 * parts / n.rows));
        plan.put(n.id, new double[] {prob, k, cut});
      }
      if (!plan.isEmpty()) {
        List<Trained> trained = train(cur, plan, p, partitions, sc);
        for (Trained t : trained) {
          plan.remove(t.node());
        }
        for (Integer id : plan.keySet()) {
          // No row of the node was drawn (a chance of about e^-8): cut it if it must be cut.
          Node n = nodes.get(id);
          if (n.rows > cap) {
            splits.put(id, hashSplit(n, (int) ((n.rows + cap - 1) / cap), nextId, p.seed()));
          }
        }
        for (Trained t : trained) {
          Node n = nodes.get(t.node());
          st.largestSample = Math.max(st.largestSample, t.sample());
          if (t.centres() != null && t.centres().length >= 2) {
            splits.put(n.id, new CentreSplit(t.centres(), ids(t.centres().length, nextId)));
          } else if (t.thresholds() != null && t.thresholds().length >= 1) {
            splits.put(
                n.id,
                new CutSplit(
                    t.direction(), t.thresholds(), ids(t.thresholds().length + 1, nextId)));
            LOG.warn(
                "semdedup: cluster tree node {} ({} rows, depth {}) is not split by k-means;"
                    + " cut into {} chunks along its principal direction",
                n.id,
                n.rows,
                n.depth,
                t.thresholds().length + 1);
          } else if (n.rows > cap) {
            splits.put(n.id, hashSplit(n, (int) ((n.rows + cap - 1) / cap), nextId, p.seed()));
          }
          // else: one direction only and the node fits: it stays a leaf.
        }
      }
      open = new ArrayList<>();
      if (splits.isEmpty()) {
        break;
      }
      st.levels++;
      Broadcast<Map<Integer, Split>> bs = sc.broadcast(splits);
      double reach = p.reach();
      JavaPairRDD<Integer, Point> next =
          cur.flatMapToPair(
                  t -> {
                    Split s = bs.value().get(t._1());
                    if (s == null) {
                      return List.of(t).iterator();
                    }
                    int[] r = new int[2];
                    s.route(t._2(), t._2().guest() ? 0 : reach, r);
                    return r[1] < 0
                        ? List.of(new Tuple2<>(r[0], t._2())).iterator()
                        : List.of(new Tuple2<>(r[0], t._2()), new Tuple2<>(r[1], t._2().asGuest()))
                            .iterator();
                  })
              .persist(StorageLevel.MEMORY_AND_DISK());
      Map<Integer, Long> counts =
          new HashMap<>(next.mapValues(pt -> 1L).reduceByKey(Long::sum, partitions).collectAsMap());
      cur.unpersist(false);
      cur = next;
      for (Map.Entry<Integer, Split> e : splits.entrySet()) {
        open.addAll(children(nodes, nodes.get(e.getKey()), e.getValue(), counts, cap, target, st));
      }
      LOG.info(
          "semdedup: cluster tree level {}: {} nodes split, {} to split next",
          st.levels,
          splits.size(),
          open.size());
      // bs stays: the cached levels' lineage refers to it (a lost block is recomputed through it).
    }
    Map<Integer, Integer> leafIndex = new LinkedHashMap<>();
    List<Long> leafRows = new ArrayList<>();
    int depth = 0;
    for (Node n : nodes.values()) {
      if (n.leaf() && n.rows > 0) {
        leafIndex.put(n.id, leafIndex.size());
        leafRows.add(n.rows);
        depth = Math.max(depth, n.depth);
      }
    }
    Broadcast<Map<Integer, Integer>> bl = sc.broadcast(leafIndex);
    JavaPairRDD<Integer, Point> byLeaf =
        cur.mapToPair(t -> new Tuple2<>(bl.value().get(t._1()), t._2()));
    return new Result(
        byLeaf,
        leafRows.stream().mapToLong(Long::longValue).toArray(),
        depth,
        st.levels,
        st.centreSplits,
        st.guardSplits,
        st.hashSplits,
        st.skipped,
        st.largestSample,
        cur);
  }

  /** Counters of a build. */
  private static final class Stats {
    int levels;
    int centreSplits;
    int guardSplits;
    int hashSplits;
    long skipped;
    long largestSample;
  }

  /**
   * The children of a node just split, as nodes with their row counts and budgets; returns those to
   * split next.
   */
  private static List<Node> children(
      Map<Integer, Node> nodes,
      Node parent,
      Split split,
      Map<Integer, Long> counts,
      long cap,
      double target,
      Stats st) {
    parent.split = split;
    boolean guard = !(split instanceof CentreSplit);
    if (split instanceof CentreSplit) {
      st.centreSplits++;
    } else {
      st.guardSplits++;
      if (split instanceof HashSplit) {
        st.hashSplits++;
      }
    }
    List<Node> kids = new ArrayList<>();
    for (int c : split.children()) {
      long r = counts.getOrDefault(c, 0L);
      if (r > 0) {
        kids.add(new Node(c, parent.depth + 1, r, 1, guard));
      }
    }
    if (guard) {
      long within = 0;
      for (Node k : kids) {
        within += k.rows * (k.rows - 1) / 2;
      }
      st.skipped += parent.rows * (parent.rows - 1) / 2 - within;
    } else {
      shareBudget(parent.budget, kids);
    }
    List<Node> open = new ArrayList<>();
    for (Node k : kids) {
      nodes.put(k.id, k);
      boolean all = k.rows == parent.rows;
      if (k.chunk) {
        if (all && k.rows > cap && split instanceof CutSplit) {
          // Every row projects to the same chunk: only the row hash can cut it.
          k.hashNext = true;
          open.add(k);
        }
        continue;
      }
      if (k.rows > cap) {
        k.budget = (int) Math.max(k.budget, Math.ceil(k.rows / target));
      }
      if (!wantsSplit(k, cap)) {
        continue;
      }
      if (all) {
        // k-means moved every row to one child: splitting it again would do the same.
        if (k.rows <= cap) {
          continue;
        }
        k.stuck = true;
      }
      open.add(k);
    }
    return open;
  }

  /**
   * Trains the splits of the planned nodes on executors: each node's sample (rows drawn with the
   * node's probability by a hash of the row id) goes to one task, which runs k-means, or, for a
   * node to cut (or whose k-means finds one direction only while it is above the cap), a principal
   * direction cut.
   */
  private static List<Trained> train(
      JavaPairRDD<Integer, Point> cur,
      Map<Integer, double[]> plan,
      Params p,
      int partitions,
      JavaSparkContext sc) {
    Broadcast<Map<Integer, double[]>> b = sc.broadcast(plan);
    long seed = p.seed();
    int iterations = p.iterations();
    List<Trained> trained =
        cur.filter(
                t -> {
                  double[] pl = b.value().get(t._1());
                  return pl != null
                      && !t._2().guest()
                      && uniform(seed, t._1(), t._2().id()) < pl[0];
                })
            .groupByKey(Math.max(1, Math.min(plan.size(), partitions)))
            .map(
                g -> {
                  List<Point> sample = new ArrayList<>();
                  g._2().forEach(sample::add);
                  sample.sort(Comparator.comparingLong(Point::id));
                  float[][] x = new float[sample.size()][];
                  for (int i = 0; i < x.length; i++) {
                    x[i] = SphericalKMeans.unit(sample.get(i).vec());
                  }
                  double[] pl = b.value().get(g._1());
                  long nodeSeed = mix(seed ^ mix(g._1() + 0x5EED));
                  int k = (int) pl[1];
                  int cut = (int) pl[2];
                  if (k >= 2) {
                    float[][] c = SphericalKMeans.train(x, k, iterations, nodeSeed);
                    if (c.length >= 2 || cut == 0) {
                      return new Trained(g._1(), x.length, c, null, null);
                    }
                  }
                  float[] dir = principalDirection(x, nodeSeed);
                  return new Trained(g._1(), x.length, null, dir, quantiles(x, dir, cut));
                })
            .collect();
    b.destroy();
    return trained;
  }

  private static int[] ids(int n, int[] nextId) {
    int[] children = new int[n];
    for (int i = 0; i < n; i++) {
      children[i] = nextId[0]++;
    }
    return children;
  }

  /**
   * The sample's direction of largest variance, by power iteration on the centred rows (cost {@code
   * n × d} per round); null if the sample has no variance.
   */
  static float[] principalDirection(float[][] x, long seed) {
    if (x.length < 2) {
      return null;
    }
    int d = x[0].length;
    double[] mean = new double[d];
    for (float[] v : x) {
      for (int j = 0; j < d; j++) {
        mean[j] += v[j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= x.length;
    }
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    double[] dir = new double[d];
    for (int j = 0; j < d; j++) {
      dir[j] = r.nextDouble() - 0.5;
    }
    double norm = 0;
    for (int round = 0; round < POWER_ROUNDS; round++) {
      double[] w = new double[d];
      for (float[] v : x) {
        double s = 0;
        for (int j = 0; j < d; j++) {
          s += (v[j] - mean[j]) * dir[j];
        }
        for (int j = 0; j < d; j++) {
          w[j] += s * (v[j] - mean[j]);
        }
      }
      norm = 0;
      for (double v : w) {
        norm += v * v;
      }
      if (!(norm > 0)) {
        return null;
      }
      double inv = 1 / Math.sqrt(norm);
      for (int j = 0; j < d; j++) {
        dir[j] = w[j] * inv;
      }
    }
    float[] out = new float[d];
    for (int j = 0; j < d; j++) {
      out[j] = (float) dir[j];
    }
    return out;
  }

  /** Strictly increasing cut points that part the sample's projections into {@code m} runs. */
  static float[] quantiles(float[][] x, float[] dir, int m) {
    if (dir == null || m < 2) {
      return null;
    }
    float[] proj = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      proj[i] = (float) SphericalKMeans.dot(x[i], dir);
    }
    java.util.Arrays.sort(proj);
    List<Float> cuts = new ArrayList<>();
    for (int j = 1; j < m; j++) {
      float t = proj[(int) ((long) j * proj.length / m)];
      if (t > proj[0] && (cuts.isEmpty() || t > cuts.get(cuts.size() - 1))) {
        cuts.add(t);
      }
    }
    float[] out = new float[cuts.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = cuts.get(i);
    }
    return out;
  }

  private static boolean wantsSplit(Node n, long cap) {
    return !n.chunk && n.rows >= 2 && (n.budget >= 2 || n.rows > cap);
  }

  private static HashSplit hashSplit(Node n, int m, int[] nextId, long seed) {
    LOG.warn(
        "semdedup: cluster tree node {} ({} rows, depth {}) cannot be split by its embeddings;"
            + " cut into {} chunks by row hash",
        n.id,
        n.rows,
        n.depth,
        m);
    return new HashSplit(ids(Math.max(2, m), nextId), mix(seed + n.id));
  }

  /**
   * Each non-empty child gets one leaf, and the parent's budget beyond that goes to the children in
   * proportion to their rows (largest remainder).
   */
  static void shareBudget(int budget, List<Node> kids) {
    int extra = budget - kids.size();
    long total = kids.stream().mapToLong(k -> k.rows).sum();
    if (extra <= 0 || total == 0) {
      return;
    }
    double[] rem = new double[kids.size()];
    int given = 0;
    for (int i = 0; i < kids.size(); i++) {
      double share = (double) extra * kids.get(i).rows / total;
      int whole = (int) Math.floor(share);
      kids.get(i).budget += whole;
      rem[i] = share - whole;
      given += whole;
    }
    while (given < extra) {
      int best = 0;
      for (int i = 1; i < rem.length; i++) {
        if (rem[i] > rem[best]) {
          best = i;
        }
      }
      kids.get(best).budget++;
      rem[best] = -1;
      given++;
    }
  }

  /** A uniform draw in [0, 1) from (seed, node, row): the same row is sampled the same way. */
  static double uniform(long seed, int node, long row) {
    long h = mix(mix(seed ^ 0x9E3779B97F4A7C15L) + node * 0xBF58476D1CE4E5B9L + row);
    return (h >>> 11) * 0x1.0p-53;
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
