package io.sparkclip.jobs.stage;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.schemas.Errors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.concurrent.Await;
import scala.concurrent.duration.Duration;

/**
 * Connected components of an undirected graph, in Spark, by the alternating large-star / small-star
 * algorithm of Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014).
 *
 * <p>The state is a set of edges {@code u → v} with {@code v < u}. Large-star links every larger
 * neighbour of a node to the smallest node of its closed neighbourhood; small-star links a node and
 * its smaller neighbours to the smallest of them. Neither changes the components or adds edges, and
 * their alternation ends with every component a star centred on its smallest node, which is the
 * label.
 *
 * <p>Rounds: a hop-by-hop method such as label propagation needs one round per hop of a component's
 * diameter (about 2,000 for a chain of 2,000 near-duplicates). Here a round links nodes to the
 * smallest node of a whole neighbourhood, and the neighbourhoods grow round by round, so the rounds
 * grow with the logarithm of the component size whatever the graph's shape or node order: O(log² n)
 * proven by Kiveris et al., about log2 n observed. Measured: a path of 2,000 nodes takes 10 rounds
 * with shuffled ids and 12 with increasing ids, a random graph of 3,000 nodes 6, a star, a clique
 * or small clusters 2 to 4; paths of n nodes in any id order about log2(n) + 1. {@code
 * maxIterations} is therefore only a safety bound, and its default of 50 is far more than any
 * curation run needs (a path of a billion nodes would take about 31).
 *
 * <p>Round 0 reads the edges once (rows with a null end dropped, each edge as larger → smaller) and
 * cuts the lineage with a local checkpoint. Each round N is one Spark job: large-star, small-star,
 * local checkpoint of the new state. In the same pass the job counts the adjacency rows of nodes in
 * its input state that break the star shape (a node with a smaller neighbour and another
 * neighbour); when there are none, that input state is the answer, so the last round only confirms
 * it. That count and the state's row count are all that reaches the driver.
 *
 * <p>Partitions: each shuffle is sized from the row count it will move, with one partition per
 * million rows at least, and otherwise one per hundred thousand rows up to {@code
 * defaultParallelism}: a graph of a few thousand edges runs each round in one task per stage, not
 * {@code spark.sql.shuffle.partitions} (200 by default). Adaptive execution, on by default, also
 * coalesces small shuffles, but only on the reading side (every map task still writes 200 buckets),
 * only where it is enabled, and only for shuffles it plans itself; the explicit partitioning by
 * node is also what lets the de-duplication and the window of an operation share one shuffle.
 */
public final class ConnectedComponents {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectedComponents.class);

  public static final String NODE = "_cc_node";
  public static final String LABEL = "_cc_label";

  /** Fewer rows than this per shuffle partition cost more in task overhead than they compute. */
  static final long MIN_ROWS_PER_PARTITION = 100_000;

  /** A partition of this many edges (a few tens of MB) is sorted and grouped comfortably. */
  static final long MAX_ROWS_PER_PARTITION = 1_000_000;

  private static final String U = "_cc_u";
  private static final String V = "_cc_v";
  private static final String N = "_cc_n";
  private static final String NB = "_cc_nb";
  private static final String MIN = "_cc_min";
  private static final String DEGREE = "_cc_deg";

  /**
   * A graph of at most this many edges is labelled on the driver by union-find after round 0 read
   * and counted it (at most a few MB of node pairs): the distributed rounds cost about a second of
   * job overhead each, which on small graphs is all they cost.
   */
  static final long LOCAL_EDGES = 50_000;

  /**
   * And at most this many bytes of node values (string nodes, captions in near-caption dedup, can
   * be long): the edges, their widest node as wide as any, must fit in a few tens of MB.
   */
  static final long LOCAL_BYTES = 64L << 20;

  /** How long the driver waits for a finished job's counts; they arrive with the job's end. */
  private static final Duration METRICS_WAIT = Duration.create(10, TimeUnit.MINUTES);

  private ConnectedComponents() {}

  /**
   * What one call computed and what it took.
   *
   * @param labels as {@link #of}
   * @param rounds large-star / small-star rounds run, the confirming last one included
   * @param edges input edges with both ends non-null (self-loops and duplicates included)
   * @param partitions partitions of each round's large-star shuffle, in order (small-star's moves
   *     at most half as many rows)
   */
  record Result(Dataset<Row> labels, int rounds, long edges, List<Integer> partitions) {}

  /**
   * @param edges two columns {@code src}, {@code dst} of one orderable type (longs and strings are
   *     what callers pass); rows with a null end are ignored
   * @param maxIterations rounds after which the call fails with DEDUP_NOT_CONVERGED
   * @return one row per node that has an edge: {@value #NODE}, {@value #LABEL} (the smallest node
   *     of its component)
   */
  public static Dataset<Row> of(
      SparkSession spark, Dataset<Row> edges, String job, int maxIterations) {
    return run(spark, edges, job, maxIterations, LOCAL_EDGES).labels();
  }

  /** As {@link #of}, with graphs of at most {@code localEdges} edges labelled on the driver. */
  static Result run(
      SparkSession spark, Dataset<Row> edges, String job, int maxIterations, long localEdges) {
    Sparks.describe(spark, job, "connected components, round 0");
    Observation read = new Observation("cc_edges");
    Dataset<Row> canonical =
        Checkpoints.cut(
            edges
                .filter(col("src").isNotNull().and(col("dst").isNotNull()))
                .select(greatest(col("src"), col("dst")).as(U), least(col("src"), col("dst")).as(V))
                .observe(
                    read,
                    count(lit(1)).as("rows"),
                    count(when(col(U).equalTo(col(V)), true)).as("loops"),
                    max(length(col(U).cast("string"))).as("width")));
    Map<String, Object> readCounts = counts(read);
    long edgeCount = (Long) readCounts.get("rows");
    long loops = (Long) readCounts.get("loops");
    Object w = readCounts.get("width");
    long width = w == null ? 0 : ((Number) w).longValue();

    // Two nodes an edge plus per-object overhead on the driver.
    if (edgeCount <= localEdges && edgeCount * 2 * (2 * width + 48) <= LOCAL_BYTES) {
      Sparks.describe(spark, job, "connected components, union-find of " + edgeCount + " edges");
      Dataset<Row> labels = unionFind(spark, canonical);
      LOG.info("{}: connected components of {} edges by union-find on the driver", job, edgeCount);
      return new Result(labels, 0, edgeCount, List.of());
    }
    Dataset<Row> state = canonical.filter(col(U).notEqual(col(V)));
    long rows = edgeCount - loops;
    List<Integer> partitions = new ArrayList<>();
    int round = 0;
    while (rows > 0) {
      if (round == maxIterations) {
        throw Errors.componentsNotConverged(maxIterations);
      }
      round++;
      Sparks.describe(spark, job, "connected components, round " + round);
      int large = partitions(spark, 2 * rows);
      int small = partitions(spark, rows);
      partitions.add(large);
      Observation shape = new Observation("cc_shape_" + round);
      Observation size = new Observation("cc_size_" + round);
      Dataset<Row> next =
          Checkpoints.cut(
              smallStar(largeStar(state, large, shape), small)
                  .observe(size, count(lit(1)).as("rows")));
      long notStars = (Long) counts(shape).get("bad");
      long nextRows = (Long) counts(size).get("rows");
      LOG.debug(
          "{}: connected components round {}: {} edges in {} partitions, {} rows off a star",
          job,
          round,
          rows,
          large,
          notStars);
      if (notStars == 0) {
        break;
      }
      state = next;
      rows = nextRows;
    }
    LOG.info(
        "{}: connected components of {} edges in {} rounds (partitions {})",
        job,
        edgeCount,
        round,
        partitions);
    return new Result(labels(spark, state, rows, canonical, loops), round, edgeCount, partitions);
  }

  /**
   * Large-star: every node {@code n} links each neighbour larger than itself to the smallest node
   * of {@code n}'s closed neighbourhood. Counts into {@code shape} the adjacency rows of nodes that
   * have a smaller neighbour and at least one other neighbour: none means every component already
   * is a star centred on its smallest node.
   */
  private static Dataset<Row> largeStar(Dataset<Row> state, int partitions, Observation shape) {
    WindowSpec byNode = Window.partitionBy(col(N));
    Dataset<Row> adjacency =
        bothWays(state)
            // Hash-partitioned by node: the de-duplication and the window reuse this shuffle.
            .repartition(partitions, col(N))
            .distinct()
            .withColumn(MIN, min(col(NB)).over(byNode))
            .withColumn(DEGREE, count(lit(1)).over(byNode))
            .observe(
                shape, count(when(col(MIN).lt(col(N)).and(col(DEGREE).gt(1)), true)).as("bad"));
    return adjacency
        .filter(col(NB).gt(col(N)))
        .select(col(NB).as(U), least(col(N), col(MIN)).as(V));
  }

  /**
   * Small-star: every node {@code u} with smaller neighbours links itself and each of them to the
   * smallest, {@code m}. Each edge {@code u → v} yields one edge: {@code u → m} when {@code v} is
   * {@code m}, else {@code v → m}.
   */
  private static Dataset<Row> smallStar(Dataset<Row> edges, int partitions) {
    WindowSpec byNode = Window.partitionBy(col(U));
    return edges
        .repartition(partitions, col(U))
        .distinct()
        .withColumn(MIN, min(col(V)).over(byNode))
        .select(when(col(V).equalTo(col(MIN)), col(U)).otherwise(col(V)).as(U), col(MIN).as(V));
  }

  /**
   * The labels of a state whose components are stars centred on their smallest node: a node's label
   * is the smallest of itself and its neighbours (a leaf's one neighbour is its centre, a centre's
   * neighbours are all larger). A self-loop makes its node a neighbour of itself, so a node whose
   * only edges are self-loops labels itself.
   */
  private static Dataset<Row> labels(
      SparkSession spark, Dataset<Row> stars, long rows, Dataset<Row> canonical, long loops) {
    Dataset<Row> adjacency = bothWays(stars);
    if (loops > 0) {
      adjacency =
          adjacency.union(
              canonical.filter(col(U).equalTo(col(V))).select(col(U).as(N), col(V).as(NB)));
    }
    return adjacency
        .repartition(partitions(spark, 2 * rows + loops), col(N))
        .groupBy(col(N))
        .agg(min(col(NB)).as(MIN))
        .select(col(N).as(NODE), least(col(N), col(MIN)).as(LABEL));
  }

  /**
   * Labels of a small canonical edge set ({@code u ≥ v}, nulls dropped) computed on the driver:
   * union-find with path halving, each root then mapped to the smallest node of its set.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Dataset<Row> unionFind(SparkSession spark, Dataset<Row> canonical) {
    Map<Object, Object> parent = new HashMap<>();
    canonical
        .toLocalIterator()
        .forEachRemaining(
            r -> {
              Object a = find(parent, r.get(0));
              Object b = find(parent, r.get(1));
              if (!a.equals(b)) {
                // The smaller node becomes the root, so a root is its set's smallest node.
                if (((Comparable) a).compareTo(b) < 0) {
                  parent.put(b, a);
                } else {
                  parent.put(a, b);
                }
              }
            });
    List<Row> rows = new ArrayList<>(parent.size());
    for (Object node : new ArrayList<>(parent.keySet())) {
      rows.add(RowFactory.create(node, find(parent, node)));
    }
    DataType type = canonical.schema().apply(U).dataType();
    StructType schema = new StructType().add(NODE, type, false).add(LABEL, type, false);
    return spark.createDataFrame(rows, schema);
  }

  private static Object find(Map<Object, Object> parent, Object x) {
    Object p = parent.putIfAbsent(x, x);
    if (p == null) {
      return x;
    }
    while (!p.equals(x)) {
      Object g = parent.get(p);
      parent.put(x, g);
      x = p;
      p = g;
    }
    return x;
  }

  /** Each edge {@code u → v} as the rows (n = u, nb = v) and (n = v, nb = u). */
  private static Dataset<Row> bothWays(Dataset<Row> edges) {
    return edges
        .select(
            explode(array(struct(col(U).as(N), col(V).as(NB)), struct(col(V).as(N), col(U).as(NB))))
                .as("_e"))
        .select(col("_e." + N).as(N), col("_e." + NB).as(NB));
  }

  /** Shuffle partitions for {@code rows} rows: see the class comment. */
  static int partitions(SparkSession spark, long rows) {
    long forMemory = ceilDiv(rows, MAX_ROWS_PER_PARTITION);
    long forParallelism =
        Math.min(spark.sparkContext().defaultParallelism(), ceilDiv(rows, MIN_ROWS_PER_PARTITION));
    return (int) Math.max(1, Math.max(forMemory, forParallelism));
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /**
   * The counts a job just run reported through {@code observation}. A retried task may count twice:
   * harmless, as only zero or not matters for the shape and the row count only sizes partitions.
   */
  private static Map<String, Object> counts(Observation observation) {
    try {
      Await.result(observation.future(), METRICS_WAIT);
      return observation.getAsJava();
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "connected components: no counts from " + observation.name() + " after the job", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("connected components: interrupted", e);
    }
  }
}
