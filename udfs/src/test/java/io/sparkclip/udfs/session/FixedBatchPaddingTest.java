package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.embed.Vectors;
import io.sparkclip.udfs.model.ModelDirectory;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A model exported with a fixed batch (tiny-clip-b8: tiny-clip's graph with batch 8 declared) runs
 * a partition of 17 inputs as 8 + 8 + a padded 1, and gives the embeddings the dynamic-batch
 * tiny-clip gives for the same 17 inputs.
 */
class FixedBatchPaddingTest {
  private static final int N = 17;
  private final ModelDirectory fixed = ModelDirectory.open(Fixtures.tinyClipB8());
  private final ModelDirectory dynamic = ModelDirectory.open(Fixtures.tinyClip());

  @Test
  void seventeenImagesOnABatch8ModelMatchTheDynamicModel() {
    OnnxTower b8 = SessionCache.get(fixed.visualOnnx(), Device.CPU, 1);
    OnnxTower any = SessionCache.get(dynamic.visualOnnx(), Device.CPU, 1);
    assertThat(b8.fixedBatch()).as("the fixture's fixed batch").isEqualTo(8);
    assertThat(any.fixedBatch()).as("tiny-clip's batch is dynamic").isZero();
    int size = 64;
    float[] chw = new float[N * 3 * size * size];
    Random rnd = new Random(17);
    for (int i = 0; i < chw.length; i++) {
      chw[i] = (float) rnd.nextGaussian();
    }
    float[][] got = b8.runImages(chw, N, size);
    float[][] want = any.runImages(chw, N, size);
    assertThat(got).as("one embedding per input, none for the padding").hasNumberOfRows(N);
    for (int i = 0; i < N; i++) {
      assertThat(Vectors.cosine(got[i], want[i]))
          .as("cosine(batch-8 model, dynamic model) of image %d", i)
          .isGreaterThanOrEqualTo(0.99999);
    }
    assertThat(Vectors.cosine(got[16], got[15]))
        .as("the padded last image is not a copy of its neighbour")
        .isLessThan(0.9999);
    float[][] three = b8.runImages(chw, 3, size);
    assertThat(three).as("a batch smaller than 8 (padded to one run)").hasNumberOfRows(3);
    assertThat(Vectors.cosine(three[2], want[2]))
        .as("image 2 of 3")
        .isGreaterThanOrEqualTo(0.99999);
  }

  @Test
  void seventeenCaptionsOnABatch8ModelMatchTheDynamicModel() {
    OnnxTower b8 = SessionCache.get(fixed.textualOnnx(), Device.CPU, 1);
    OnnxTower any = SessionCache.get(dynamic.textualOnnx(), Device.CPU, 1);
    JsonNode captions = Fixtures.manifest().get("captions");
    int ctx = b8.contextLength();
    long[] ids = new long[N * ctx];
    for (int i = 0; i < N; i++) {
      JsonNode row = captions.get(i % captions.size()).get("ids");
      for (int j = 0; j < ctx; j++) {
        ids[i * ctx + j] = row.get(j).asLong();
      }
    }
    float[][] got = b8.runTokens(ids, N, ctx);
    float[][] want = any.runTokens(ids, N, ctx);
    assertThat(got).as("one embedding per caption").hasNumberOfRows(N);
    for (int i = 0; i < N; i++) {
      assertThat(Vectors.cosine(got[i], want[i]))
          .as("cosine(batch-8 model, dynamic model) of caption %d", i)
          .isGreaterThanOrEqualTo(0.99999);
    }
  }

  @Test
  void aBatch1ExportOnCudaWarnsLoudly() {
    ModelDirectory b1 = ModelDirectory.open(Fixtures.tinyClipFp16B1());
    try (FakeCuda cuda = FakeCuda.install();
        LogCapture log = new LogCapture(OnnxTower.class)) {
      OnnxTower t = SessionCache.get(b1.visualOnnx(), Device.cuda(0), 1);
      assertThat(t.fixedBatch()).as("fixture's batch").isEqualTo(1);
      assertThat(log.warnings())
          .as("warning when a batch-1 export runs on a GPU")
          .anySatisfy(
              w ->
                  assertThat(w)
                      .as("batch-1 warning")
                      .contains("fixed batch of 1 and runs on cuda:0", "dynamic batch axis"));
    }
    try (LogCapture log = new LogCapture(OnnxTower.class)) {
      SessionCache.get(b1.textualOnnx(), Device.CPU, 1);
      assertThat(log.warnings()).as("no such warning on the CPU").isEmpty();
    }
  }
}
