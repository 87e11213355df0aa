package io.sparkclip.udfs.session;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A CUDA provider for machines without a GPU: it says CUDA is present, records the device of every
 * append and leaves the session on the CPU (or throws what {@code failure} returns, to simulate a
 * missing library or a bad device). Installed with {@link #install}; close restores.
 */
final class FakeCuda implements CudaProvider, AutoCloseable {
  final List<Device> appended = new CopyOnWriteArrayList<>();
  final List<java.util.Map<String, String>> options = new CopyOnWriteArrayList<>();
  private final boolean available;
  private final Function<Device, OrtException> failure;
  private final CudaProvider previous;

  private FakeCuda(boolean available, Function<Device, OrtException> failure) {
    this.available = available;
    this.failure = failure;
    this.previous = SessionCache.useCudaProvider(this);
  }

  /** CUDA present and working (sessions stay on the CPU). */
  static FakeCuda install() {
    return new FakeCuda(true, d -> null);
  }

  /** A build without the CUDA provider (the CPU onnxruntime jar). */
  static FakeCuda absent() {
    return new FakeCuda(false, d -> null);
  }

  /** CUDA present, but appending it fails with the given ONNX Runtime message. */
  static FakeCuda failing(String message) {
    return new FakeCuda(true, d -> new OrtException(message));
  }

  @Override
  public boolean available() {
    return available;
  }

  @Override
  public void append(OrtSession.SessionOptions opts, Device device, CudaOptions cuda)
      throws OrtException {
    appended.add(device);
    options.add(cuda.providerOptions());
    OrtException e = failure.apply(device);
    if (e != null) {
      throw e;
    }
  }

  @Override
  public void close() {
    SessionCache.useCudaProvider(previous);
  }
}
