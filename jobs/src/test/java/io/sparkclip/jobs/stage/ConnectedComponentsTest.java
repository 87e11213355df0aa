package io.sparkclip.jobs.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.LongStream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Connected components against a plain union-find on graph shapes that are hard for one algorithm
 * or another: a long path (the worst case for label propagation), a big star and a clique (high
 * degree), many small clusters (what dedup sees), a random graph, two halves joined by one edge.
 * Labels must be the smallest node of each component; rounds must stay logarithmic in the node
 * count.
 */
class ConnectedComponentsTest {
  private static final String JOB = "cc-test";

  /** Rounds allowed per log2(nodes): the measured count is about log2(n) + 1 at most. */
  private static final double ROUNDS_PER_LOG2_NODES = 2.0;

  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("ConnectedComponentsTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void longPathInShuffledIdOrder() {
    List<Long> ids = shuffledIds(2000, 1);
    List<Object[]> edges = new ArrayList<>();
    for (int i = 0; i + 1 < ids.size(); i++) {
      edges.add(new Object[] {ids.get(i), ids.get(i + 1)});
    }
    ConnectedComponents.Result r = check("path of 2,000, shuffled ids", edges, DataTypes.LongType);
    assertThat(r.rounds())
        .as("rounds for a path of 2,000 (label propagation needs ~2,000)")
        .isLessThanOrEqualTo(12);
  }

  @Test
  void longPathInIncreasingIdOrder() {
    List<Object[]> edges = new ArrayList<>();
    for (long i = 0; i + 1 < 2000; i++) {
      edges.add(new Object[] {i + 1, i});
    }
    check("path of 2,000, increasing ids", edges, DataTypes.LongType);
  }

  @Test
  void bigStarWhoseCentreIsNotTheSmallest() {
    long centre = 2500;
    List<Object[]> edges = new ArrayList<>();
    for (long leaf = 0; leaf <= 5000; leaf++) {
      if (leaf != centre) {
        edges.add(new Object[] {centre, leaf});
      }
    }
    check("star of 5,000 leaves", edges, DataTypes.LongType);
  }

  @Test
  void completeGraph() {
    List<Long> ids = shuffledIds(64, 2);
    List<Object[]> edges = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      for (int j = i + 1; j < ids.size(); j++) {
        edges.add(new Object[] {ids.get(i), ids.get(j)});
      }
    }
    check("clique of 64", edges, DataTypes.LongType);
  }

  /** Near-duplicate clusters of 2 to 6 rows with 64-bit hash ids, negative ones included. */
  @Test
  void manySmallComponents() {
    Random random = new Random(3);
    List<Object[]> edges = new ArrayList<>();
    for (int c = 0; c < 1000; c++) {
      int size = 2 + random.nextInt(5);
      long[] members = random.longs(size).toArray();
      for (int i = 1; i < size; i++) {
        edges.add(new Object[] {members[random.nextInt(i)], members[i]});
      }
    }
    ConnectedComponents.Result r = check("1,000 small clusters", edges, DataTypes.LongType);
    assertThat(r.rounds()).as("rounds for clusters of at most 6").isLessThanOrEqualTo(4);
  }

  /** About as many edges as nodes: a giant component, small ones, repeats and self-loops. */
  @Test
  void randomGraph() {
    Random random = new Random(4);
    List<Object[]> edges = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      edges.add(new Object[] {(long) random.nextInt(3000), (long) random.nextInt(3000)});
    }
    check("random graph, 3,000 nodes and edges", edges, DataTypes.LongType);
  }

  /** Enough edges for two partitions per shuffle on local[2]: grouping must not depend on one. */
  @Test
  void randomGraphOverSeveralPartitions() {
    Random random = new Random(9);
    List<Object[]> edges = new ArrayList<>();
    for (int i = 0; i < 150_000; i++) {
      edges.add(new Object[] {(long) random.nextInt(200_000), (long) random.nextInt(200_000)});
    }
    ConnectedComponents.Result r =
        check("random graph, 200,000 ids, 150,000 edges", edges, DataTypes.LongType);
    assertThat(r.partitions()).as("shuffle partitions of the first round").startsWith(2);
  }

  @Test
  void twoComponentsJoinedByOneEdge() {
    List<Long> ids = shuffledIds(2000, 5);
    Random random = new Random(6);
    List<Object[]> edges = new ArrayList<>();
    for (int half = 0; half < 2; half++) {
      int from = half * 1000;
      for (int i = 1; i < 1000; i++) {
        edges.add(new Object[] {ids.get(from + random.nextInt(i)), ids.get(from + i)});
      }
    }
    edges.add(new Object[] {ids.get(999), ids.get(1000)});
    ConnectedComponents.Result r =
        check("two trees of 1,000 joined by one edge", edges, DataTypes.LongType);
    assertThat(r.labels().select(ConnectedComponents.LABEL).distinct().count())
        .as("components once joined")
        .isOne();
  }

  /** Near-caption dedup passes normalised captions as nodes. */
  @Test
  void stringNodes() {
    List<Long> ids = shuffledIds(1000, 7);
    List<Object[]> edges = new ArrayList<>();
    for (int i = 0; i + 1 < 500; i++) {
      edges.add(new Object[] {caption(ids.get(i)), caption(ids.get(i + 1))});
    }
    for (int i = 500; i + 1 < 1000; i += 2) {
      edges.add(new Object[] {caption(ids.get(i)), caption(ids.get(i + 1))});
    }
    check("path of 500 captions and 250 caption pairs", edges, DataTypes.StringType);
  }

  @Test
  void repeatsReversedEdgesSelfLoopsAndNulls() {
    List<Object[]> edges =
        List.of(
            new Object[] {3L, 1L},
            new Object[] {3L, 2L},
            new Object[] {1L, 3L},
            new Object[] {3L, 1L},
            new Object[] {7L, 7L},
            new Object[] {8L, 8L},
            new Object[] {8L, 9L},
            new Object[] {5L, null},
            new Object[] {null, 6L});
    ConnectedComponents.Result r = check("small cases", edges, DataTypes.LongType);
    assertThat(labelsOf(r))
        .as("labels: one node with two smaller neighbours; self-loops; null ends ignored")
        .isEqualTo(Map.of(1L, 1L, 2L, 1L, 3L, 1L, 7L, 7L, 8L, 8L, 9L, 8L));
    assertThat(r.edges()).as("edges counted: rows without a null end").isEqualTo(7);
  }

  @Test
  void noEdges() {
    ConnectedComponents.Result r = check("no edges", List.of(), DataTypes.LongType);
    assertThat(r.rounds()).as("rounds without edges").isZero();
  }

  @Test
  void tooFewRoundsFailWithDedupNotConverged() {
    List<Object[]> edges = new ArrayList<>();
    for (long i = 0; i + 1 < 2000; i++) {
      edges.add(new Object[] {i, i + 1});
    }
    assertThatThrownBy(
            () -> ConnectedComponents.run(spark, frame(edges, DataTypes.LongType), JOB, 3, 0))
        .as("a path of 2,000 in 3 rounds")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("error id").isEqualTo(ErrorId.DEDUP_NOT_CONVERGED))
        .hasMessageContaining("3 rounds");
  }

  /**
   * With Spark's default of 200 shuffle partitions and without adaptive execution to coalesce them,
   * no task set of a round on 3,000 edges is wider than the machine.
   */
  @Test
  void shufflesAreSizedToTheData() throws Exception {
    Random random = new Random(8);
    List<Object[]> edges = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      long a = random.nextInt(10_000);
      edges.add(new Object[] {a, a + 1 + random.nextInt(3)});
    }
    List<Integer> widths = Collections.synchronizedList(new ArrayList<>());
    Map<String, Integer> stagesPerRound = new ConcurrentHashMap<>();
    SparkListener listener =
        new SparkListener() {
          @Override
          public void onStageSubmitted(SparkListenerStageSubmitted stage) {
            String description =
                stage.properties() == null
                    ? null
                    : stage.properties().getProperty("spark.job.description");
            if (description != null && description.contains("connected components")) {
              widths.add(stage.stageInfo().numTasks());
              stagesPerRound.merge(description, 1, Integer::sum);
            }
          }
        };
    String partitionsBefore = spark.conf().get("spark.sql.shuffle.partitions");
    String adaptiveBefore = spark.conf().get("spark.sql.adaptive.enabled");
    spark.conf().set("spark.sql.shuffle.partitions", "200");
    spark.conf().set("spark.sql.adaptive.enabled", "false");
    spark.sparkContext().addSparkListener(listener);
    ConnectedComponents.Result r;
    try {
      r = ConnectedComponents.run(spark, frame(edges, DataTypes.LongType), JOB, 50, 0);
      spark.sparkContext().listenerBus().waitUntilEmpty();
    } finally {
      spark.sparkContext().removeSparkListener(listener);
      spark.conf().set("spark.sql.shuffle.partitions", partitionsBefore);
      spark.conf().set("spark.sql.adaptive.enabled", adaptiveBefore);
    }
    int cores = spark.sparkContext().defaultParallelism();
    assertThat(r.partitions()).as("shuffle partitions per round").containsOnly(1);
    for (int round = 1; round <= r.rounds(); round++) {
      assertThat(
              stagesPerRound.get("sparkclip: " + JOB + " / connected components, round " + round))
          .as("stages of round " + round + ": one shuffle per star operation")
          .isEqualTo(3);
    }
    assertThat(widths)
        .as("tasks per stage of the rounds' jobs")
        .isNotEmpty()
        .allMatch(w -> w <= cores);
  }

  @Test
  void partitionCountFollowsRows() {
    int cores = spark.sparkContext().defaultParallelism();
    assertThat(ConnectedComponents.partitions(spark, 0)).as("no rows").isEqualTo(1);
    assertThat(ConnectedComponents.partitions(spark, 3000)).as("3,000 rows").isEqualTo(1);
    assertThat(ConnectedComponents.partitions(spark, 150_000))
        .as("150,000 rows")
        .isEqualTo(Math.min(2, cores));
    assertThat(ConnectedComponents.partitions(spark, 100_000L * cores * 10))
        .as("rows for ten partitions per core, spread over the cores")
        .isEqualTo(cores);
    assertThat(ConnectedComponents.partitions(spark, 50_000_000))
        .as("50 million rows: a million rows per partition at most")
        .isEqualTo(Math.max(cores, 50));
  }

  /**
   * Runs connected components on {@code edges}, checks every label against union-find and the
   * rounds against log2 of the node count.
   */
  private static ConnectedComponents.Result check(
      String name, List<Object[]> edges, DataType type) {
    ConnectedComponents.Result r = ConnectedComponents.run(spark, frame(edges, type), JOB, 50, 0);
    Map<Object, Object> expected = smallestPerComponent(edges);
    ConnectedComponents.Result local =
        ConnectedComponents.run(spark, frame(edges, type), JOB, 50, Long.MAX_VALUE);
    assertThat(labelsOf(local))
        .as(name + ": labels by union-find on the driver")
        .isEqualTo(expected);
    assertThat(local.rounds()).as(name + ": no distributed round on the driver path").isZero();
    List<Row> rows = r.labels().collectAsList();
    assertThat(rows).as(name + ": one row per node with an edge").hasSize(expected.size());
    assertThat(labelsOf(r)).as(name + ": labels").isEqualTo(expected);
    int nodes = expected.size();
    double bound = nodes < 2 ? 1 : ROUNDS_PER_LOG2_NODES * Math.log(nodes) / Math.log(2);
    assertThat((double) r.rounds())
        .as(name + ": rounds for " + nodes + " nodes")
        .isLessThanOrEqualTo(bound);
    System.out.printf("%s: %d nodes, %d edges, %d rounds%n", name, nodes, r.edges(), r.rounds());
    return r;
  }

  private static Map<Object, Object> labelsOf(ConnectedComponents.Result r) {
    Map<Object, Object> labels = new HashMap<>();
    for (Row row : r.labels().collectAsList()) {
      labels.put(row.get(0), row.get(1));
    }
    return labels;
  }

  private static org.apache.spark.sql.Dataset<Row> frame(List<Object[]> edges, DataType type) {
    List<Row> rows = new ArrayList<>();
    for (Object[] e : edges) {
      rows.add(RowFactory.create(e[0], e[1]));
    }
    StructType schema = new StructType().add("src", type).add("dst", type);
    return spark.createDataFrame(rows, schema);
  }

  /** Union-find: every node with a non-null edge → the smallest node of its component. */
  private static Map<Object, Object> smallestPerComponent(List<Object[]> edges) {
    Map<Object, Object> parent = new HashMap<>();
    for (Object[] e : edges) {
      if (e[0] != null && e[1] != null) {
        Object a = find(parent, e[0]);
        Object b = find(parent, e[1]);
        if (!a.equals(b)) {
          parent.put(a, b);
        }
      }
    }
    Map<Object, Object> smallest = new HashMap<>();
    for (Object node : parent.keySet()) {
      smallest.merge(find(parent, node), node, (x, y) -> compare(x, y) <= 0 ? x : y);
    }
    Map<Object, Object> label = new HashMap<>();
    for (Object node : parent.keySet()) {
      label.put(node, smallest.get(find(parent, node)));
    }
    return label;
  }

  private static Object find(Map<Object, Object> parent, Object node) {
    Object root = node;
    for (Object p = parent.putIfAbsent(node, node); p != null && !p.equals(root); ) {
      root = p;
      p = parent.get(root);
    }
    for (Object n = node; !n.equals(root); ) {
      Object next = parent.get(n);
      parent.put(n, root);
      n = next;
    }
    return root;
  }

  @SuppressWarnings("unchecked")
  private static int compare(Object a, Object b) {
    return ((Comparable<Object>) a).compareTo(b);
  }

  private static List<Long> shuffledIds(int n, long seed) {
    List<Long> ids = new ArrayList<>(LongStream.range(0, n).boxed().toList());
    Collections.shuffle(ids, new Random(seed));
    return ids;
  }

  /** ASCII only: Spark orders strings by UTF-8 bytes, Java by UTF-16 units; they agree here. */
  private static String caption(long id) {
    return String.format("a photo of item %04d on a table", id);
  }
}
