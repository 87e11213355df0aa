package io.sparkclip.udfs.session;

import io.sparkclip.udfs.ClipErrors;
import java.io.Serializable;
import java.util.Locale;
import java.util.Optional;

/** Where a session runs: the CPU or one CUDA device. */
public final class Device implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final Device CPU = new Device(false, -1);

  private final boolean cuda;
  private final int id;

  private Device(boolean cuda, int id) {
    this.cuda = cuda;
    this.id = id;
  }

  public static Device cuda(int id) {
    return new Device(true, id);
  }

  public boolean isCuda() {
    return cuda;
  }

  public int id() {
    return id;
  }

  /**
   * Resolves the {@code device} param on an executor.
   *
   * @param requested {@code cpu}, {@code cuda}, {@code cuda:<id>} or {@code auto} (CUDA when the
   *     Spark task holds a {@code gpu} resource and the CUDA provider is present, else CPU)
   * @param taskGpu the task's first {@code gpu} resource address, if any
   * @param cudaProvider whether ONNX Runtime has the CUDA execution provider
   */
  /** Whether the device param is {@code auto} (the default when unset). */
  public static boolean isAuto(String requested) {
    return requested == null || requested.trim().equalsIgnoreCase("auto");
  }

  public static Device resolve(String requested, Optional<String> taskGpu, boolean cudaProvider) {
    String r = requested == null ? "auto" : requested.trim().toLowerCase(Locale.ROOT);
    if (r.equals("cpu")) {
      return CPU;
    }
    if (r.equals("auto")) {
      return taskGpu.isPresent() && cudaProvider ? cuda(parseId(taskGpu.get(), r)) : CPU;
    }
    if (r.equals("cuda") || r.equals("gpu")) {
      if (!cudaProvider) {
        throw ClipErrors.cudaUnavailable(requested, null);
      }
      return cuda(taskGpu.map(g -> parseId(g, requested)).orElse(0));
    }
    if (r.startsWith("cuda:")) {
      if (!cudaProvider) {
        throw ClipErrors.cudaUnavailable(requested, null);
      }
      return cuda(parseId(r.substring(5), requested));
    }
    throw ClipErrors.unknownDevice(requested);
  }

  private static int parseId(String s, String requested) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw ClipErrors.unknownDevice(requested + " (GPU address '" + s + "')");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Device d && d.cuda == cuda && d.id == id;
  }

  @Override
  public int hashCode() {
    return cuda ? 31 + id : -1;
  }

  @Override
  public String toString() {
    return cuda ? "cuda:" + id : "cpu";
  }
}
