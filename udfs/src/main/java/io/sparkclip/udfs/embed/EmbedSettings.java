package io.sparkclip.udfs.embed;

import io.sparkclip.udfs.preprocess.ImageDecoder;
import java.io.Serializable;
import java.util.Objects;

/**
 * Everything an executor needs to build an embedder: paths and options only (small to serialize).
 * Equal settings share one embedder per JVM.
 */
public final class EmbedSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Preprocessing threads per task (and batches prepared ahead): decode overlaps inference. */
  public static final int PREPROCESS_THREADS_DEFAULT = 2;

  public final String modelDir;
  public final String device;
  public final int batchSize;
  public final int preprocessThreads;
  public final String decoder;
  public final long maxPixels;
  public final int reducedJpegTarget;

  public EmbedSettings(
      String modelDir,
      String device,
      int batchSize,
      int preprocessThreads,
      String decoder,
      long maxPixels,
      int reducedJpegTarget) {
    this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
    this.device = device;
    this.batchSize = batchSize;
    this.preprocessThreads = preprocessThreads;
    this.decoder = decoder;
    this.maxPixels = maxPixels;
    this.reducedJpegTarget = reducedJpegTarget;
  }

  public static EmbedSettings of(String modelDir) {
    return new EmbedSettings(
        modelDir,
        "auto",
        32,
        PREPROCESS_THREADS_DEFAULT,
        "auto",
        ImageDecoder.DEFAULT_MAX_PIXELS,
        0);
  }

  public EmbedSettings withDevice(String d) {
    return new EmbedSettings(
        modelDir, d, batchSize, preprocessThreads, decoder, maxPixels, reducedJpegTarget);
  }

  public EmbedSettings withBatchSize(int b) {
    return new EmbedSettings(
        modelDir, device, b, preprocessThreads, decoder, maxPixels, reducedJpegTarget);
  }

  public EmbedSettings withMaxPixels(long m) {
    return new EmbedSettings(
        modelDir, device, batchSize, preprocessThreads, decoder, m, reducedJpegTarget);
  }

  public EmbedSettings withDecoder(String d, int reducedTarget) {
    return new EmbedSettings(
        modelDir, device, batchSize, preprocessThreads, d, maxPixels, reducedTarget);
  }

  String key() {
    return modelDir + "|" + device + "|" + decoder + "|" + maxPixels + "|" + reducedJpegTarget;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EmbedSettings s && s.key().equals(key()) && s.batchSize == batchSize;
  }

  @Override
  public int hashCode() {
    return key().hashCode();
  }

  @Override
  public String toString() {
    return "EmbedSettings{" + key() + ", batch=" + batchSize + "}";
  }
}
