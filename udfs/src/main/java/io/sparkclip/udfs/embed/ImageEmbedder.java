package io.sparkclip.udfs.embed;

import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.model.PreprocessConfig;
import io.sparkclip.udfs.preprocess.BadImageException;
import io.sparkclip.udfs.preprocess.ClipImageTransform;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.session.ImageInput;
import io.sparkclip.udfs.session.OnnxTower;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Image bytes -> CLIP image embeddings. One bad image only marks its own row. */
public final class ImageEmbedder implements BatchEmbedder<byte[]> {
  private static final Logger LOG = LoggerFactory.getLogger(ImageEmbedder.class);

  private final ImageDecoder decoder;
  private final ClipImageTransform transform;
  private final OnnxTower tower;

  /** The tower's session (its device and file; tests check which device a task got). */
  public OnnxTower tower() {
    return tower;
  }

  public ImageEmbedder(ImageDecoder decoder, PreprocessConfig cfg, OnnxTower tower) {
    this.decoder = decoder;
    this.transform = new ClipImageTransform(cfg);
    this.tower = tower;
    int modelSize = tower.imageSize();
    if (modelSize > 0 && modelSize != cfg.size()) {
      throw ClipErrors.badConfig(
          ModelDirectory.PREPROCESS_CFG,
          "size " + cfg.size() + " but " + tower.file() + " expects " + modelSize + " px.",
          "set size to " + modelSize + ".");
    }
  }

  /** Checks the tower's embedding width against config.json. */
  public static void checkWidth(ModelDirectory dir, OnnxTower tower) {
    if (tower.embedDim() > 0 && tower.embedDim() != dir.embedDim()) {
      throw ClipErrors.towerWidthMismatch(tower.file(), tower.embedDim(), dir.embedDim());
    }
  }

  public ClipImageTransform transform() {
    return transform;
  }

  /**
   * Decodes and preprocesses a batch straight into a direct input buffer of the tower (float32 or
   * float16 as the model takes it), on the calling preprocessing thread.
   */
  @Override
  public PreparedBatch prepare(List<byte[]> images) {
    int n = images.size();
    EmbedResult[] failures = new EmbedResult[n];
    ImageInput input = tower.imageInput(n, transform.config().size());
    try {
      fill(images, failures, input);
    } catch (RuntimeException | Error e) {
      tower.release(input);
      throw e;
    }
    return new PreparedBatch(failures, input, null);
  }

  private void fill(List<byte[]> images, EmbedResult[] failures, ImageInput input) {
    int n = images.size();
    float[] chw = new float[transform.tensorSize()];
    for (int i = 0; i < n; i++) {
      try {
        byte[] rgb = transform.toRgb8(decoder.decode(images.get(i)));
        transform.normalize(rgb, chw, 0);
        input.add(chw);
      } catch (BadImageException e) {
        failures[i] = EmbedResult.failed(e.status(), e.getMessage());
        LOG.debug("image {} of batch: {} {}", i, e.status().value(), e.getMessage());
      } catch (RuntimeException | OutOfMemoryError e) {
        failures[i] =
            EmbedResult.failed(
                io.sparkclip.udfs.RowStatus.DECODE_ERROR,
                "preprocessing failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        LOG.warn("image {} of batch failed in preprocessing", i, e);
      }
    }
    input.finish();
  }

  @Override
  public void discard(PreparedBatch b) {
    tower.release(b.images);
  }

  @Override
  public EmbedResult[] infer(PreparedBatch b) {
    try {
      return b.good == 0 ? b.failures.clone() : b.merge(tower.runImages(b.images));
    } finally {
      tower.release(b.images);
    }
  }
}
