package io.sparkclip.udfs.session;

import io.sparkclip.udfs.ClipErrors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * ONNX Runtime CUDA provider options, read on each executor from the application's Spark conf
 * ({@code --conf spark.sparkclip.cuda.*=...} on any command, or conf/spark-defaults.*.conf), so
 * that embed, score heads and every other session share them without a command-line flag each. The
 * defaults are chosen for CLIP inference next to CPU preprocessing; docs/gpu.md says why.
 */
public final class CudaOptions {
  /** How the CUDA memory arena grows: kSameAsRequested or kNextPowerOfTwo. */
  public static final String ARENA_EXTEND_STRATEGY = "spark.sparkclip.cuda.arenaExtendStrategy";

  /**
   * Grow the arena by what a run asks for: the ONNX Runtime default (powers of two) can reserve
   * nearly twice the memory a ViT-L/14 batch needs, which is what runs a shared GPU out of memory.
   */
  public static final String ARENA_EXTEND_STRATEGY_DEFAULT = "kSameAsRequested";

  /** The arena's limit per session in bytes (k/m/g suffixes allowed); 0 = no limit. */
  public static final String MEMORY_LIMIT = "spark.sparkclip.cuda.memoryLimit";

  public static final long MEMORY_LIMIT_DEFAULT = 0;

  /** cuDNN convolution algorithm search: HEURISTIC, EXHAUSTIVE or DEFAULT. */
  public static final String CONV_ALGO_SEARCH = "spark.sparkclip.cuda.convAlgoSearch";

  /**
   * HEURISTIC: ONNX Runtime's EXHAUSTIVE default benchmarks every algorithm for each new input
   * shape, and a partition's last (shorter) batch is a new shape every time.
   */
  public static final String CONV_ALGO_SEARCH_DEFAULT = "HEURISTIC";

  /** Intra-op threads of a CUDA session. */
  public static final String INTRA_OP_THREADS = "spark.sparkclip.cuda.intraOpThreads";

  /**
   * One: the GPU does the work, and more CPU threads only spin beside it, taking the cores that
   * decode and preprocess the next batch.
   */
  public static final int INTRA_OP_THREADS_DEFAULT = 1;

  static final List<String> ARENA_STRATEGIES = List.of("kSameAsRequested", "kNextPowerOfTwo");
  static final List<String> CONV_SEARCHES = List.of("HEURISTIC", "EXHAUSTIVE", "DEFAULT");

  private final String arenaExtendStrategy;
  private final long memoryLimit;
  private final String convAlgoSearch;
  private final int intraOpThreads;

  private CudaOptions(
      String arenaExtendStrategy, long memoryLimit, String convAlgoSearch, int intraOpThreads) {
    this.arenaExtendStrategy = arenaExtendStrategy;
    this.memoryLimit = memoryLimit;
    this.convAlgoSearch = convAlgoSearch;
    this.intraOpThreads = intraOpThreads;
  }

  /** The options of this executor's Spark conf (defaults outside Spark). */
  public static CudaOptions current() {
    SparkEnv env = SparkEnv.get();
    return env == null ? from(k -> null) : from(conf(env.conf()));
  }

  private static UnaryOperator<String> conf(SparkConf c) {
    return k -> c.contains(k) ? c.get(k) : null;
  }

  /** Reads and checks the options; {@code get} returns null for an unset key. */
  static CudaOptions from(UnaryOperator<String> get) {
    String arena =
        oneOf(get, ARENA_EXTEND_STRATEGY, ARENA_EXTEND_STRATEGY_DEFAULT, ARENA_STRATEGIES);
    String search = oneOf(get, CONV_ALGO_SEARCH, CONV_ALGO_SEARCH_DEFAULT, CONV_SEARCHES);
    String limit = get.apply(MEMORY_LIMIT);
    long bytes = limit == null ? MEMORY_LIMIT_DEFAULT : bytes(limit);
    String threads = get.apply(INTRA_OP_THREADS);
    int n;
    try {
      n = threads == null ? INTRA_OP_THREADS_DEFAULT : Integer.parseInt(threads.trim());
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 1) {
      throw ClipErrors.cudaOptionInvalid(INTRA_OP_THREADS, threads, "a whole number of at least 1");
    }
    return new CudaOptions(arena, bytes, search, n);
  }

  private static String oneOf(
      UnaryOperator<String> get, String key, String fallback, List<String> allowed) {
    String v = get.apply(key);
    if (v == null) {
      return fallback;
    }
    for (String a : allowed) {
      if (a.equalsIgnoreCase(v.trim())) {
        return a;
      }
    }
    throw ClipErrors.cudaOptionInvalid(key, v, "one of " + allowed);
  }

  private static long bytes(String v) {
    String s = v.trim().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (s.endsWith("k") || s.endsWith("m") || s.endsWith("g")) {
      char c = s.charAt(s.length() - 1);
      unit = c == 'k' ? 1L << 10 : c == 'm' ? 1L << 20 : 1L << 30;
      s = s.substring(0, s.length() - 1);
    }
    try {
      long n = Long.parseLong(s.trim());
      if (n >= 0) {
        return Math.multiplyExact(n, unit);
      }
    } catch (NumberFormatException | ArithmeticException e) {
      // reported below
    }
    throw ClipErrors.cudaOptionInvalid(MEMORY_LIMIT, v, "bytes, e.g. 6g, 4096m or 0 (no limit)");
  }

  /** The OrtCUDAProviderOptions entries these options set (ONNX Runtime's key names). */
  public Map<String, String> providerOptions() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("arena_extend_strategy", arenaExtendStrategy);
    m.put("cudnn_conv_algo_search", convAlgoSearch);
    if (memoryLimit > 0) {
      m.put("gpu_mem_limit", Long.toString(memoryLimit));
    }
    return m;
  }

  public int intraOpThreads() {
    return intraOpThreads;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CudaOptions c
        && c.providerOptions().equals(providerOptions())
        && c.intraOpThreads == intraOpThreads;
  }

  @Override
  public int hashCode() {
    return providerOptions().hashCode() * 31 + intraOpThreads;
  }

  @Override
  public String toString() {
    return providerOptions() + " intra_op_threads=" + intraOpThreads;
  }
}
