package io.sparkclip.udfs.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.embed.BatchEmbedder;
import io.sparkclip.udfs.embed.EmbedResult;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.embed.ImageEmbedder;
import io.sparkclip.udfs.embed.PreparedBatch;
import io.sparkclip.udfs.embed.TextEmbedder;
import io.sparkclip.udfs.embed.Vectors;
import io.sparkclip.udfs.session.CudaOptions;
import io.sparkclip.udfs.session.Device;
import io.sparkclip.udfs.session.SessionCache;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * GPU smoke test (not a unit test): {@code bench/gpu-smoke.sh} runs it on a GPU node, see
 * bench/README.md. Uses only the embedders' public API (prepare + infer), as executors do.
 *
 * <pre>
 * GpuSmoke images OUT_DIR [count]                          synthetic JPEGs
 * GpuSmoke parity MODEL_DIR IMAGES_DIR DEVICE              CPU vs DEVICE cosine, batch 1/17/256
 * GpuSmoke throughput MODEL_DIR IMAGES_DIR DEVICE [secs]   images/s, texts/s at batch 32/128/256
 * GpuSmoke negative MODEL_DIR DEVICE                       CUDA failures and their error ids
 * </pre>
 *
 * Exit code 0: all checks passed; 1: a check failed; 2: usage.
 */
public final class GpuSmoke {
  private static final int FAILED = 1;
  private static final int USAGE = 2;

  /** CPU reference sessions use every core; CUDA sessions take their threads from CudaOptions. */
  private GpuSmoke() {}

  public static void main(String[] args) throws Exception {
    int rc;
    try {
      rc = run(args);
    } catch (SparkclipException e) {
      // An engine error the check did not expect (a CPU build asked for cuda, a missing model
      // file): its id and message are the diagnosis.
      System.out.println("FAIL " + e.id() + ": " + e.getMessage());
      rc = FAILED;
    } catch (IllegalArgumentException | NoSuchFileException e) {
      System.err.println("GpuSmoke: " + e);
      rc = usage();
    }
    System.exit(rc);
  }

  private static int run(String[] a) throws Exception {
    String cmd = a.length > 0 ? a[0] : "";
    int n = a.length;
    if (cmd.equals("images") && (n == 2 || n == 3)) {
      Path dir = Files.createDirectories(Paths.get(a[1]));
      List<byte[]> images = synthetic(n > 2 ? Integer.parseInt(a[2]) : 24);
      for (int i = 0; i < images.size(); i++) {
        Files.write(dir.resolve(String.format("smoke-%03d.jpg", i)), images.get(i));
      }
      System.out.printf("wrote %d JPEGs to %s%n", images.size(), dir);
      return 0;
    } else if (cmd.equals("parity") && n == 4) {
      return parity(Paths.get(a[1]), ClipBench.readImages(Paths.get(a[2])), a[3]);
    } else if (cmd.equals("throughput") && (n == 4 || n == 5)) {
      double secs = n > 4 ? Double.parseDouble(a[4]) : 3;
      return throughput(Paths.get(a[1]), ClipBench.readImages(Paths.get(a[2])), a[3], secs);
    } else if (cmd.equals("negative") && n == 3) {
      return negative(Paths.get(a[1]), a[2]);
    }
    return usage();
  }

  private static int usage() {
    System.err.println(
        "usage: GpuSmoke images OUT_DIR [count] | parity MODEL_DIR IMAGES_DIR DEVICE"
            + " | throughput MODEL_DIR IMAGES_DIR DEVICE [seconds] | negative MODEL_DIR DEVICE");
    return USAGE;
  }

  /** Both towers of a model, from the executors' own factory ({@link Embedders}). */
  record Towers(ImageEmbedder image, TextEmbedder text) {
    static Towers open(Path modelDir, String deviceParam) {
      EmbedSettings s = EmbedSettings.of(modelDir.toString()).withDevice(deviceParam);
      return new Towers(Embedders.image(s), Embedders.text(s));
    }
  }

  static int parity(Path modelDir, List<byte[]> images, String deviceParam) throws Exception {
    Towers cpu = Towers.open(modelDir, "cpu");
    Towers dev = Towers.open(modelDir, deviceParam);
    Device device = dev.image().tower().device();
    // fp32: 0.999, as GpuEmbedIT. CUDA and CPU kernels sum in different orders (and cuBLAS may use
    // TF32 on Ampere+), which costs 1e-5..1e-4 of cosine on a CLIP tower; 0.999 leaves room for
    // that and still catches a wrong input layout, a broken kernel or a mixed-up device (those
    // give cosines far below 0.99). An fp16-input export runs in half precision on the GPU but is
    // cast to float32 on the CPU, so it gets 0.995.
    boolean fp16 = dev.image().tower().inputType() == OnnxJavaType.FLOAT16;
    double threshold =
        Double.parseDouble(System.getProperty("gpusmoke.minCosine", fp16 ? "0.995" : "0.999"));
    String precision = fp16 ? "fp16" : "fp32";
    System.out.printf(
        "parity: %s (%s input), %d images, CPU vs %s, pass: min cosine >= %.4f%n",
        modelDir, precision, images.size(), device, threshold);
    System.out.println("ONNX Runtime providers: " + OrtEnvironment.getAvailableProviders());
    System.out.printf(
        "%-6s %5s %12s %12s %12s %12s  %s%n",
        "batch", "rows", "img min", "img median", "txt min", "txt median", "result");
    boolean ok = true;
    for (int batch : new int[] {1, 17, 256}) {
      // Batch 1: each of the first 32 images (and captions) alone, as a partition's lone last
      // row; 17 and 256: one batch each, cycled to fill it (17: no power of two, a padded shape).
      List<List<Integer>> batches =
          batch == 1
              ? IntStream.range(0, Math.min(32, images.size())).mapToObj(List::of).toList()
              : List.of(IntStream.range(0, batch).boxed().toList());
      List<Double> img = new ArrayList<>();
      List<Double> txt = new ArrayList<>();
      int mismatches = 0;
      for (List<Integer> rows : batches) {
        List<byte[]> b = rows.stream().map(i -> images.get(i % images.size())).toList();
        List<String> t = rows.stream().map(GpuSmoke::caption).toList();
        mismatches += compare(cpu.image(), dev.image(), b, img);
        mismatches += compare(cpu.text(), dev.text(), t, txt);
      }
      double[] im = stats(img);
      double[] tx = stats(txt);
      boolean pass = mismatches == 0 && im[0] >= threshold && tx[0] >= threshold;
      ok &= pass;
      String result = pass ? "PASS" : mismatches > 0 ? "FAIL (" + mismatches + " rows)" : "FAIL";
      System.out.printf(
          "%-6d %5d %12.6f %12.6f %12.6f %12.6f  %s%n",
          batch, img.size(), im[0], im[1], tx[0], tx[1], result);
    }
    return ok ? 0 : FAILED;
  }

  /** Adds the cosine of each row embedded on both sides; returns (prints) status mismatches. */
  private static <T> int compare(
      BatchEmbedder<T> cpu, BatchEmbedder<T> dev, List<T> in, List<Double> cosines) {
    EmbedResult[] ref = cpu.embed(in);
    EmbedResult[] got = dev.embed(in);
    int mismatches = 0;
    for (int i = 0; i < ref.length; i++) {
      if (ref[i].isOk() && got[i].isOk()) {
        cosines.add(Vectors.cosine(ref[i].embedding, got[i].embedding));
      } else if (ref[i].status != got[i].status) {
        System.out.printf(
            "  row %d: cpu %s, device %s %s%n", i, ref[i].status, got[i].status, got[i].error);
        mismatches++;
      }
    }
    return mismatches;
  }

  static int throughput(Path modelDir, List<byte[]> images, String deviceParam, double seconds) {
    Towers t = Towers.open(modelDir, deviceParam);
    Device device = t.image().tower().device();
    // "infer": the session's own rate (host-to-device copy and L2 norm included). "prep+infer"
    // adds decode + preprocess (tokenize for text) on this one thread: a task without prefetch;
    // Spark tasks prepare the next batches on --preprocess-threads while one runs.
    System.out.printf(
        "throughput: %s on %s, %d source images, ~%.1f s per batch size and tower, one thread%n",
        modelDir, device, images.size(), seconds);
    System.out.printf(
        "%-6s %14s %18s %14s %18s%n",
        "batch", "img/s infer", "img/s prep+infer", "txt/s infer", "txt/s tok+infer");
    List<String> captions = IntStream.range(0, 77).mapToObj(GpuSmoke::caption).toList();
    for (int batch : new int[] {32, 128, 256}) {
      double[] img = rates(t.image(), cycle(images, batch), seconds);
      double[] txt = rates(t.text(), cycle(captions, batch), seconds);
      System.out.printf(
          "%-6d %14.1f %18.1f %14.1f %18.1f%n", batch, img[0], img[1], txt[0], txt[1]);
    }
    return 0;
  }

  /**
   * Items/s of infer alone and of prepare + infer, from one loop of about {@code seconds}. Every
   * run gets a fresh prepare (untimed for the first figure): infer hands a batch's pooled input
   * buffer back to its tower, so a prepared batch cannot be run twice.
   */
  static <T> double[] rates(BatchEmbedder<T> e, List<T> in, double seconds) {
    e.infer(e.prepare(in)); // warm-up: the first run of a shape (CUDA: kernel choice, arena growth)
    long inferNs = 0;
    long runs = 0;
    long t0 = System.nanoTime();
    do {
      PreparedBatch p = e.prepare(in);
      long s = System.nanoTime();
      e.infer(p);
      inferNs += System.nanoTime() - s;
      runs++;
    } while (runs < 2 || System.nanoTime() - t0 < seconds * 1e9);
    double items = (double) runs * in.size();
    return new double[] {items / (inferNs / 1e9), items / ((System.nanoTime() - t0) / 1e9)};
  }

  static int negative(Path modelDir, String deviceParam) throws Exception {
    List<byte[]> images = cycle(synthetic(8), 256);
    if (!SessionCache.cudaProviderAvailable()) {
      System.out.println("note: this ONNX Runtime has no CUDA provider (build with -Pgpu)");
    }
    System.out.printf("%-34s %-28s %-28s %s%n", "case", "expected", "got", "result");
    boolean ok =
        expect(
            "device cuda:99",
            ErrorId.DEVICE_CUDA_NO_DEVICE,
            () -> embed(modelDir, "cuda:99", images.subList(0, 1)));
    // CudaOptions reads spark.sparkclip.cuda.* only from the SparkEnv's conf (CudaOptions.current),
    // so a local SparkContext is what puts the limit where an executor would find it. No session
    // of this device was opened before in this JVM, so the limited one is the first.
    String limit = System.getProperty("gpusmoke.memoryLimit", "1m");
    SparkConf conf = new SparkConf().setMaster("local[1]").setAppName("GpuSmoke");
    conf.set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1");
    SparkContext sc = new SparkContext(conf.set(CudaOptions.MEMORY_LIMIT, limit));
    try {
      System.out.println("  (CUDA options now: " + CudaOptions.current() + ")");
      // 1 MiB holds neither a real tower's weights (failure while loading) nor tiny-clip's batch of
      // 256 (12 MiB of input alone; failure while running): either must be OUT_OF_MEMORY.
      ok &=
          expect(
              "cuda.memoryLimit=" + limit + ", batch 256",
              ErrorId.DEVICE_CUDA_OUT_OF_MEMORY,
              () -> embed(modelDir, deviceParam, images));
    } finally {
      sc.stop();
    }
    // Not provoked: they need a broken node. gpu-smoke.sh step 1 checks the libraries whose
    // absence is PROVIDER_FAILED, and the driver's CUDA version, whose lack is DRIVER.
    for (String[] c : new String[][] {{"old driver", "DRIVER"}, {"no cuDNN", "PROVIDER_FAILED"}}) {
      System.out.printf("%-34s %-28s %-28s %s%n", c[0], "DEVICE_CUDA_" + c[1], "-", "SKIP");
    }
    return ok ? 0 : FAILED;
  }

  private static void embed(Path modelDir, String deviceParam, List<byte[]> images) {
    Towers t = Towers.open(modelDir, deviceParam);
    t.image().embed(images); // a CUDA failure throws; a bad image would only mark its row
  }

  /** Runs {@code r} and prints PASS when it fails with {@code expected}. */
  private static boolean expect(String name, ErrorId expected, Runnable r) {
    String got = "no error";
    String message = "";
    try {
      r.run();
    } catch (SparkclipException e) {
      got = e.id().name();
      message = e.getMessage();
    }
    boolean pass = got.equals(expected.name());
    System.out.printf("%-34s %-28s %-28s %s%n", name, expected, got, pass ? "PASS" : "FAIL");
    if (!message.isEmpty()) {
      System.out.println("  message: " + message.replace('\n', ' '));
    }
    return pass;
  }

  /** Deterministic, varied JPEGs (sizes 96-512 px, gradients and shapes), ImageIO only. */
  static List<byte[]> synthetic(int count) throws IOException {
    Random rnd = new Random(42);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int w = 96 + rnd.nextInt(417);
      int h = 96 + rnd.nextInt(417);
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = img.createGraphics();
      g.setPaint(new GradientPaint(0, 0, new Color(rnd.nextInt()), w, h, new Color(rnd.nextInt())));
      g.fillRect(0, 0, w, h);
      for (int k = 0; k < 3 + rnd.nextInt(5); k++) {
        g.setColor(new Color(rnd.nextInt()));
        g.fillOval(
            rnd.nextInt(w) - 20, rnd.nextInt(h) - 20, 10 + rnd.nextInt(w), 10 + rnd.nextInt(h));
      }
      g.dispose();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      ImageIO.write(img, "jpg", bytes);
      out.add(bytes.toByteArray());
    }
    return out;
  }

  /** Caption {@code i}: varied, every 11th longer than the 77-token context (truncated). */
  static String caption(int i) {
    String[] colours = {"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"};
    String[] shapes = {"circle", "square", "triangle", "star", "hexagon", "cross", "diamond"};
    String c = "a photo of a " + colours[i % 8] + " " + shapes[i % 7];
    return i % 11 == 10 ? String.join(" and ", Collections.nCopies(40, c)) : c;
  }

  static <T> List<T> cycle(List<T> items, int n) {
    return IntStream.range(0, n).mapToObj(i -> items.get(i % items.size())).toList();
  }

  /** {min, median}; NaN when nothing was compared (which fails the check). */
  private static double[] stats(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length == 0
        ? new double[] {Double.NaN, Double.NaN}
        : new double[] {a[0], a[a.length / 2]};
  }
}
