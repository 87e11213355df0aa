package io.sparkclip.udfs.session;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import java.util.Map;

/**
 * How sessions reach ONNX Runtime's CUDA execution provider. {@link SessionCache} goes through this
 * interface, not through {@code OrtSession.SessionOptions.addCUDA} directly, so that the device
 * resolution and the per-device session keying can be tested on machines without a GPU (a test
 * provider records the device ids it is asked for and leaves the session on the CPU).
 */
interface CudaProvider {
  /** Whether this ONNX Runtime build has the CUDA execution provider. */
  boolean available();

  /** Appends the CUDA execution provider for {@code device} with {@code cuda}'s options. */
  void append(OrtSession.SessionOptions opts, Device device, CudaOptions cuda) throws OrtException;

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
        public void append(OrtSession.SessionOptions opts, Device device, CudaOptions cuda)
            throws OrtException {
          // addCUDA copies the options into the session options, so they can be freed here.
          try (OrtCUDAProviderOptions o = new OrtCUDAProviderOptions(device.id())) {
            for (Map.Entry<String, String> e : cuda.providerOptions().entrySet()) {
              o.add(e.getKey(), e.getValue());
            }
            opts.addCUDA(o);
          }
        }

        @Override
        public String toString() {
          return "ONNX Runtime CUDA provider";
        }
      };
}
