package io.sparkclip.udfs.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.embed.Vectors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transformers inside a Spark ML {@code Pipeline} (spark-mllib 4.1.0 classes) on Spark 4.2.0
 * local mode, against the torch reference embeddings.
 */
class ClipTransformersTest {
  private static SparkSession spark;
  @TempDir static Path cache;

  static final StructType PAIRS =
      new StructType()
          .add("uid", DataTypes.StringType, false)
          .add("jpg", DataTypes.BinaryType, true)
          .add("caption", DataTypes.StringType, true);

  @BeforeAll
  static void start() {
    System.setProperty("sparkclip.model.cache", cache.toString());
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("ClipTransformersTest")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config(
                "spark.hadoop.fs." + SchemeLocalFileSystem.SCHEME + ".impl",
                SchemeLocalFileSystem.class.getName())
            .getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static JsonNode manifest() {
    return Fixtures.manifest();
  }

  /** Fixture images with their captions, plus a corrupt and a null image. */
  private static Dataset<Row> pairs() {
    List<Row> rows = new ArrayList<>();
    JsonNode images = manifest().get("images");
    JsonNode captions = manifest().get("captions");
    for (int i = 0; i < images.size(); i++) {
      rows.add(
          RowFactory.create(
              "img" + i,
              Fixtures.image(images.get(i)),
              captions.get(i % captions.size()).get("text").asText()));
    }
    rows.add(RowFactory.create("corrupt", "not a jpeg".getBytes(StandardCharsets.UTF_8), null));
    rows.add(RowFactory.create("null", null, "a photo of a red circle"));
    return spark.createDataFrame(rows, PAIRS).repartition(2);
  }

  private static Row byUid(List<Row> rows, String uid) {
    return rows.stream().filter(r -> r.<String>getAs("uid").equals(uid)).findFirst().orElseThrow();
  }

  private static float[] floats(Row r, String col) {
    List<Object> l = r.getList(r.fieldIndex(col));
    float[] f = new float[l.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (Float) l.get(i);
    }
    return f;
  }

  @Test
  void pipelineEmbedsImagesAndTextsWithStatusRows() {
    String model = Fixtures.tinyClip().toString();
    Pipeline p =
        new Pipeline()
            .setStages(
                new PipelineStage[] {
                  new ClipImageEmbedder().setModelDir(model).setBatchSize(4),
                  new ClipTextEmbedder().setModelDir(model).setBatchSize(3)
                });
    PipelineModel pm = p.fit(pairs());
    Dataset<Row> out = pm.transform(pairs());
    assertThat(out.schema().fieldNames())
        .as("output columns appended")
        .endsWith(
            "image_embedding",
            "image_status",
            "image_error",
            "text_embedding",
            "text_status",
            "text_error");
    List<Row> rows = out.collectAsList();
    int d = manifest().get("embed_dim").asInt();
    JsonNode images = manifest().get("images");
    double minImage = 1;
    for (int i = 0; i < images.size(); i++) {
      Row r = byUid(rows, "img" + i);
      assertThat(r.<String>getAs("image_status"))
          .as("status of img%d (%s)", i, r.<String>getAs("image_error"))
          .isEqualTo("ok");
      double c =
          Vectors.cosine(floats(r, "image_embedding"), Fixtures.row("image_embeddings.bin", i, d));
      minImage = Math.min(minImage, c);
      assertThat(c).as("Spark image embedding vs torch, img%d", i).isGreaterThanOrEqualTo(0.999);
      int capIdx = i % manifest().get("captions").size();
      assertThat(
              Vectors.cosine(
                  floats(r, "text_embedding"), Fixtures.row("text_embeddings.bin", capIdx, d)))
          .as("Spark text embedding vs torch, caption %d", capIdx)
          .isGreaterThanOrEqualTo(0.99999);
    }
    System.out.printf("Spark pipeline image embeddings vs torch: min cosine %.8f%n", minImage);
    Row corrupt = byUid(rows, "corrupt");
    assertThat(corrupt.<String>getAs("image_status"))
        .as("corrupt image status")
        .isEqualTo("decode_error");
    assertThat(corrupt.<String>getAs("image_error")).as("corrupt image message").isNotBlank();
    assertThat(corrupt.isNullAt(corrupt.fieldIndex("image_embedding"))).as("no embedding").isTrue();
    assertThat(corrupt.<String>getAs("text_status")).as("null caption").isEqualTo("null_input");
    Row nul = byUid(rows, "null");
    assertThat(nul.<String>getAs("image_status")).as("null image").isEqualTo("null_input");
    assertThat(nul.<String>getAs("text_status"))
        .as("caption of the null-image row")
        .isEqualTo("ok");
  }

  @Test
  void fp16OutputAndSqlFunctions() {
    String model = Fixtures.tinyClip().toString();
    Dataset<Row> out =
        new ClipTextEmbedder()
            .setModelDir(model)
            .setPrecision("fp16")
            .setOutputCol("t16")
            .transform(
                new ClipTextEmbedder()
                    .setModelDir(model)
                    .setOutputCol("t32")
                    .setStatusCol("s32")
                    .setErrorCol("e32")
                    .transform(pairs()));
    assertThat(out.schema().apply("t16").dataType())
        .as("fp16 column type")
        .isEqualTo(DataTypes.BinaryType);
    ClipFunctions.register(spark);
    out.createOrReplaceTempView("emb");
    List<Row> r =
        spark
            .sql(
                "SELECT uid, clip_cosine(t32, clip_fp16_unpack(t16)) AS c,"
                    + " clip_cosine(t32, NULL) AS n,"
                    + " clip_cosine(t32, clip_l2_normalize(transform(t32, x -> x * 3))) AS scaled,"
                    + " clip_cosine_fp16(t16, clip_fp16_pack(t32)) AS c16"
                    + " FROM emb WHERE text_status = 'ok'")
            .collectAsList();
    assertThat(r).as("rows with captions").hasSizeGreaterThan(5);
    for (Row row : r) {
      assertThat(row.getDouble(1))
          .as("fp16 round trip of %s", row.getString(0))
          .isGreaterThan(0.9999);
      assertThat(row.isNullAt(2)).as("null-safe cosine").isTrue();
      assertThat(row.getDouble(3))
          .as("normalize keeps direction")
          .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
      assertThat(row.getDouble(4))
          .as("pack equals column")
          .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
    }
  }

  @Test
  void sqlFunctionsRejectForeignEmbeddingsWithAnId() {
    ClipFunctions.register(spark);
    assertThatThrownBy(() -> spark.sql("SELECT clip_cosine(array(1D, 0D), array(1D))").collect())
        .as("embeddings of two widths")
        .satisfies(e -> assertThat(idOf(e)).as("id").isEqualTo(ErrorId.EMBEDDING_WIDTH_MISMATCH));
    assertThatThrownBy(() -> spark.sql("SELECT clip_fp16_unpack(X'010203')").collect())
        .as("3 bytes are no float16 embedding")
        .satisfies(e -> assertThat(idOf(e)).as("id").isEqualTo(ErrorId.EMBEDDING_NOT_FP16));
  }

  /** Spark wraps errors thrown in UDFs; the CLI walks the causes the same way. */
  private static ErrorId idOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SparkclipException s) {
        return s.id();
      }
    }
    return null;
  }

  @Test
  void modelOnHadoopPathLoadsThroughExecutorCache() throws Exception {
    String uri = SchemeLocalFileSystem.SCHEME + "://" + Fixtures.tinyClip().toAbsolutePath();
    List<Row> rows =
        new ClipImageEmbedder()
            .setModelDir(uri)
            .setInputCol("jpg")
            .transform(pairs())
            .select("uid", "image_status", "image_embedding")
            .collectAsList();
    int d = manifest().get("embed_dim").asInt();
    Row r = byUid(rows, "img0");
    assertThat(r.<String>getAs("image_status")).as("status via %s", uri).isEqualTo("ok");
    assertThat(
            Vectors.cosine(
                floats(r, "image_embedding"), Fixtures.row("image_embeddings.bin", 0, d)))
        .as("embedding via the Hadoop copy")
        .isGreaterThanOrEqualTo(0.999);
    try (Stream<Path> s = Files.walk(cache)) {
      List<Path> copied = s.filter(p -> p.endsWith("visual/model.onnx")).toList();
      assertThat(copied)
          .as("one local copy of the model in the executor cache %s", cache)
          .hasSize(1);
      assertThat(Files.size(copied.get(0)))
          .as("copied size")
          .isEqualTo(Files.size(Fixtures.tinyClip().resolve("visual/model.onnx")));
    }
  }

  @Test
  void schemaErrorsStateProblemCauseFix() {
    Dataset<Row> df = pairs();
    assertThatThrownBy(
            () ->
                new ClipImageEmbedder()
                    .setModelDir("x")
                    .setInputCol("nope")
                    .transformSchema(df.schema()))
        .as("missing column")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a missing input column")
                    .isEqualTo(ErrorId.TRANSFORMER_INPUT_COLUMN_MISSING))
        .hasMessageContaining("nope")
        .hasMessageContaining("Fix:");
    assertThatThrownBy(
            () ->
                new ClipImageEmbedder()
                    .setModelDir("x")
                    .setInputCol("caption")
                    .transformSchema(df.schema()))
        .as("wrong type")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a wrong input type")
                    .isEqualTo(ErrorId.TRANSFORMER_INPUT_COLUMN_WRONG_TYPE))
        .hasMessageContaining("binary");
    assertThat(new ClipTextEmbedder().transformSchema(df.schema()).fieldNames())
        .as("the schema needs no model dir")
        .contains("text_embedding", "text_status", "text_error");
    assertThat(Arrays.asList(new ClipTextEmbedder().params()))
        .as("params found by Spark ML reflection")
        .hasSizeGreaterThanOrEqualTo(9);
  }
}
