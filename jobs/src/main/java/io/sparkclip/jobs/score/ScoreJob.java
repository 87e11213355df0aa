package io.sparkclip.jobs.score;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.call_udf;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.Stages;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.head.HeadDirectory;
import io.sparkclip.udfs.head.HeadScores;
import io.sparkclip.udfs.head.HeadSpec;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.spark.ClipFunctions;
import io.sparkclip.udfs.spark.ClipTextEmbedder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Seq;

/**
 * {@code sparkclip score}: per pair,
 *
 * <ul>
 *   <li>{@code clip_score}: cosine of image and text embeddings (LAION's {@code similarity},
 *       DataComp's {@code clip_*_similarity_score});
 *   <li>{@code query_score}: cosine of the image with the query's zero-shot classifier, the
 *       normalised mean of the prompt-template embeddings ("a photo of a {query}.", ...). Each
 *       distinct query is embedded once, on the executors;
 *   <li>in-batch contrastive diagnostics from the paper's pseudocode, within fixed groups of K
 *       pairs (shard-local: rows of one input file ordered by uid, cut every K): {@code image_rank}
 *       (rank of the own caption among the group's captions for the image, 1 = best), {@code
 *       text_rank} (vice versa), {@code group_loss} (the group's symmetric cross-entropy at the
 *       model's logit scale), {@code group_id} and {@code group_size}.
 *   <li>{@code NAME_score} for each {@code --head NAME=DIR}: a score head (an ONNX model on the
 *       L2-normalised image or text embedding, see {@link HeadDirectory} and docs/heads.md), run on
 *       the executors in batches through the engine's session cache. Every head is checked on the
 *       driver first (head.json, model.onnx's signature, its width against the model's embed_dim).
 * </ul>
 *
 * Rows without embeddings (embed_status not ok) keep null scores; nothing is removed here.
 */
public final class ScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);

  public record Options(
      String input,
      String out,
      String model,
      List<String> templates,
      int groupSize,
      int batchSize,
      List<String> heads,
      int headBatchSize,
      String device,
      boolean overwrite) {
    /** Prompt templates with {@code {query}}. */
    public static final String TEMPLATES = "templates";

    /** Prompt templates from the CLIP paper's ImageNet ensemble (a few of the 80). */
    public static final List<String> TEMPLATES_DEFAULT =
        List.of(
            "a photo of a {query}.",
            "a picture of a {query}.",
            "an image of a {query}.",
            "a photo of the {query}.",
            "a drawing of a {query}.");

    /** In-batch contrastive groups of K pairs. */
    public static final String GROUP_SIZE = "group-size";

    public static final int GROUP_SIZE_DEFAULT = 256;

    /** Score heads as {@code NAME=DIR} (repeatable): column {@code NAME_score} per head. */
    public static final String HEADS = "heads";

    public static final List<String> HEADS_DEFAULT = List.of();

    /** Embeddings per head run. */
    public static final String HEAD_BATCH_SIZE = "head-batch-size";

    /**
     * A head is a few matrix products per row, so a run's fixed cost (tensor set-up, the native
     * call) dominates at the towers' batch of 32; 512 rows of 768 floats are 1.5 MB.
     */
    public static final int HEAD_BATCH_SIZE_DEFAULT = 512;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.string(StageKeys.MODEL, null),
          c.strings(TEMPLATES, TEMPLATES_DEFAULT),
          c.integer(GROUP_SIZE, GROUP_SIZE_DEFAULT),
          c.integer(StageKeys.BATCH_SIZE, StageKeys.BATCH_SIZE_DEFAULT),
          c.strings(HEADS, HEADS_DEFAULT),
          c.integer(HEAD_BATCH_SIZE, HEAD_BATCH_SIZE_DEFAULT),
          c.string(StageKeys.DEVICE, StageKeys.DEVICE_DEFAULT),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT));
    }

    void validate() {
      if (groupSize < 2 || groupSize > 4096) {
        throw Errors.groupSizeOutOfRange(groupSize);
      }
      if (templates.isEmpty() || templates.stream().anyMatch(t -> !t.contains("{query}"))) {
        throw Errors.templatesWithoutQuery(templates);
      }
      if (headBatchSize < 1 || headBatchSize > 65536) {
        throw Errors.optionOutOfRange(
            Stages.SCORE, "--" + HEAD_BATCH_SIZE + " in [1, 65536]", "got " + headBatchSize);
      }
      headDirs();
    }

    /** The heads by name, in the order given; fails on a malformed or repeated name. */
    public Map<String, String> headDirs() {
      Map<String, String> m = new LinkedHashMap<>();
      for (String h : heads) {
        int eq = h.indexOf('=');
        String name = eq < 0 ? h : h.substring(0, eq).trim();
        String dir = eq < 0 ? "" : h.substring(eq + 1).trim();
        if (eq < 0 || dir.isEmpty()) {
          throw Errors.headSpecInvalid(h, "it is not NAME=DIR");
        }
        if (!Columns.HEAD_NAME.matcher(name).matches()) {
          throw Errors.headSpecInvalid(
              h, "the name '" + name + "' is not a lower-case column-name fragment");
        }
        String column = Columns.headScore(name);
        if (column.equals(Columns.CLIP_SCORE) || column.equals(Columns.QUERY_SCORE)) {
          throw Errors.headSpecInvalid(h, "its column " + column + " is one score writes itself");
        }
        if (m.put(name, dir) != null) {
          throw Errors.headSpecInvalid(h, "the name '" + name + "' is given twice");
        }
      }
      return m;
    }

    /** The heads' score columns, in the order given. */
    public List<String> headColumns() {
      return headDirs().keySet().stream().map(Columns::headScore).toList();
    }
  }

  private final SparkSession spark;
  private final Options options;

  public ScoreJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  /**
   * Checks the model and every head on the driver, before any Spark work: each head's directory,
   * its ONNX signature, and its width against the model's embed_dim (the width of the pairs'
   * embeddings). Returns what the executors need to run the heads.
   */
  public static List<HeadSpec> preflight(Options options) {
    options.validate();
    ModelDirectory model = Embedders.modelDirectory(options.model());
    List<HeadSpec> specs = new ArrayList<>();
    for (Map.Entry<String, String> h : options.headDirs().entrySet()) {
      HeadDirectory d = HeadScores.directory(h.getValue());
      String output = d.checkOnnx();
      d.checkWidth(h.getKey(), model.embedDim(), options.model());
      LOG.info("head {}: {} ({}), output {}", h.getKey(), d, d.description(), output);
      specs.add(new HeadSpec(h.getKey(), h.getValue(), output, d.input()));
    }
    return specs;
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    List<HeadSpec> heads = preflight(options);
    ModelDirectory model = Embedders.modelDirectory(options.model());
    double scale = logitScale(model);
    String inputData = Paths.resolveInput(spark, options.input());
    Dataset<Row> in = Paths.readParquet(spark, inputData);
    for (String c : List.of(Columns.UID, Columns.IMAGE_EMBEDDING, Columns.TEXT_EMBEDDING)) {
      if (!CurationOutput.has(in, c)) {
        throw Errors.notEmbeddedForScore(inputData, c);
      }
    }
    Paths.prepareOutput(spark, options.out(), options.overwrite());
    ClipFunctions.register(spark);

    // The shard of each row, taken at the scan (input_file_name is empty after a shuffle).
    Dataset<Row> df = in.withColumn("_shard", input_file_name());
    boolean fp16 = in.schema().apply(Columns.IMAGE_EMBEDDING).dataType() == DataTypes.BinaryType;
    Column img = col(Columns.IMAGE_EMBEDDING);
    Column txt = col(Columns.TEXT_EMBEDDING);
    if (fp16) {
      img = call_udf("clip_fp16_unpack", img);
      txt = call_udf("clip_fp16_unpack", txt);
    }
    df = df.withColumn("_img", img).withColumn("_txt", txt);
    df = df.withColumn(Columns.CLIP_SCORE, call_udf("clip_cosine", col("_img"), col("_txt")));
    if (!heads.isEmpty()) {
      List<String> columns = options.headColumns();
      for (String c : columns) {
        if (CurationOutput.has(df, c)) {
          // Scoring a scored output again: the new head's score replaces the old one.
          LOG.info("input already has {}: replaced by the head's new score", c);
          df = df.drop(c);
        }
      }
      df =
          HeadScores.apply(
              df, heads, columns, "_img", "_txt", options.headBatchSize(), options.device());
    }

    // query_score: one zero-shot classifier per distinct query.
    boolean hasQuery = CurationOutput.has(df, Columns.QUERY);
    if (hasQuery) {
      Dataset<Row> classifiers = queryClassifiers(df.select(Columns.QUERY).distinct());
      df =
          df.join(classifiers, df.col(Columns.QUERY).equalTo(classifiers.col("_q")), "left")
              .withColumn(Columns.QUERY_SCORE, call_udf("clip_cosine", col("_img"), col("_qemb")))
              .drop("_q", "_qemb");
    } else {
      LOG.warn("no '{}' column: query_score is null (run match-queries first)", Columns.QUERY);
      df = df.withColumn(Columns.QUERY_SCORE, lit(null).cast(DataTypes.DoubleType));
    }

    df =
        contrastive(df, scale)
            .drop("_img", "_txt", "_shard")
            .persist(StorageLevel.MEMORY_AND_DISK());
    Sparks.describe(spark, Stages.SCORE, "clip_score, query_score and in-batch ranks");
    long rowsIn = df.count();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("model", options.model());
    details.put("logit_scale", scale);
    details.put("group_size", options.groupSize());
    details.put("templates", options.templates());
    Map<String, Object> headDetails = new LinkedHashMap<>();
    for (HeadSpec h : heads) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("dir", h.dir());
      d.put("input", h.input().label());
      d.put("column", Columns.headScore(h.name()));
      d.put("description", HeadScores.directory(h.dir()).description());
      headDetails.put(h.name(), d);
    }
    details.put("heads", headDetails);
    CurationSummary s =
        CurationOutput.write(
            spark,
            Stages.SCORE,
            options.input(),
            options.out(),
            rowsIn,
            CurationOutput.unlabelled(df),
            details,
            start);
    df.unpersist();
    return s;
  }

  /** A trained CLIP's temperature sits at open_clip's clamp; a model without one gets that. */
  public static final double DEFAULT_LOGIT_SCALE = ModelDirectory.MAX_LOGIT_SCALE;

  /**
   * The scale of the group loss: the model's own ({@code logit_scale.json} or config.json), else
   * 100 ({@link #DEFAULT_LOGIT_SCALE}), where trained CLIP models end up (OpenAI's ViT-B/32 is at
   * the clamp), rather than the 1/0.07 initialisation.
   */
  static double logitScale(ModelDirectory model) {
    if (model.logLogitScale().isPresent()) {
      return model.logitScale();
    }
    LOG.info(
        "{} has no logit_scale (logit_scale.json or config.json): group_loss uses {}",
        model.source(),
        DEFAULT_LOGIT_SCALE);
    return DEFAULT_LOGIT_SCALE;
  }

  /** (_q, _qemb): the normalised mean of the template embeddings of each query. */
  private Dataset<Row> queryClassifiers(Dataset<Row> queries) {
    Dataset<Row> templates =
        spark.createDataset(options.templates(), Encoders.STRING()).toDF("_template");
    Dataset<Row> prompts =
        queries
            .filter(col(Columns.QUERY).isNotNull())
            .crossJoin(broadcast(templates))
            .withColumn("_prompt", expr("replace(_template, '{query}', " + Columns.QUERY + ")"));
    Dataset<Row> embedded =
        new ClipTextEmbedder()
            .setModelDir(options.model())
            .setInputCol("_prompt")
            .setOutputCol("_pemb")
            .setBatchSize(options.batchSize)
            .setDevice(options.device)
            .transform(prompts)
            .filter(col("_pemb").isNotNull());
    Sparks.describe(spark, Stages.SCORE, "embed query prompts");
    return embedded
        .groupBy(col(Columns.QUERY).as("_q"))
        .agg(collect_list(col("_pemb")).as("_pembs"))
        .withColumn(
            "_qemb",
            call_udf(
                "clip_l2_normalize",
                expr(
                    "aggregate(_pembs, array_repeat(cast(0 as float), size(_pembs[0])),"
                        + " (acc, x) -> zip_with(acc, x, (a, b) -> cast(a + b as float)))")))
        .select("_q", "_qemb");
  }

  private static final StructType CONTRAST_ROW =
      new StructType()
          .add("uid", DataTypes.StringType, false)
          .add(Columns.IMAGE_RANK, DataTypes.IntegerType, false)
          .add(Columns.TEXT_RANK, DataTypes.IntegerType, false)
          .add(Columns.GROUP_LOSS, DataTypes.DoubleType, false)
          .add(Columns.GROUP_SIZE, DataTypes.IntegerType, false);

  /** Executor-side: one group's members (uid, image, text) to their ranks and the group loss. */
  static final class ContrastUdf implements UDF2<Seq<Row>, Double, List<Row>> {
    private static final long serialVersionUID = 1L;

    @Override
    public List<Row> call(Seq<Row> members, Double scale) {
      int k = members.size();
      float[][] img = new float[k][];
      float[][] txt = new float[k][];
      String[] uid = new String[k];
      for (int i = 0; i < k; i++) {
        Row m = members.apply(i);
        uid[i] = m.getString(0);
        img[i] = floats(m.getSeq(1));
        txt[i] = floats(m.getSeq(2));
      }
      InBatchContrast.Result r = InBatchContrast.of(img, txt, scale);
      List<Row> out = new ArrayList<>(k);
      for (int i = 0; i < k; i++) {
        out.add(RowFactory.create(uid[i], r.imageRank()[i], r.textRank()[i], r.loss(), k));
      }
      return out;
    }

    private static float[] floats(Seq<Object> s) {
      float[] f = new float[s.size()];
      for (int i = 0; i < f.length; i++) {
        f[i] = ((Number) s.apply(i)).floatValue();
      }
      return f;
    }
  }

  /** Adds group_id, group_size, image_rank, text_rank, group_loss (null without embeddings). */
  private Dataset<Row> contrastive(Dataset<Row> df, double scale) {
    int k = options.groupSize();
    Dataset<Row> members =
        df.filter(col("_img").isNotNull().and(col("_txt").isNotNull()))
            .select(col("_shard"), col(Columns.UID), col("_img"), col("_txt"))
            .withColumn("_n", row_number().over(Window.partitionBy("_shard").orderBy(Columns.UID)))
            .withColumn("_g", floor(col("_n").minus(1).divide(k)));
    UserDefinedFunction contrast = udf(new ContrastUdf(), DataTypes.createArrayType(CONTRAST_ROW));
    Dataset<Row> groups =
        members
            .groupBy("_shard", "_g")
            .agg(collect_list(struct(col(Columns.UID), col("_img"), col("_txt"))).as("_m"))
            .withColumn(
                Columns.GROUP_ID,
                concat(
                    expr("regexp_extract(_shard, '([^/]*)$', 1)"),
                    lit("#"),
                    col("_g").cast("string")))
            .select(col(Columns.GROUP_ID), explode(contrast.apply(col("_m"), lit(scale))).as("_r"))
            .select(
                col("_r.uid").as("_ruid"),
                col(Columns.GROUP_ID),
                col("_r." + Columns.GROUP_SIZE).as(Columns.GROUP_SIZE),
                col("_r." + Columns.IMAGE_RANK).as(Columns.IMAGE_RANK),
                col("_r." + Columns.TEXT_RANK).as(Columns.TEXT_RANK),
                col("_r." + Columns.GROUP_LOSS).as(Columns.GROUP_LOSS));
    return df.join(groups, df.col(Columns.UID).equalTo(groups.col("_ruid")), "left").drop("_ruid");
  }
}
