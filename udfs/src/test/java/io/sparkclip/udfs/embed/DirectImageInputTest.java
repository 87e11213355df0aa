package io.sparkclip.udfs.embed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.RowStatus;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.preprocess.BadImageException;
import io.sparkclip.udfs.preprocess.ClipImageTransform;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.session.Device;
import io.sparkclip.udfs.session.OnnxTower;
import io.sparkclip.udfs.session.SessionCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batches prepared straight into the tower's reused direct buffers give exactly the embeddings of
 * the heap path (a {@code float[]} that ONNX Runtime copies, and that float16 models convert on the
 * inference thread), for a float32 model, a fixed-batch-8 model (17 images: 8 + 8 + a padded 1) and
 * a float16 batch-1 model; ONNX Runtime copies none of them, and later batches, a shorter one
 * included, reuse the buffer.
 */
class DirectImageInputTest {
  private static final int GOOD = 17;
  private static final int BAD_AT = 5;

  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of("tiny-clip (fp32, dynamic batch)", Fixtures.tinyClip()),
        Arguments.of("tiny-clip-b8 (fp32, fixed batch 8)", Fixtures.tinyClipB8()),
        Arguments.of("tiny-clip-fp16-b1 (fp16, fixed batch 1)", Fixtures.tinyClipFp16B1()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void directBatchesGiveTheHeapPathsEmbeddingsWithoutACopy(String name, Path model) {
    ModelDirectory dir = ModelDirectory.open(model);
    OnnxTower tower = SessionCache.get(dir.visualOnnx(), Device.CPU, 1);
    ImageDecoder decoder = ImageDecoder.defaults();
    ImageEmbedder embedder = new ImageEmbedder(decoder, dir.preprocessConfig(), tower);
    List<byte[]> images = images();
    List<byte[]> good = new ArrayList<>(images);
    good.remove(BAD_AT);

    long copiesBefore = tower.inputCopies();
    float[][] want = heapPath(tower, embedder.transform(), decoder, good);
    if (tower.inputType() == OnnxJavaType.FLOAT) {
      assertThat(tower.inputCopies())
          .as("%s: ONNX Runtime copies a heap batch (the counter sees copies)", name)
          .isGreaterThan(copiesBefore);
    }

    long copies = tower.inputCopies();
    EmbedResult[] got = embedder.embed(images);
    assertThat(tower.inputCopies())
        .as("%s: runs whose direct input ONNX Runtime copied", name)
        .isEqualTo(copies);
    assertThat(got).as("%s: one result per input", name).hasSize(GOOD + 1);
    assertThat(got[BAD_AT].status)
        .as("%s: the corrupt image keeps its row and status", name)
        .isEqualTo(RowStatus.DECODE_ERROR);
    for (int i = 0, k = 0; i < got.length; i++) {
      if (i != BAD_AT) {
        assertThat(got[i].embedding)
            .as("%s: image %d, direct buffer vs heap array", name, i)
            .containsExactly(want[k++]);
      }
    }

    long bytes = tower.directBytes();
    EmbedResult[] again = embedder.embed(images);
    EmbedResult[] shorter = embedder.embed(images.subList(0, 3));
    assertThat(tower.directBytes())
        .as("%s: later batches reuse the first batch's buffer", name)
        .isEqualTo(bytes);
    assertThat(again[GOOD].embedding)
        .as("%s: last image, second batch", name)
        .containsExactly(want[GOOD - 1]);
    for (int i = 0; i < 3; i++) {
      assertThat(shorter[i].embedding)
          .as("%s: image %d of a 3-image batch in a 17-image buffer", name, i)
          .containsExactly(want[i]);
    }
  }

  /**
   * 18 inputs: the fixture images cycled to 17 decodable ones, a corrupt one at {@link #BAD_AT}.
   */
  private static List<byte[]> images() {
    List<byte[]> fixtures = new ArrayList<>();
    ImageDecoder decoder = ImageDecoder.defaults();
    Fixtures.manifest()
        .get("images")
        .forEach(
            e -> {
              byte[] b = Fixtures.image(e);
              try {
                decoder.decode(b);
                fixtures.add(b);
              } catch (BadImageException notDecodable) {
                // fixtures the default decoder refuses are not part of this comparison
              }
            });
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; out.size() < GOOD; i++) {
      out.add(fixtures.get(i % fixtures.size()));
    }
    out.add(BAD_AT, new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
    return out;
  }

  /** The engine's path before direct buffers: one heap array, handed to ONNX Runtime. */
  private static float[][] heapPath(
      OnnxTower tower, ClipImageTransform t, ImageDecoder decoder, List<byte[]> images) {
    int per = t.tensorSize();
    float[] chw = new float[images.size() * per];
    for (int i = 0; i < images.size(); i++) {
      try {
        t.normalize(t.toRgb8(decoder.decode(images.get(i))), chw, i * per);
      } catch (BadImageException e) {
        throw new AssertionError(e);
      }
    }
    return tower.runImages(chw, images.size(), t.config().size());
  }
}
