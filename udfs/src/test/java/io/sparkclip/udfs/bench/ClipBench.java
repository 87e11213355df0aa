package io.sparkclip.udfs.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.sparkclip.udfs.embed.Vectors;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.model.PreprocessConfig;
import io.sparkclip.udfs.preprocess.BadImageException;
import io.sparkclip.udfs.preprocess.ClipImageTransform;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.preprocess.Raster8;
import io.sparkclip.udfs.session.Device;
import io.sparkclip.udfs.session.OnnxTower;
import io.sparkclip.udfs.session.SessionCache;
import io.sparkclip.udfs.text.ClipTokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Throughput benchmarks (not a test). See bench/README.md for how to run it.
 *
 * <pre>
 * ClipBench decode DIR [seconds]                 decode / decode+preprocess images/s, one thread
 * ClipBench embed MODEL_DIR [threads] [seconds]  session images/s and texts/s at batch 1/32/128
 * ClipBench tensor [batch] [size] [seconds]      inference-thread cost of making an input tensor
 * </pre>
 */
public final class ClipBench {
  private ClipBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println(
          "usage: ClipBench decode DIR [seconds] | embed MODEL_DIR [threads] [seconds] [device]"
              + " | tensor BATCH [size] [seconds]");
      System.exit(2);
    }
    switch (args[0]) {
      case "decode" ->
          decode(Paths.get(args[1]), args.length > 2 ? Double.parseDouble(args[2]) : 5);
      case "embed" ->
          embed(
              Paths.get(args[1]),
              args.length > 2
                  ? Integer.parseInt(args[2])
                  : Runtime.getRuntime().availableProcessors(),
              args.length > 3 ? Double.parseDouble(args[3]) : 8,
              // Outside a Spark task: cuda means cuda:0; a CPU build asked for cuda fails with
              // DEVICE_CUDA_UNAVAILABLE instead of quietly measuring the CPU.
              SessionCache.resolveDevice(args.length > 4 ? args[4] : "cpu"));
      case "tensor" ->
          tensor(
              Integer.parseInt(args[1]),
              args.length > 2 ? Integer.parseInt(args[2]) : 224,
              args.length > 3 ? Double.parseDouble(args[3]) : 5);
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  @FunctionalInterface
  interface Work {
    void run(byte[] image) throws BadImageException;
  }

  /** Items per second of {@code work} over the images, one thread, after one warm-up pass. */
  static double rate(List<byte[]> images, double seconds, Work work) throws BadImageException {
    for (byte[] b : images) {
      work.run(b);
    }
    long n = 0;
    long t0 = System.nanoTime();
    long end = t0 + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      for (byte[] b : images) {
        work.run(b);
      }
      n += images.size();
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  /** The bytes of every file in {@code dir}, by name. */
  static List<byte[]> readImages(Path dir) throws IOException {
    List<byte[]> images = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
        images.add(Files.readAllBytes(p));
      }
    }
    if (images.isEmpty()) {
      throw new IllegalArgumentException("no files in " + dir);
    }
    return images;
  }

  static void decode(Path dir, double seconds) throws Exception {
    List<byte[]> images = readImages(dir);
    long bytes = images.stream().mapToLong(b -> b.length).sum();
    System.out.printf(
        "decode bench: %d JPEGs, %.1f MB, OpenCV available: %s, one thread%n",
        images.size(), bytes / 1e6, ImageDecoder.openCvAvailable());
    if (ImageDecoder.openCvAvailable()) {
      for (String line : org.opencv.core.Core.getBuildInformation().split("\n")) {
        if (line.contains("JPEG") || line.contains("WEBP") || line.contains("CPU/HW")) {
          System.out.println("  opencv build: " + line.trim());
        }
      }
    }
    ClipImageTransform t = new ClipImageTransform(PreprocessConfig.clip(224));
    float[] out = new float[t.tensorSize()];
    Object[][] variants = {
      {
        "imageio (JDK libjpeg 6b)",
        new ImageDecoder(ImageDecoder.Backend.IMAGEIO, Long.MAX_VALUE, 0)
      },
      {"opencv (libjpeg-turbo)", new ImageDecoder(ImageDecoder.Backend.OPENCV, Long.MAX_VALUE, 0)},
      {"auto (default)", ImageDecoder.defaults()},
      {
        "auto + reducedJpegTarget=224",
        new ImageDecoder(ImageDecoder.Backend.AUTO, Long.MAX_VALUE, 224)
      }
    };
    System.out.printf("%-30s %14s %24s%n", "decoder", "decode img/s", "decode+preprocess img/s");
    for (Object[] v : variants) {
      ImageDecoder d = (ImageDecoder) v[1];
      double dec = rate(images, seconds, b -> d.decode(b));
      double full = rate(images, seconds, b -> t.normalize(t.toRgb8(d.decode(b)), out, 0));
      System.out.printf("%-30s %14.1f %24.1f%n", v[0], dec, full);
    }
    double pre = 0;
    Raster8[] decoded = new Raster8[images.size()];
    for (int i = 0; i < decoded.length; i++) {
      decoded[i] = ImageDecoder.defaults().decode(images.get(i));
    }
    long n = 0;
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < seconds * 1e9) {
      for (Raster8 r : decoded) {
        t.normalize(t.toRgb8(r), out, 0);
      }
      n += decoded.length;
    }
    pre = n / ((System.nanoTime() - t0) / 1e9);
    System.out.printf("%-30s %14s %24.1f%n", "preprocess only (resize 224)", "-", pre);
    // Parity cost of the approximate mode: tensors vs the exact path on the same images.
    ImageDecoder exact = ImageDecoder.defaults();
    ImageDecoder approx = (ImageDecoder) variants[3][1];
    float[] a = new float[t.tensorSize()];
    float[] b = new float[t.tensorSize()];
    double sum = 0;
    double worst = 0;
    for (byte[] img : images) {
      t.normalize(t.toRgb8(exact.decode(img)), a, 0);
      t.normalize(t.toRgb8(approx.decode(img)), b, 0);
      double mad = 0;
      for (int i = 0; i < a.length; i++) {
        mad += Math.abs(a[i] - b[i]);
      }
      mad /= a.length;
      sum += mad;
      worst = Math.max(worst, mad);
    }
    System.out.printf(
        "reducedJpegTarget=224 vs exact: mean |tensor diff| %.5f (worst image %.5f)%n",
        sum / images.size(), worst);
  }

  static void embed(Path modelDir, int threads, double seconds, Device device) throws IOException {
    ModelDirectory dir = ModelDirectory.open(modelDir);
    OnnxTower visual = SessionCache.get(dir.visualOnnx(), device, threads);
    OnnxTower textual = SessionCache.get(dir.textualOnnx(), device, threads);
    int size = dir.preprocessConfig().size();
    System.out.printf(
        "embed bench: %s, image %dpx, embed_dim %d, %s, %d intra-op threads%n",
        modelDir, size, dir.embedDim(), device, threads);
    Random rnd = new Random(1);
    ClipTokenizer tok = ClipTokenizer.load(dir.tokenizerJson(), dir.contextLength());
    String[] colours = {"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"};
    String[] shapes = {"circle", "square", "triangle", "star", "hexagon", "cross", "diamond"};
    System.out.printf("%-6s %12s %12s%n", "batch", "images/s", "texts/s");
    for (int batch : new int[] {1, 32, 128}) {
      float[] pixels = new float[batch * 3 * size * size];
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = (float) rnd.nextGaussian();
      }
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        texts.add("a photo of a " + colours[i % 8] + " " + shapes[i % 7] + " on the left");
      }
      long[] ids = new long[batch * dir.contextLength()];
      double img = timed(seconds, batch, () -> visual.runImages(pixels, batch, size));
      double txt =
          timed(
              seconds,
              batch,
              () -> {
                tok.tokenize(texts, ids);
                textual.runTokens(ids, batch, dir.contextLength());
              });
      System.out.printf("%-6d %12.1f %12.1f%n", batch, img, txt);
    }
    float[][] e = visual.runImages(new float[3 * size * size], 1, size);
    System.out.printf("(sanity: |embedding| = %.4f)%n", Math.sqrt(Vectors.cosine(e[0], e[0])));
  }

  /**
   * What the inference thread spends turning a prepared batch into ONNX Runtime's input tensor:
   * from a heap array (ONNX Runtime copies it into a fresh direct buffer; a float16 model's batch
   * was converted value by value first) against a direct buffer filled by the preprocessing thread
   * (read in place). Milliseconds per batch, one thread.
   */
  static void tensor(int batch, int size, double seconds) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    int n = batch * 3 * size * size;
    long[] shape = {batch, 3, size, size};
    float[] heap = new float[n];
    Random rnd = new Random(1);
    for (int i = 0; i < n; i++) {
      heap[i] = (float) rnd.nextGaussian();
    }
    ByteBuffer direct32 = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
    direct32.asFloatBuffer().put(0, heap);
    ByteBuffer direct16 = ByteBuffer.allocateDirect(n * 2).order(ByteOrder.nativeOrder());
    System.out.printf(
        "tensor bench: batch %d x 3 x %d x %d (%.1f MB float32), one thread%n",
        batch, size, size, n * 4 / 1e6);
    System.out.printf("%-58s %10s%n", "input tensor made on the inference thread", "ms/batch");
    Object[][] cases = {
      {
        "float32 heap array (ONNX Runtime copies it)",
        (Tensor) () -> OnnxTensor.createTensor(env, FloatBuffer.wrap(heap), shape)
      },
      {
        "float32 direct buffer (read in place)",
        (Tensor) () -> OnnxTensor.createTensor(env, direct32.asFloatBuffer(), shape)
      },
      {
        "float16 converted from a heap array into a fresh buffer",
        (Tensor)
            () -> {
              ByteBuffer b = ByteBuffer.allocateDirect(n * 2).order(ByteOrder.nativeOrder());
              ShortBuffer sb = b.asShortBuffer();
              for (int i = 0; i < n; i++) {
                sb.put(i, Vectors.toHalf(heap[i]));
              }
              return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.FLOAT16);
            }
      },
      {
        "float16 direct buffer (converted while preprocessing)",
        (Tensor) () -> OnnxTensor.createTensor(env, direct16, shape, OnnxJavaType.FLOAT16)
      }
    };
    for (Object[] c : cases) {
      Tensor make = (Tensor) c[1];
      double perSecond =
          timed(
              seconds,
              1,
              () -> {
                try (OnnxTensor t = make.create()) {
                  t.getInfo();
                } catch (OrtException e) {
                  throw new IllegalStateException(e);
                }
              });
      System.out.printf("%-58s %10.2f%n", c[0], 1000 / perSecond);
    }
  }

  @FunctionalInterface
  interface Tensor {
    OnnxTensor create() throws OrtException;
  }

  static double timed(double seconds, int perCall, Runnable r) {
    r.run(); // warm-up
    r.run();
    long n = 0;
    long t0 = System.nanoTime();
    do {
      r.run();
      n += perCall;
    } while (System.nanoTime() - t0 < seconds * 1e9);
    return n / ((System.nanoTime() - t0) / 1e9);
  }
}
