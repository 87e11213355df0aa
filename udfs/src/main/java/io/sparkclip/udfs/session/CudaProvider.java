package io.sparkclip.udfs.session;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;

/**
 * How sessions reach ONNX Runtime's CUDA execution provider. {@link SessionCache} goes through this
 * interface, not through {@code OrtSession.SessionOptions.addCUDA} directly, so that the device
 * resolution and the per-device session keying can be tested on machines without a GPU (a test
 * provider records the device ids it is asked for and leaves the session on the CPU).
 */
interface CudaProvider {
  /** Whether this ONNX Runtime build has the CUDA execution provider. */
  boolean available();

  /** Appends the CUDA execution provider for {@code device} to {@code opts}. */
  void append(OrtSession.SessionOptions opts, Device device) throws OrtException;

  /** The provider of the onnxruntime / onnxruntime_gpu jar on the classpath. */
  CudaProvider ONNX_RUNTIME =
      new CudaProvider() {
        @Override
        public boolean available() {
          try {
            return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
          } catch (RuntimeException | LinkageError e) {
            return false;
          }
        }

        @Override
        public void append(OrtSession.SessionOptions opts, Device device) throws OrtException {
          opts.addCUDA(device.id());
        }

        @Override
        public String toString() {
          return "ONNX Runtime CUDA provider";
        }
      };
}
