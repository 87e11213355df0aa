package io.sparkclip.udfs.embed;

import io.sparkclip.udfs.model.ModelCache;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.session.Device;
import io.sparkclip.udfs.session.OnnxTower;
import io.sparkclip.udfs.session.SessionCache;
import io.sparkclip.udfs.text.ClipTokenizer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;

/**
 * Executor-side factory: localizes the model directory (once per JVM, {@link ModelCache}), opens
 * the tower's session ({@link SessionCache}) and builds the embedder, memoized per JVM.
 */
public final class Embedders {
  private static final Map<String, ImageEmbedder> IMAGE = new ConcurrentHashMap<>();
  private static final Map<String, TextEmbedder> TEXT = new ConcurrentHashMap<>();

  private Embedders() {}

  /** The Hadoop configuration of this executor (spark.hadoop.* applied), or a default one. */
  public static Configuration hadoopConf() {
    SparkEnv env = SparkEnv.get();
    return env == null ? new Configuration() : SparkHadoopUtil.get().newConfiguration(env.conf());
  }

  public static ModelDirectory modelDirectory(String uri) {
    return ModelCache.localize(uri, hadoopConf());
  }

  /**
   * The embedder for this task's resolved device. The key holds the resolved device (cuda:0,
   * cuda:1, cpu), not the device param: with {@code auto} on an executor with two GPUs, tasks
   * holding GPU "1" must not reuse the embedder (and session) of the first task, on GPU "0".
   */
  public static ImageEmbedder image(EmbedSettings s) {
    Device device = SessionCache.resolveDevice(s.device);
    int threads = SessionCache.taskThreads();
    return IMAGE.computeIfAbsent(
        s.key() + "|" + device + "|" + threads,
        k -> {
          ModelDirectory dir = modelDirectory(s.modelDir);
          OnnxTower tower = SessionCache.get(dir.visualOnnx(), device, threads);
          ImageEmbedder.checkWidth(dir, tower);
          ImageDecoder dec =
              new ImageDecoder(
                  ImageDecoder.parseBackend(s.decoder), s.maxPixels, s.reducedJpegTarget);
          return new ImageEmbedder(dec, dir.preprocessConfig(), tower);
        });
  }

  /** The text embedder for this task's resolved device (keyed like {@link #image}). */
  public static TextEmbedder text(EmbedSettings s) {
    Device device = SessionCache.resolveDevice(s.device);
    int threads = SessionCache.taskThreads();
    return TEXT.computeIfAbsent(
        s.key() + "|" + device + "|" + threads,
        k -> {
          ModelDirectory dir = modelDirectory(s.modelDir);
          OnnxTower tower = SessionCache.get(dir.textualOnnx(), device, threads);
          ImageEmbedder.checkWidth(dir, tower);
          ClipTokenizer tok = ClipTokenizer.load(dir.tokenizerJson(), dir.contextLength());
          return new TextEmbedder(tok, tower);
        });
  }
}
