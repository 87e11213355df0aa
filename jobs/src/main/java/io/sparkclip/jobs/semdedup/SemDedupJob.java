package io.sparkclip.jobs.semdedup;

import static io.sparkclip.schemas.Errors.optionMissing;
import static io.sparkclip.schemas.Errors.optionOutOfRange;
import static io.sparkclip.schemas.Errors.outMustDifferFromInput;
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
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

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
import io.sparkclip.udfs.spark.ClipFunctions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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

/**
 * {@code sparkclip semdedup}: semantic deduplication on image embeddings, as SemDeDup (Abbas et al.
 * 2023) and NeMo Curator do it:
 *
 * <ol>
 *   <li>Spark MLlib k-means (cosine distance, fixed seed) clusters the embeddings;
 *   <li>within each cluster, every pair with cosine ≥ 1 − ε is a duplicate edge (a self-join on the
 *       cluster id, so the work is Σ n_c² / 2 cosine products, never a global all-pairs join);
 *   <li>edges form groups by {@link ConnectedComponents}; each group keeps one row by the {@link
 *       KeepPolicy} (as dedup does) and the others go to the rejects as {@code semantic_duplicate}
 *       with the kept row's uid as {@code related_uid} (or, with {@code markOnly}, stay with {@code
 *       dup_of} set).
 * </ol>
 *
 * Duplicates that k-means puts in different clusters are not found: that is SemDeDup's trade of
 * recall for linear cost, and identical embeddings always share a cluster. Rows without an
 * embedding (embed failed, text-only) cannot be compared and are kept. Embeddings never reach the
 * driver: only counts, the k-means centres and cluster statistics do. Output rows carry {@code
 * semantic_cluster} and {@code semantic_group}.
 */
public final class SemDedupJob {
  private static final Logger LOG = LoggerFactory.getLogger(SemDedupJob.class);

  /** Rows per k-means cluster that {@code clusters = 0} (auto) aims for. */
  public static final int AUTO_ROWS_PER_CLUSTER = 1000;

  /** The largest k that auto chooses. */
  public static final int AUTO_MAX_CLUSTERS = 50_000;

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
      KeepPolicy keep,
      boolean markOnly,
      int maxIterations) {
    /** Embedding column, array<float> or fp16 binary; text_embedding for text-only data. */
    public static final String EMBEDDING_COL = "embedding-col";

    public static final String EMBEDDING_COL_DEFAULT = Columns.IMAGE_EMBEDDING;

    /** k-means k; 0 = one cluster per ~1,000 embedded rows. */
    public static final String CLUSTERS = "clusters";

    public static final int CLUSTERS_DEFAULT = 0;

    /** Pairs with cosine >= 1 - epsilon are duplicates (SemDeDup / NeMo Curator: 0.01). */
    public static final String EPSILON = "epsilon";

    public static final double EPSILON_DEFAULT = 0.01;
    public static final String KMEANS_ITERATIONS = "kmeans-iterations";
    public static final int KMEANS_ITERATIONS_DEFAULT = 20;

    /** k-means trains on this random fraction of the rows; all rows are assigned. */
    public static final String TRAIN_FRACTION = "train-fraction";

    public static final double TRAIN_FRACTION_DEFAULT = 1.0;
    public static final String SEED = "seed";
    public static final long SEED_DEFAULT = 0;

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
          KeepPolicy.fromLabel(c.string(StageKeys.KEEP, StageKeys.KEEP_DEFAULT)),
          c.bool(StageKeys.MARK_ONLY, StageKeys.MARK_ONLY_DEFAULT),
          c.integer(StageKeys.MAX_ITERATIONS, StageKeys.MAX_ITERATIONS_DEFAULT));
    }

    void validate() {
      require(
          input != null && !input.isBlank(),
          () -> optionMissing(Stages.SEMDEDUP, "an input path is required", "none given"));
      require(
          out != null && !out.isBlank(),
          () -> optionMissing(Stages.SEMDEDUP, "--out is required", "none given"));
      require(
          !new Path(out).equals(new Path(input)), () -> outMustDifferFromInput(Stages.SEMDEDUP));
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
                  "--clusters must be ≥ 1, or 0 for auto (one per ~"
                      + AUTO_ROWS_PER_CLUSTER
                      + " rows)",
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

  /** k for {@code clusters = 0}: one cluster per ~1,000 embedded rows, at least 1. */
  public static int autoClusters(long embeddedRows) {
    long k = (embeddedRows + AUTO_ROWS_PER_CLUSTER - 1) / AUTO_ROWS_PER_CLUSTER;
    return (int) Math.max(1, Math.min(AUTO_MAX_CLUSTERS, k));
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    String data = Paths.resolveInput(spark, options.input());
    CurationInput in = read(data);
    Column vec = embeddingVector(in.pairs(), data);
    Paths.prepareOutput(spark, options.out(), options.overwrite());
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
    Dataset<Row> points =
        labelled
            .filter(usable)
            .select(
                col("_node"),
                col("_vec"),
                org.apache.spark.ml.functions.array_to_vector(col("_vec")).as("_features"));
    Sparks.describe(spark, Stages.SEMDEDUP, "count embeddings");
    long embedded = points.count();
    details.put("rows_with_embedding", embedded);

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
      int k =
          (int)
              Math.min(
                  embedded, options.clusters() > 0 ? options.clusters() : autoClusters(embedded));
      details.put("clusters", k);
      Dataset<Row> assigned = cluster(points, k).persist(StorageLevel.MEMORY_AND_DISK());
      clusterStats(assigned, details);
      Dataset<Row> edges = edges(assigned);
      Dataset<Row> cc =
          ConnectedComponents.of(spark, edges, Stages.SEMDEDUP, options.maxIterations());
      out = label(labelled, assigned, cc, order);
      assigned.unpersist();
    }
    out = out.drop("_node", "_vec", "_cluster");

    Sparks.describe(spark, Stages.SEMDEDUP, "count input");
    long rowsIn = labelled.count();
    CurationSummary s =
        CurationOutput.write(
            spark, Stages.SEMDEDUP, options.input(), options.out(), rowsIn, out, details, start);
    labelled.unpersist();
    return s;
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

  /** (_node, _cluster, _vec): k-means with cosine distance, trained on all rows or a sample. */
  private Dataset<Row> cluster(Dataset<Row> points, int k) {
    if (k == 1) {
      // MLlib's k-means needs k ≥ 2; one cluster is every row in cluster 0.
      return points.select(col("_node"), lit(0).as("_cluster"), col("_vec"));
    }
    Sparks.describe(spark, Stages.SEMDEDUP, "k-means (k=" + k + ")");
    Dataset<Row> train =
        options.trainFraction() < 1
            ? points.sample(false, options.trainFraction(), options.seed())
            : points;
    KMeansModel model =
        new KMeans()
            .setK(k)
            .setSeed(options.seed())
            .setMaxIter(options.kmeansIterations())
            .setDistanceMeasure("cosine")
            .setFeaturesCol("_features")
            .setPredictionCol("_cluster")
            .fit(train);
    LOG.info(
        "semdedup: k-means k={} over {} rows, {} centres",
        k,
        options.trainFraction() < 1 ? "a sample of the" : "all",
        model.clusterCenters().length);
    return model.transform(points).select(col("_node"), col("_cluster"), col("_vec"));
  }

  /** Cluster sizes and the number of cosine products the within-cluster join does. */
  private void clusterStats(Dataset<Row> assigned, Map<String, Object> details) {
    Sparks.describe(spark, Stages.SEMDEDUP, "cluster sizes");
    Row r =
        assigned
            .groupBy("_cluster")
            .agg(count(lit(1)).as("_n"))
            .agg(
                count(lit(1)),
                max("_n"),
                sum(col("_n").cast("double").multiply(col("_n").minus(1)).divide(2)))
            .first();
    details.put("non_empty_clusters", r.getLong(0));
    details.put("largest_cluster", r.getLong(1));
    details.put("pairs_compared", (long) r.getDouble(2));
    LOG.info(
        "semdedup: {} non-empty clusters, largest {}, {} pairs to compare",
        r.getLong(0),
        r.getLong(1),
        (long) r.getDouble(2));
  }

  /** (src, dst): pairs of one cluster with cosine ≥ 1 − ε. */
  private Dataset<Row> edges(Dataset<Row> assigned) {
    Dataset<Row> a =
        assigned.select(col("_node").as("src"), col("_cluster").as("ca"), col("_vec").as("va"));
    Dataset<Row> b =
        assigned.select(col("_node").as("dst"), col("_cluster").as("cb"), col("_vec").as("vb"));
    Sparks.describe(spark, Stages.SEMDEDUP, "within-cluster cosine pairs");
    return a.join(b, col("ca").equalTo(col("cb")).and(col("src").lt(col("dst"))))
        .filter(call_udf("clip_cosine", col("va"), col("vb")).geq(lit(1 - options.epsilon())))
        .select("src", "dst");
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
            .withColumn("_n", count(lit(1)).over(all));
    Column dup = inGroup.and(col("_rn").gt(1));
    ranked =
        ranked
            .withColumn(Columns.SEMANTIC_CLUSTER, col("_cluster"))
            .withColumn(
                Columns.SEMANTIC_GROUP,
                when(inGroup, concat(col("_cluster").cast("string"), lit(":"), col("_first"))))
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
                  lit(" in k-means cluster "),
                  coalesce(col("_cluster").cast("string"), lit("?")),
                  lit("; kept "),
                  col("_first")),
              col("_first"));
    }
    return ranked.drop("_rn", "_first", "_n", ConnectedComponents.LABEL);
  }

  private static String format(double v) {
    return String.format(Locale.ROOT, "%.4f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
  }
}
