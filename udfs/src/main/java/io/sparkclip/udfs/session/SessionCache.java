package io.sparkclip.udfs.session;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sparkclip.udfs.ClipErrors;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session per (model file, device, intra-op threads) per JVM: created lazily on
 * first use (double-checked), shared by all tasks of the executor, closed by a shutdown hook. CLIP
 * towers ({@link OnnxTower}) and score heads ({@link OnnxHead}) share it, so a head costs one load
 * per executor JVM like a tower, never one per partition.
 */
public final class SessionCache {
  private static final Logger LOG = LoggerFactory.getLogger(SessionCache.class);
  private static final Map<String, AutoCloseable> SESSIONS = new ConcurrentHashMap<>();
  private static volatile boolean hookInstalled;
  private static volatile CudaProvider cudaProvider = CudaProvider.ONNX_RUNTIME;

  /**
   * Per device, why appending the CUDA provider failed (empty when it worked): probed once per JVM
   * so a missing libcudnn is found before a session is keyed as cuda, not by every task.
   */
  private static final Map<Device, Optional<Throwable>> CUDA_PROBES = new ConcurrentHashMap<>();

  /** {@code auto} falling back to the CPU on a GPU task is logged once per executor JVM. */
  private static final AtomicBoolean CPU_FALLBACK_WARNED = new AtomicBoolean();

  private SessionCache() {}

  /**
   * Replaces the CUDA provider and returns the previous one: tests on machines without a GPU use a
   * provider that records device ids and leaves sessions on the CPU.
   */
  static CudaProvider useCudaProvider(CudaProvider provider) {
    CudaProvider previous = cudaProvider;
    cudaProvider = provider;
    CUDA_PROBES.clear();
    CPU_FALLBACK_WARNED.set(false);
    return previous;
  }

  /** Whether this ONNX Runtime build has the CUDA execution provider. */
  public static boolean cudaProviderAvailable() {
    return cudaProvider.available();
  }

  /** The first {@code gpu} resource address of the running Spark task, if any. */
  public static Optional<String> taskGpu() {
    TaskContext tc = TaskContext.get();
    if (tc == null) {
      return Optional.empty();
    }
    scala.Option<ResourceInformation> gpu = tc.resources().get("gpu");
    if (gpu.isEmpty() || gpu.get().addresses().length == 0) {
      return Optional.empty();
    }
    return Optional.of(gpu.get().addresses()[0]);
  }

  /** Intra-op threads for this task: {@code spark.task.cpus} inside Spark, else all cores. */
  public static int taskThreads() {
    TaskContext tc = TaskContext.get();
    return tc != null ? Math.max(1, tc.cpus()) : Runtime.getRuntime().availableProcessors();
  }

  /**
   * The device {@code deviceParam} means for the running task: with {@code auto} or {@code cuda}
   * the GPU address Spark assigned to this task. Callers key every per-JVM cache by this resolved
   * device, never by the parameter: an executor with two GPUs runs tasks holding address "0" and
   * tasks holding "1", and a cache keyed by {@code auto} would hand the first task's GPU to all.
   */
  public static Device resolveDevice(String deviceParam) {
    Optional<String> gpu = taskGpu();
    boolean auto = Device.isAuto(deviceParam);
    boolean provider = cudaProviderAvailable();
    if (auto && gpu.isPresent() && !provider) {
      // The task was given a GPU and would quietly run on the CPU: say so once, loudly.
      warnCpuFallback(
          gpu.get(),
          "this ONNX Runtime has no CUDA execution provider (the job was built without -Pgpu,"
              + " so the CPU onnxruntime jar is on the classpath)",
          null);
      return Device.CPU;
    }
    Device device = Device.resolve(deviceParam, gpu, provider);
    if (!device.isCuda()) {
      return device;
    }
    Optional<Throwable> failure = CUDA_PROBES.computeIfAbsent(device, SessionCache::probeCuda);
    if (failure.isEmpty()) {
      return device;
    }
    if (auto) {
      warnCpuFallback(
          gpu.orElse(String.valueOf(device.id())),
          "appending the CUDA execution provider for " + device + " failed",
          failure.get());
      return Device.CPU;
    }
    throw ClipErrors.cudaFailure(
        null, device.toString(), ClipErrors.CudaPhase.PROVIDER, failure.get());
  }

  /** Appends the CUDA provider to throwaway options: fails where a session would (libraries). */
  private static Optional<Throwable> probeCuda(Device device) {
    // Read outside the try: a bad spark.sparkclip.cuda.* value is the user's option error
    // (DEVICE_CUDA_OPTION_INVALID), not a provider that failed to load.
    CudaOptions options = CudaOptions.current();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      cudaProvider.append(opts, device, options);
      return Optional.empty();
    } catch (OrtException | RuntimeException | LinkageError e) {
      return Optional.of(e);
    }
  }

  private static void warnCpuFallback(String gpu, String why, Throwable cause) {
    if (CPU_FALLBACK_WARNED.compareAndSet(false, true)) {
      LOG.warn(
          "device=auto: this task holds GPU {} but {}{}. Every ONNX session of this executor runs"
              + " on the CPU instead, far slower than the GPU. To use the GPU, build with -Pgpu"
              + " (onnxruntime_gpu) and put CUDA 12 and cuDNN 9 on the executors'"
              + " LD_LIBRARY_PATH (see docs/gpu.md); to fail instead of falling back, pass"
              + " --device cuda. Logged once per executor.",
          gpu,
          why,
          cause == null ? "" : " (" + cause.getMessage() + ")");
    }
  }

  /** Resolves {@code deviceParam} for the current task and returns the cached session. */
  public static OnnxTower get(Path onnx, String deviceParam) {
    return get(onnx, resolveDevice(deviceParam), taskThreads());
  }

  public static OnnxTower get(Path onnx, Device device, int intraOpThreads) {
    return cached(onnx, device, intraOpThreads, OnnxTower.class, OnnxTower::new);
  }

  /** Resolves {@code deviceParam} for the current task and returns the cached head session. */
  public static OnnxHead head(Path onnx, String deviceParam) {
    return head(onnx, resolveDevice(deviceParam), taskThreads());
  }

  public static OnnxHead head(Path onnx, Device device, int intraOpThreads) {
    return cached(onnx, device, intraOpThreads, OnnxHead.class, OnnxHead::new);
  }

  /** Wraps an opened session: reads and checks its signature. */
  @FunctionalInterface
  interface Wrapper<T extends AutoCloseable> {
    T wrap(String file, OrtEnvironment env, OrtSession session, Device device);
  }

  private static <T extends AutoCloseable> T cached(
      Path onnx, Device device, int intraOpThreads, Class<T> kind, Wrapper<T> wrapper) {
    // The kind is part of the key: one file opened as a tower and as a head (a user error the
    // signature checks report) must not hand one kind's wrapper to the other's caller.
    // A CUDA session's threads and options come from CudaOptions, not from the task's cores, so
    // tasks of different spark.task.cpus on one GPU share one session.
    String key =
        kind.getSimpleName()
            + "|"
            + onnx.toAbsolutePath()
            + "|"
            + device
            + "|"
            + (device.isCuda() ? CudaOptions.current() : intraOpThreads);
    AutoCloseable t = SESSIONS.get(key);
    if (t == null) {
      synchronized (SESSIONS) {
        t = SESSIONS.get(key);
        if (t == null) {
          installHook();
          t = open(onnx, device, intraOpThreads, wrapper);
          SESSIONS.put(key, t);
        }
      }
    }
    return kind.cast(t);
  }

  static OnnxTower open(Path onnx, Device device, int intraOpThreads) {
    return open(onnx, device, intraOpThreads, OnnxTower::new);
  }

  /**
   * Opens a session outside the cache, for a one-off check on the driver (a head's signature before
   * any Spark work); the caller closes it.
   */
  public static OnnxHead openHead(Path onnx) {
    return open(onnx, Device.CPU, 1, OnnxHead::new);
  }

  private static <T extends AutoCloseable> T open(
      Path onnx, Device device, int intraOpThreads, Wrapper<T> wrapper) {
    long t0 = System.nanoTime();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    CudaOptions cuda = device.isCuda() ? CudaOptions.current() : null;
    OrtSession session;
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      opts.setIntraOpNumThreads(cuda != null ? cuda.intraOpThreads() : intraOpThreads);
      opts.setInterOpNumThreads(1);
      opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      if (device.isCuda()) {
        try {
          cudaProvider.append(opts, device, cuda);
        } catch (OrtException | RuntimeException | LinkageError e) {
          throw ClipErrors.cudaFailure(
              onnx.toString(), device.toString(), ClipErrors.CudaPhase.PROVIDER, e);
        }
      }
      session = env.createSession(onnx.toString(), opts);
    } catch (OrtException e) {
      // On CUDA, a bad driver, device id or a full GPU also fails here; only a failure that
      // names no CUDA cause is reported as an unreadable file.
      throw device.isCuda()
          ? ClipErrors.cudaFailure(onnx.toString(), device.toString(), ClipErrors.CudaPhase.LOAD, e)
          : ClipErrors.unreadableOnnx(onnx.toString(), e);
    }
    T wrapped;
    try {
      wrapped = wrapper.wrap(onnx.toString(), env, session, device);
    } catch (RuntimeException e) {
      closeQuietly(session, onnx);
      throw e;
    }
    LOG.info(
        "Opened {} with {} intra-op threads{} in {} ms",
        wrapped,
        cuda != null ? cuda.intraOpThreads() : intraOpThreads,
        cuda != null ? ", CUDA options " + cuda.providerOptions() : "",
        (System.nanoTime() - t0) / 1_000_000);
    return wrapped;
  }

  private static void closeQuietly(OrtSession session, Path onnx) {
    try {
      session.close();
    } catch (OrtException e) {
      LOG.warn("Closing the session of {} after a bad signature failed: {}", onnx, e.getMessage());
    }
  }

  private static void installHook() {
    if (!hookInstalled) {
      hookInstalled = true;
      Runtime.getRuntime()
          .addShutdownHook(new Thread(SessionCache::closeAll, "sparkclip-close-onnx-sessions"));
    }
  }

  /** Closes and forgets every session (shutdown hook; tests). */
  public static void closeAll() {
    synchronized (SESSIONS) {
      for (AutoCloseable c : SESSIONS.values()) {
        try {
          c.close();
        } catch (Exception e) {
          LOG.warn("Closing {} failed: {}", c, e.getMessage());
        }
      }
      SESSIONS.clear();
    }
  }

  /** Number of open sessions (tests, metrics). */
  public static int size() {
    return SESSIONS.size();
  }
}
