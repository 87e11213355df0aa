package io.sparkclip.jobs.semdedup;

import static io.sparkclip.schemas.Errors.optionOutOfRange;
import static io.sparkclip.schemas.Errors.require;
import static org.apache.spark.sql.functions.call_udf;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.Checkpoints;
import io.sparkclip.jobs.stage.ConnectedComponents;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.KeepPolicy;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.Stages;
import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.spark.ClipFunctions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Seq;

/**
 * {@code sparkclip semdedup}: semantic deduplication on image embeddings, as SemDeDup (Abbas et al.
 * 2023) and NeMo Curator do it, with a clustering whose cost grows near-linearly with the rows:
 *
 * <ol>
 *   <li>rows whose unit embeddings quantise to the same grid cell (cell width chosen so that two
 *       rows of one cell have cosine ≥ 1 − ε/64: identical and near-identical embeddings) are one
 *       duplicate group at once: each is linked to the cell's first row, and only that row goes on,
 *       so 20,000 copies of one image cost one row downstream;
 *   <li>a {@link ClusterTree} (b-ary hierarchical spherical k-means, each node trained on a bounded
 *       sample, rows assigned by a map over broadcast centres) cuts the rest into leaves of about
 *       {@code rows / clusters} rows (auto: {@code leaf-size}); a node k-means cannot split and
 *       that exceeds the cap (4 × that size) is cut along its principal direction (or, failing
 *       that, by row hash), so no leaf grows with the data;
 *   <li>a row close to a split boundary (within {@code spill} × sqrt(2ε), the distance at which a
 *       duplicate could lie across it) is also placed, as a guest, in the child on the other side,
 *       at most once per level, so duplicates the tree would cut apart still meet in a leaf;
 *   <li>within each leaf, every pair with cosine ≥ 1 − ε is a duplicate edge ({@link LeafPairs}, Σ
 *       n_leaf² / 2 products in memory per leaf, never a global all-pairs join);
 *   <li>edges form groups by {@link ConnectedComponents}; each group keeps one row by the {@link
 *       KeepPolicy} (as dedup does) and the others go to the rejects as {@code semantic_duplicate}
 *       with the kept row's uid as {@code related_uid} (or, with {@code markOnly}, stay with {@code
 *       dup_of} set).
 * </ol>
 *
 * Duplicates that the tree puts in different leaves (and no spill brings together) are not found:
 * that is SemDeDup's trade of recall for linear cost (a flat k-means makes the same trade), and
 * identical embeddings are always grouped. A group may span leaves through a guest; its {@code
 * semantic_group} is named by the kept row's leaf. Rows without an embedding (embed failed,
 * text-only) cannot be compared and are kept. Embeddings never reach the driver: only counts, the
 * tree's centres and leaf statistics do. Output rows carry {@code semantic_cluster} (the leaf) and
 * {@code semantic_group}.
 */
public final class SemDedupJob {
  private static final Logger LOG = LoggerFactory.getLogger(SemDedupJob.class);

  /** Rows per leaf cluster that {@code clusters = 0} (auto) aims for by default. */
  public static final int AUTO_ROWS_PER_CLUSTER = 1000;

  /** Training rows per child centre a cluster-tree node samples at most. */
  public static final int TRAIN_SAMPLE_PER_CHILD = ClusterTree.SAMPLE_PER_CHILD;

  /**
   * Two unit vectors in one quantisation cell differ by less than the cell width w per component,
   * so |a − b|² &lt; d·w² and their cosine is above 1 − d·w²/2; w = sqrt(ε / (32·d)) makes that 1 −
   * ε/64: a cell only holds rows far inside the duplicate bound.
   */
  static final double CELL_EPSILON_FRACTION = 1.0 / 64;

  public record Options(
      String input,
      String out,
      ColumnMapping mapping,
      boolean overwrite,
      String embeddingCol,
      int clusters,
      double epsilon,
      int kmeansIterations,
      double trainFraction,
      long seed,
      int leafSize,
      int branching,
      int maxDepth,
      double spill,
      KeepPolicy keep,
      boolean markOnly,
      int maxIterations) {
    /** Embedding column, array<float> or fp16 binary; text_embedding for text-only data. */
    public static final String EMBEDDING_COL = "embedding-col";

    public static final String EMBEDDING_COL_DEFAULT = Columns.IMAGE_EMBEDDING;

    /** About this many leaf clusters; 0 = one per {@code leaf-size} embedded rows. */
    public static final String CLUSTERS = "clusters";

    public static final int CLUSTERS_DEFAULT = 0;

    /** Pairs with cosine >= 1 - epsilon are duplicates (SemDeDup / NeMo Curator: 0.01). */
    public static final String EPSILON = "epsilon";

    public static final double EPSILON_DEFAULT = 0.01;

    /** Lloyd rounds of each node's k-means. */
    public static final String KMEANS_ITERATIONS = "kmeans-iterations";

    public static final int KMEANS_ITERATIONS_DEFAULT = 20;

    /**
     * Each node's k-means trains on this random fraction of its rows, at most {@value
     * ClusterTree#SAMPLE_PER_CHILD} per child; all rows are assigned.
     */
    public static final String TRAIN_FRACTION = "train-fraction";

    public static final double TRAIN_FRACTION_DEFAULT = 1.0;
    public static final String SEED = "seed";
    public static final long SEED_DEFAULT = 0;

    /** Rows per leaf cluster that {@code clusters = 0} aims for. */
    public static final String LEAF_SIZE = "leaf-size";

    public static final int LEAF_SIZE_DEFAULT = AUTO_ROWS_PER_CLUSTER;

    /** Children per node of the cluster tree (the k of each node's k-means). */
    public static final String BRANCHING = "branching";

    public static final int BRANCHING_DEFAULT = 16;

    /** Levels of k-means splits at most; a node still too big below them is cut into chunks. */
    public static final String MAX_DEPTH = "max-depth";

    public static final int MAX_DEPTH_DEFAULT = 12;

    /**
     * A row this close to a tree split, as a fraction of sqrt(2ε) (the distance at which a
     * duplicate could lie across it), is also compared on the other side; 0 = never, 1 = no
     * duplicate pair straddles a split unseen (at a cost in rows compared).
     */
    public static final String SPILL = "spill";

    public static final double SPILL_DEFAULT = 0.25;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.mapping(),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT),
          c.string(EMBEDDING_COL, EMBEDDING_COL_DEFAULT),
          c.integer(CLUSTERS, CLUSTERS_DEFAULT),
          c.decimal(EPSILON, EPSILON_DEFAULT),
          c.integer(KMEANS_ITERATIONS, KMEANS_ITERATIONS_DEFAULT),
          c.decimal(TRAIN_FRACTION, TRAIN_FRACTION_DEFAULT),
          c.longValue(SEED, SEED_DEFAULT),
          c.integer(LEAF_SIZE, LEAF_SIZE_DEFAULT),
          c.integer(BRANCHING, BRANCHING_DEFAULT),
          c.integer(MAX_DEPTH, MAX_DEPTH_DEFAULT),
          c.decimal(SPILL, SPILL_DEFAULT),
          KeepPolicy.fromLabel(c.string(StageKeys.KEEP, StageKeys.KEEP_DEFAULT)),
          c.bool(StageKeys.MARK_ONLY, StageKeys.MARK_ONLY_DEFAULT),
          c.integer(StageKeys.MAX_ITERATIONS, StageKeys.MAX_ITERATIONS_DEFAULT));
    }

    void validate() {
      Paths.requireInputAndOut(Stages.SEMDEDUP, input, out);
      require(
          epsilon > 0 && epsilon < 1,
          () ->
              optionOutOfRange(
                  Stages.SEMDEDUP,
                  "--epsilon must be in (0, 1); pairs with cosine ≥ 1 − ε are duplicates"
                      + " (SemDeDup/NeMo Curator: 0.01)",
                  "got " + epsilon));
      require(
          clusters >= 0,
          () ->
              optionOutOfRange(
                  Stages.SEMDEDUP,
                  "--clusters must be ≥ 1, or 0 for auto (one per --leaf-size rows)",
                  "got " + clusters));
      require(
          kmeansIterations >= 1,
          () ->
              optionOutOfRange(
                  Stages.SEMDEDUP, "--kmeans-iterations must be ≥ 1", "got " + kmeansIterations));
      require(
          trainFraction > 0 && trainFraction <= 1,
          () ->
              optionOutOfRange(
                  Stages.SEMDEDUP, "--train-fraction must be in (0, 1]", "got " + trainFraction));
      require(
          leafSize >= 2,
          () -> optionOutOfRange(Stages.SEMDEDUP, "--leaf-size must be ≥ 2", "got " + leafSize));
      require(
          branching >= 2,
          () -> optionOutOfRange(Stages.SEMDEDUP, "--branching must be ≥ 2", "got " + branching));
      require(
          maxDepth >= 1,
          () -> optionOutOfRange(Stages.SEMDEDUP, "--max-depth must be ≥ 1", "got " + maxDepth));
      require(
          spill >= 0 && spill <= 1,
          () -> optionOutOfRange(Stages.SEMDEDUP, "--spill must be in [0, 1]", "got " + spill));
      require(
          maxIterations >= 1,
          () ->
              optionOutOfRange(
                  Stages.SEMDEDUP, "--max-iterations must be ≥ 1", "got " + maxIterations));
    }
  }

  private final SparkSession spark;
  private final Options options;

  public SemDedupJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  /** Leaves for {@code clusters = 0}: one per {@code leafSize} rows, at least 1. */
  public static int autoClusters(long rows, int leafSize) {
    long k = (rows + leafSize - 1) / leafSize;
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, k));
  }

  /** Leaves for {@code clusters = 0} at the default leaf size. */
  public static int autoClusters(long rows) {
    return autoClusters(rows, AUTO_ROWS_PER_CLUSTER);
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    String data = Paths.resolveInput(spark, options.input());
    CurationInput in = read(data);
    Column vec = embeddingVector(in.pairs(), data);
    Paths.prepareOutput(spark, options.out(), options.overwrite());
    Checkpoints checkpoints = Checkpoints.open(spark, options.out());
    try {
      ClipFunctions.register(spark);

      Map<String, Object> details = new LinkedHashMap<>();
      details.put("embedding", options.embeddingCol());
      details.put("epsilon", options.epsilon());
      details.put("min_cosine", 1 - options.epsilon());
      details.put("keep", options.keep().label());
      details.put("mode", options.markOnly() ? "mark" : "remove");

      Dataset<Row> labelled = in.labelUnusable(Stages.REJECT_SEMDEDUP_INPUT);
      for (String c : List.of(Columns.SEMANTIC_CLUSTER, Columns.SEMANTIC_GROUP)) {
        if (CurationOutput.has(labelled, c)) {
          labelled = labelled.drop(c);
        }
      }
      if (!CurationOutput.has(labelled, Columns.DUP_OF)) {
        labelled = labelled.withColumn(Columns.DUP_OF, lit(null).cast("string"));
      }
      List<Column> order = options.keep().order(labelled.schema(), in.layout());
      // A node per row. The frame is persisted, so the ids are computed once; a lost cached block
      // is recomputed from the same file splits and gets the same ids.
      labelled =
          labelled
              .withColumn("_node", monotonically_increasing_id())
              .withColumn("_vec", vec)
              .persist(StorageLevel.MEMORY_AND_DISK());

      Column usable =
          CurationOutput.kept()
              .and(col("_vec").isNotNull())
              .and(expr("aggregate(_vec, 0D, (acc, x) -> acc + x * x) > 0"));
      Dataset<Row> points = labelled.filter(usable).select(col("_node"), col("_vec"));
      Sparks.describe(spark, Stages.SEMDEDUP, "count embeddings");
      Row widths =
          points.agg(count(lit(1)), min(size(col("_vec"))), max(size(col("_vec")))).first();
      long embedded = widths.getLong(0);
      details.put("rows_with_embedding", embedded);
      if (embedded > 0 && widths.getInt(1) != widths.getInt(2)) {
        throw ClipErrors.cosineWidthMismatch(widths.getInt(1), widths.getInt(2));
      }

      Dataset<Row> out;
      if (embedded < 2) {
        LOG.warn(
            "semdedup: {} rows with a usable {} in {}: nothing to compare, every row kept",
            embedded,
            options.embeddingCol(),
            data);
        out = labelled.withColumn("_cluster", lit(null).cast("int"));
        out =
            out.withColumn(Columns.SEMANTIC_CLUSTER, col("_cluster"))
                .withColumn(Columns.SEMANTIC_GROUP, lit(null).cast("string"));
      } else {
        long t0 = System.nanoTime();
        Cells cells = cells(points, details);
        long rows = embedded - cells.linked();
        int budget =
            (int)
                Math.min(
                    rows,
                    options.clusters() > 0
                        ? options.clusters()
                        : autoClusters(rows, options.leafSize()));
        details.put("clusters", budget);
        Sparks.describe(spark, Stages.SEMDEDUP, "cluster tree (" + budget + " leaves)");
        ClusterTree.Result tree =
            ClusterTree.build(
                points(cells.rows()),
                rows,
                new ClusterTree.Params(
                    budget,
                    options.branching(),
                    options.maxDepth(),
                    options.kmeansIterations(),
                    options.trainFraction(),
                    options.seed(),
                    options.spill() * Math.sqrt(2 * options.epsilon())),
                partitions());
        treeStats(tree, rows, budget, details);
        Sparks.describe(spark, Stages.SEMDEDUP, "leaf of every row");
        Dataset<Row> assigned = Checkpoints.cut(assigned(tree, cells.links()));
        details.put("clustering_seconds", seconds(t0));
        long t1 = System.nanoTime();
        Dataset<Row> edges = leafEdges(tree).union(cells.links());
        Dataset<Row> cc =
            ConnectedComponents.of(spark, edges, Stages.SEMDEDUP, options.maxIterations());
        details.put("pairs_seconds", seconds(t1));
        tree.release();
        cells.links().unpersist();
        out = label(labelled, assigned, cc, order);
      }
      out = out.drop("_node", "_vec", "_cluster");

      Sparks.describe(spark, Stages.SEMDEDUP, "count input");
      long rowsIn = labelled.count();
      CurationSummary s =
          CurationOutput.write(
              spark, Stages.SEMDEDUP, options.input(), options.out(), rowsIn, out, details, start);
      labelled.unpersist();
      return s;
    } finally {
      checkpoints.close();
    }
  }

  /**
   * The input, with the layout detected on the schema without the embedding columns: fp16
   * embeddings are binary columns, which detection would otherwise take for unnamed image bytes.
   */
  private CurationInput read(String data) {
    Dataset<Row> df = Paths.readParquet(spark, data);
    java.util.Set<String> embeddings =
        new java.util.HashSet<>(
            List.of(options.embeddingCol(), Columns.IMAGE_EMBEDDING, Columns.TEXT_EMBEDDING));
    StructType schema =
        new StructType(
            java.util.Arrays.stream(df.schema().fields())
                .filter(f -> !(embeddings.contains(f.name()) && f.dataType() instanceof BinaryType))
                .toArray(StructField[]::new));
    ResolvedLayout layout = LayoutDetector.detect(schema, options.mapping(), data);
    return new CurationInput(Pairs.prepare(df, layout), layout);
  }

  /**
   * The embedding column as array&lt;float&gt;: fp32 arrays as they are, double arrays cast, fp16
   * binaries ({@code --precision fp16}) unpacked. Fails on the driver for anything else.
   */
  private Column embeddingVector(Dataset<Row> df, String data) {
    String name = options.embeddingCol();
    if (!CurationOutput.has(df, Columns.UID) || !CurationOutput.has(df, name)) {
      throw Errors.notEmbeddedForSemDedup(data, name);
    }
    DataType t = df.schema().apply(name).dataType();
    Column c = col(name);
    if (t instanceof BinaryType) {
      return call_udf("clip_fp16_unpack", c);
    }
    if (t instanceof ArrayType a && a.elementType() instanceof NumericType) {
      return c.cast(DataTypes.createArrayType(DataTypes.FloatType));
    }
    throw Errors.embeddingWrongType(name, data, t.simpleString());
  }

  /**
   * The rows that go on to the tree, and the links of the others.
   *
   * @param rows (_node, _vec): one row per quantisation cell (the cell's smallest node)
   * @param links (src, dst): every other row of a cell to that row, a duplicate edge (persisted)
   * @param linked the number of links
   */
  private record Cells(Dataset<Row> rows, Dataset<Row> links, long linked) {}

  /**
   * Rows with the same quantised unit embedding: cell width w = sqrt(2·ε·f / d) per component (f =
   * {@value #CELL_EPSILON_FRACTION}), so any two rows of a cell have cosine ≥ 1 − f·ε (identical
   * embeddings always share a cell). A cell is keyed by a 128-bit hash of its grid coordinates
   * ({@link #cellKey}), computed once per row; only (row, key) pairs are shuffled to find the
   * cells.
   */
  private Cells cells(Dataset<Row> points, Map<String, Object> details) {
    Sparks.describe(spark, Stages.SEMDEDUP, "identical embeddings");
    double eps = options.epsilon();
    Dataset<Row> keyed =
        points
            .select(
                col("_node"),
                udf((UDF1<Seq<Object>, byte[]>) v -> cellKey(floats(v), eps), DataTypes.BinaryType)
                    .apply(col("_vec"))
                    .as("_key"))
            .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> shared =
        keyed
            .groupBy("_key")
            .agg(min("_node").as("_rep"), count(lit(1)).as("_cn"))
            .filter(col("_cn").gt(1))
            .persist(StorageLevel.MEMORY_AND_DISK());
    Row st = shared.agg(count(lit(1)), sum("_cn")).first();
    long cellsShared = st.getLong(0);
    long linked = cellsShared == 0 ? 0 : st.getLong(1) - cellsShared;
    details.put("identical_groups", cellsShared);
    details.put("identical_rows_linked", linked);
    if (cellsShared == 0) {
      shared.unpersist();
      keyed.unpersist();
      StructType edge =
          new StructType()
              .add("src", DataTypes.LongType, false)
              .add("dst", DataTypes.LongType, false);
      return new Cells(points, spark.createDataFrame(List.of(), edge), 0);
    }
    Dataset<Row> links =
        keyed
            .join(shared.select("_key", "_rep"), "_key")
            .filter(col("_node").notEqual(col("_rep")))
            .select(col("_node").as("src"), col("_rep").as("dst"))
            .persist(StorageLevel.MEMORY_AND_DISK());
    links.count();
    shared.unpersist();
    keyed.unpersist();
    Dataset<Row> rows =
        points.join(links.select(col("src")), col("_node").equalTo(col("src")), "left_anti");
    LOG.info(
        "semdedup: {} rows linked to the first row of {} identical-embedding cells",
        linked,
        cellsShared);
    return new Cells(rows, links, linked);
  }

  /**
   * A 128-bit hash of the grid cell of {@code v}'s unit vector: component i in cell floor(v_i / |v|
   * / w), w = sqrt(2·ε·{@value #CELL_EPSILON_FRACTION} / d).
   */
  static byte[] cellKey(float[] v, double epsilon) {
    double n = 0;
    for (float x : v) {
      n += (double) x * x;
    }
    double scale = 1 / (Math.sqrt(n) * Math.sqrt(2 * epsilon * CELL_EPSILON_FRACTION / v.length));
    long h1 = 0x9E3779B97F4A7C15L;
    long h2 = 0xC2B2AE3D27D4EB4FL;
    for (float x : v) {
      long q = (long) Math.floor(x * scale);
      h1 = ClusterTree.mix(h1 ^ q) + 0x632BE59BD9B4E019L;
      h2 = ClusterTree.mix(h2 + q * 0xD6E8FEB86659FD93L) ^ 0x165667B19E3779F9L;
    }
    return java.nio.ByteBuffer.allocate(16).putLong(h1).putLong(h2).array();
  }

  private static float[] floats(Seq<Object> s) {
    float[] f = new float[s.length()];
    scala.collection.Iterator<Object> it = s.iterator();
    for (int i = 0; i < f.length; i++) {
      f[i] = ((Number) it.next()).floatValue();
    }
    return f;
  }

  /** (_node, _vec) rows as tree points. */
  private static JavaRDD<ClusterTree.Point> points(Dataset<Row> rows) {
    return rows.javaRDD()
        .map(
            r -> {
              List<Object> v = r.getList(1);
              float[] f = new float[v.size()];
              for (int i = 0; i < f.length; i++) {
                f[i] = ((Number) v.get(i)).floatValue();
              }
              return new ClusterTree.Point(r.getLong(0), f);
            });
  }

  private int partitions() {
    return Math.max(
        spark.sparkContext().defaultParallelism(),
        Integer.parseInt(spark.conf().get("spark.sql.shuffle.partitions", "200")));
  }

  private static double seconds(long since) {
    return Math.round((System.nanoTime() - since) / 1e7) / 100.0;
  }

  /** Leaf statistics of the tree and the work of the within-leaf step. */
  private void treeStats(
      ClusterTree.Result tree, long rows, int budget, Map<String, Object> details) {
    details.put("rows_clustered", rows);
    details.put("branching", options.branching());
    details.put("leaves", (long) tree.leafRows().length);
    details.put("rows_spilled", tree.copies() - rows);
    details.put("largest_leaf", tree.largestLeaf());
    details.put("leaf_cap", ClusterTree.cap(rows, budget));
    details.put("pairs_compared", tree.pairsCompared());
    details.put("tree_depth", tree.depth());
    details.put("kmeans_splits", tree.centreSplits());
    details.put("largest_train_sample", tree.largestSample());
    details.put("guard_splits", tree.guardSplits());
    details.put("hash_splits", tree.hashSplits());
    details.put("pairs_not_compared_by_guard", tree.pairsSkippedByGuard());
    LOG.info(
        "semdedup: cluster tree of depth {}: {} leaves, largest {}, {} pairs to compare",
        tree.depth(),
        tree.leafRows().length,
        tree.largestLeaf(),
        tree.pairsCompared());
  }

  /** (_node, _cluster): the leaf of every row; a linked row takes its cell's leaf. */
  private Dataset<Row> assigned(ClusterTree.Result tree, Dataset<Row> links) {
    StructType schema =
        new StructType()
            .add("_node", DataTypes.LongType, false)
            .add("_cluster", DataTypes.IntegerType, false);
    Dataset<Row> rows =
        spark.createDataFrame(
            tree.primaries().map(t -> RowFactory.create(t._2().id(), t._1())), schema);
    Dataset<Row> linked =
        links
            .join(
                rows.select(col("_node").as("_rn"), col("_cluster")),
                col("dst").equalTo(col("_rn")))
            .select(col("src").as("_node"), col("_cluster"));
    return rows.unionByName(linked);
  }

  /** (src, dst): pairs of one leaf with cosine ≥ 1 − ε, compared in memory per leaf. */
  private Dataset<Row> leafEdges(ClusterTree.Result tree) {
    Sparks.describe(spark, Stages.SEMDEDUP, "within-leaf cosine pairs");
    double min = 1 - options.epsilon();
    int leaves = tree.leafRows().length;
    int parts = Math.max(1, Math.min(leaves, partitions()));
    JavaRDD<Row> edges =
        tree.rows()
            .groupByKey(parts)
            .flatMap(
                g -> {
                  List<ClusterTree.Point> l = new ArrayList<>();
                  g._2().forEach(l::add);
                  return LeafPairs.pairs(l, min).stream()
                      .map(e -> RowFactory.create(e[0], e[1]))
                      .iterator();
                });
    return spark.createDataFrame(
        edges,
        new StructType()
            .add("src", DataTypes.LongType, false)
            .add("dst", DataTypes.LongType, false));
  }

  /**
   * Joins clusters and groups back to the rows; in each group the first row in keep order is kept,
   * the others are duplicates of it.
   */
  private Dataset<Row> label(
      Dataset<Row> labelled, Dataset<Row> assigned, Dataset<Row> cc, List<Column> order) {
    Dataset<Row> clusters = assigned.select(col("_node").as("_an"), col("_cluster"));
    Dataset<Row> joined =
        labelled
            .join(clusters, col("_node").equalTo(col("_an")), "left")
            .drop("_an")
            .join(cc, col("_node").equalTo(col(ConnectedComponents.NODE)), "left")
            .drop(ConnectedComponents.NODE);
    Column inGroup = col(ConnectedComponents.LABEL).isNotNull();
    // Rows outside a group each form their own window partition, so none can skew one task.
    Column group =
        when(inGroup, concat(lit("g"), col(ConnectedComponents.LABEL).cast("string")))
            .otherwise(concat(lit("u"), col("_node").cast("string")));
    WindowSpec w = Window.partitionBy(group).orderBy(order.toArray(Column[]::new));
    WindowSpec all = Window.partitionBy(group);
    Dataset<Row> ranked =
        joined
            .withColumn("_rn", row_number().over(w))
            .withColumn("_first", first(col(Columns.UID)).over(w))
            // A group may span leaves (a row spilled across a split): it is named by its kept row.
            .withColumn("_first_cluster", first(col("_cluster")).over(w))
            .withColumn("_n", count(lit(1)).over(all));
    Column dup = inGroup.and(col("_rn").gt(1));
    ranked =
        ranked
            .withColumn(Columns.SEMANTIC_CLUSTER, col("_cluster"))
            .withColumn(
                Columns.SEMANTIC_GROUP,
                when(
                    inGroup, concat(col("_first_cluster").cast("string"), lit(":"), col("_first"))))
            .withColumn(Columns.DUP_OF, when(dup, col("_first")).otherwise(col(Columns.DUP_OF)));
    if (!options.markOnly()) {
      ranked =
          CurationOutput.reject(
              ranked,
              dup,
              Stages.REJECT_SEMDEDUP,
              lit(RejectReason.SEMANTIC_DUPLICATE),
              concat(
                  lit(
                      String.format(
                          Locale.ROOT,
                          "%s cosine ≥ %s to a member of a group of ",
                          options.embeddingCol(),
                          format(1 - options.epsilon()))),
                  col("_n").cast("string"),
                  lit(" in cluster leaf "),
                  coalesce(col("_first_cluster").cast("string"), lit("?")),
                  lit("; kept "),
                  col("_first")),
              col("_first"));
    }
    return ranked.drop("_rn", "_first", "_first_cluster", "_n", ConnectedComponents.LABEL);
  }

  private static String format(double v) {
    return String.format(Locale.ROOT, "%.4f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
  }
}
