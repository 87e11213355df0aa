package io.sparkclip.udfs.embed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.RowStatus;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.session.Device;
import io.sparkclip.udfs.session.OnnxTower;
import io.sparkclip.udfs.session.SessionCache;
import io.sparkclip.udfs.text.ClipTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ONNX Runtime in Java vs torch embeddings written by tools/make_fixtures.py. */
class EmbeddingParityTest {
  private static JsonNode manifest;
  private static ModelDirectory dir;
  private static int d;

  @BeforeAll
  static void setUp() {
    manifest = Fixtures.manifest();
    dir = ModelDirectory.open(Fixtures.tinyClip());
    d = manifest.get("embed_dim").asInt();
  }

  private static float[] fixtureTensors() {
    int per =
        3
            * manifest.get("preprocess").get("size").asInt()
            * manifest.get("preprocess").get("size").asInt();
    JsonNode images = manifest.get("images");
    float[] all = new float[images.size() * per];
    for (int i = 0; i < images.size(); i++) {
      System.arraycopy(Fixtures.floats(images.get(i).get("tensor").asText()), 0, all, i * per, per);
    }
    return all;
  }

  private static List<byte[]> fixtureImages() {
    List<byte[]> out = new ArrayList<>();
    manifest.get("images").forEach(e -> out.add(Fixtures.image(e)));
    return out;
  }

  @Test
  void onnxRuntimeMatchesTorchOnIdenticalTensors() {
    OnnxTower visual = SessionCache.get(dir.visualOnnx(), Device.CPU, 1);
    assertThat(visual.inputType())
        .as("fp32 fixture model input type")
        .isEqualTo(OnnxJavaType.FLOAT);
    assertThat(visual.fixedBatch()).as("dynamic batch axis").isZero();
    int n = manifest.get("images").size();
    float[][] emb = visual.runImages(fixtureTensors(), n, dir.preprocessConfig().size());
    double min = 1;
    for (int i = 0; i < n; i++) {
      double c = Vectors.cosine(emb[i], Fixtures.row("image_embeddings.bin", i, d));
      min = Math.min(min, c);
      assertThat(c).as("cosine(ORT, torch) of image %d", i).isGreaterThanOrEqualTo(0.99999);
    }
    System.out.printf("image tower ORT vs torch: min cosine %.8f%n", min);
  }

  @Test
  void endToEndImageEmbeddingsMatchTorch() {
    OnnxTower visual = SessionCache.get(dir.visualOnnx(), Device.CPU, 1);
    ImageEmbedder e = new ImageEmbedder(ImageDecoder.defaults(), dir.preprocessConfig(), visual);
    EmbedResult[] res = e.embed(fixtureImages());
    double min = 1;
    for (int i = 0; i < res.length; i++) {
      String name = manifest.get("images").get(i).get("name").asText();
      if (name.equals("webp")) {
        continue; // its own test below, skipped visibly where the JDK cannot decode WebP
      }
      assertThat(res[i].status).as("status of %s (%s)", name, res[i].error).isEqualTo(RowStatus.OK);
      double c = Vectors.cosine(res[i].embedding, Fixtures.row("image_embeddings.bin", i, d));
      min = Math.min(min, c);
      assertThat(c).as("end-to-end cosine of %s", name).isGreaterThanOrEqualTo(0.999);
    }
    System.out.printf("image bytes -> embedding vs torch: min cosine %.8f%n", min);
  }

  @Test
  void endToEndWebpEmbeddingMatchesTorch() {
    Assumptions.assumeTrue(
        ImageDecoder.openCvAvailable(),
        "WebP needs the OpenCV decoder (the JDK has none), which is not available here");
    OnnxTower visual = SessionCache.get(dir.visualOnnx(), Device.CPU, 1);
    ImageEmbedder e = new ImageEmbedder(ImageDecoder.defaults(), dir.preprocessConfig(), visual);
    List<byte[]> images = fixtureImages();
    int i = 0;
    while (!manifest.get("images").get(i).get("name").asText().equals("webp")) {
      i++;
    }
    EmbedResult[] res = e.embed(List.of(images.get(i)));
    assertThat(res[0].status).as("status of webp (%s)", res[0].error).isEqualTo(RowStatus.OK);
    assertThat(Vectors.cosine(res[0].embedding, Fixtures.row("image_embeddings.bin", i, d)))
        .as("end-to-end cosine of webp")
        .isGreaterThanOrEqualTo(0.999);
  }

  @Test
  void textEmbeddingsMatchTorch() {
    OnnxTower textual = SessionCache.get(dir.textualOnnx(), Device.CPU, 1);
    assertThat(textual.inputType()).as("int32 token input").isEqualTo(OnnxJavaType.INT32);
    TextEmbedder e =
        new TextEmbedder(ClipTokenizer.load(dir.tokenizerJson(), dir.contextLength()), textual);
    List<String> captions = new ArrayList<>();
    manifest.get("captions").forEach(c -> captions.add(c.get("text").asText()));
    EmbedResult[] res = e.embed(captions);
    double min = 1;
    for (int i = 0; i < res.length; i++) {
      double c = Vectors.cosine(res[i].embedding, Fixtures.row("text_embeddings.bin", i, d));
      min = Math.min(min, c);
      assertThat(c).as("cosine(ORT, torch) of caption %d", i).isGreaterThanOrEqualTo(0.99999);
    }
    System.out.printf("text tower (DJL ids + ORT) vs torch: min cosine %.8f%n", min);
    assertThat(Vectors.cosine(res[0].embedding, res[3].embedding))
        .as("different captions give different embeddings")
        .isLessThan(0.9999);
  }

  @Test
  void fp16FixedBatchModelRunsInSlices() {
    ModelDirectory half = ModelDirectory.open(Fixtures.tinyClipFp16B1());
    OnnxTower visual = SessionCache.get(half.visualOnnx(), Device.CPU, 1);
    OnnxTower textual = SessionCache.get(half.textualOnnx(), Device.CPU, 1);
    assertThat(visual.inputType()).as("fp16 image input").isEqualTo(OnnxJavaType.FLOAT16);
    assertThat(textual.inputType()).as("int64 token input").isEqualTo(OnnxJavaType.INT64);
    assertThat(visual.fixedBatch()).as("exported with batch 1").isEqualTo(1);
    int n = manifest.get("images").size();
    float[][] emb = visual.runImages(fixtureTensors(), n, half.preprocessConfig().size());
    for (int i = 0; i < n; i++) {
      assertThat(Vectors.cosine(emb[i], Fixtures.row("image_embeddings.bin", i, d)))
          .as("fp16 weights/IO vs fp32 torch, image %d", i)
          .isGreaterThanOrEqualTo(0.999);
    }
    TextEmbedder te =
        new TextEmbedder(ClipTokenizer.load(half.tokenizerJson(), half.contextLength()), textual);
    EmbedResult[] res =
        te.embed(Arrays.asList("a photo of a red circle", null, "a green triangle in the center"));
    assertThat(res[1].status).as("null caption").isEqualTo(RowStatus.NULL_INPUT);
    assertThat(Vectors.cosine(res[0].embedding, Fixtures.row("text_embeddings.bin", 0, d)))
        .as("fp16 text tower vs torch")
        .isGreaterThanOrEqualTo(0.999);
    assertThat(Vectors.cosine(res[2].embedding, Fixtures.row("text_embeddings.bin", 3, d)))
        .as("fp16 text tower vs torch, third row after the null")
        .isGreaterThanOrEqualTo(0.999);
  }

  @Test
  void badImagesGetStatusRowsNotExceptions() {
    OnnxTower visual = SessionCache.get(dir.visualOnnx(), Device.CPU, 1);
    ImageEmbedder e =
        new ImageEmbedder(
            new ImageDecoder(ImageDecoder.Backend.AUTO, 100_000, 0),
            dir.preprocessConfig(),
            visual);
    byte[] good = Fixtures.image(manifest.get("images").get(0));
    byte[] truncated = Arrays.copyOf(good, 40);
    byte[] garbage = "this is not an image".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] large = Fixtures.image(manifest.get("images").get(manifest.get("images").size() - 1));
    EmbedResult[] r =
        e.embed(Arrays.asList(good, null, new byte[0], garbage, truncated, large, good));
    assertThat(r[0].status).as("good image").isEqualTo(RowStatus.OK);
    assertThat(r[1].status).as("null bytes").isEqualTo(RowStatus.NULL_INPUT);
    assertThat(r[2].status).as("empty bytes").isEqualTo(RowStatus.EMPTY_IMAGE);
    assertThat(r[3].status).as("garbage").isEqualTo(RowStatus.DECODE_ERROR);
    assertThat(r[3].error).as("garbage message").contains("unrecognized image format");
    assertThat(r[4].status).as("truncated JPEG").isEqualTo(RowStatus.DECODE_ERROR);
    assertThat(r[5].status).as("2048x1536 over a 100k pixel limit").isEqualTo(RowStatus.TOO_LARGE);
    assertThat(r[5].embedding).as("no embedding for a failed row").isNull();
    assertThat(r[6].status).as("good image after failures").isEqualTo(RowStatus.OK);
    assertThat(Vectors.cosine(r[0].embedding, r[6].embedding))
        .as("same image, same embedding")
        .isGreaterThan(0.999999);
  }
}
