package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.ModelDirectory;
import org.junit.jupiter.api.Test;

/**
 * A tower's pooled image buffers: one released twice is pooled once (two later batches never share
 * it), and a released input refuses every use, since its buffer may hold another batch by then.
 */
class ImageInputTest {
  private final OnnxTower tower =
      SessionCache.get(ModelDirectory.open(Fixtures.tinyClip()).visualOnnx(), Device.CPU, 1);

  @Test
  void aBufferReleasedTwiceServesOneBatchAtATime() {
    ImageInput first = tower.imageInput(4, 64);
    tower.release(first);
    tower.release(first);
    ImageInput a = tower.imageInput(4, 64);
    ImageInput b = tower.imageInput(4, 64);
    assertThat(a.buffer).as("the released buffer is reused").isSameAs(first.buffer);
    assertThat(b.buffer).as("a second batch gets a buffer of its own").isNotSameAs(a.buffer);
    tower.release(a);
    tower.release(b);
  }

  @Test
  void aReleasedInputRefusesUse() {
    ImageInput in = tower.imageInput(2, 64);
    in.add(new float[3 * 64 * 64]);
    in.finish();
    tower.release(in);
    assertThatThrownBy(() -> tower.runImages(in))
        .as("running a released input")
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("released");
    ImageInput other = tower.imageInput(2, 64);
    assertThatThrownBy(() -> in.add(new float[3 * 64 * 64]))
        .as("writing a released input")
        .isInstanceOf(IllegalStateException.class);
    tower.release(other);
  }
}
