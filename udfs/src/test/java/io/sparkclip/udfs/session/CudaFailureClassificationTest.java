package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtException;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.ClipErrors.CudaPhase;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.ModelDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CUDA failures are classified from ONNX Runtime's messages (the texts below are the ones its CUDA
 * provider writes) into error ids that say what to check, instead of "the file is corrupt" for a
 * failed GPU load and a bare IllegalStateException for a failed GPU run.
 */
class CudaFailureClassificationTest {
  private static final String F = "/models/b32/visual/model.onnx";

  @TempDir Path tmp;

  @Test
  void driverDeviceMemoryAndLibraryFailuresGetTheirIdAndWhatToCheck() {
    expect(
        CudaPhase.LOAD,
        "[ONNXRuntimeError] : 1 : FAIL : CUDA failure 35: CUDA driver version is insufficient for"
            + " CUDA runtime version ; GPU=0 ; expr=cudaSetDevice(info_.device_id);",
        ErrorId.DEVICE_CUDA_DRIVER,
        "nvidia-smi");
    expect(
        CudaPhase.LOAD,
        "CUDA failure 101: invalid device ordinal ; GPU=3 ; expr=cudaSetDevice(info_.device_id);",
        ErrorId.DEVICE_CUDA_NO_DEVICE,
        "CUDA_VISIBLE_DEVICES");
    expect(
        CudaPhase.LOAD,
        "CUDA failure 100: no CUDA-capable device is detected ; GPU=0",
        ErrorId.DEVICE_CUDA_NO_DEVICE,
        "nvidia-smi -L");
    expect(
        CudaPhase.LOAD,
        "CUDA failure 2: out of memory ; GPU=0 ; expr=cudaMalloc((void**)&p, size);",
        ErrorId.DEVICE_CUDA_OUT_OF_MEMORY,
        "--batch-size");
    expect(
        CudaPhase.RUN,
        "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running"
            + " Conv node. Status Message: bfc_arena.cc:376 AllocateRawInternal Failed to allocate"
            + " memory for requested buffer of size 2055208960",
        ErrorId.DEVICE_CUDA_OUT_OF_MEMORY,
        "spark.task.resource.gpu.amount");
    expect(
        CudaPhase.RUN,
        "CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=1",
        ErrorId.DEVICE_CUDA_OUT_OF_MEMORY,
        "--batch-size");
    expect(
        CudaPhase.PROVIDER,
        "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12:"
            + " cannot open shared object file: No such file or directory",
        ErrorId.DEVICE_CUDA_PROVIDER_FAILED,
        "LD_LIBRARY_PATH");
  }

  @Test
  void failuresThatNameNoCudaCauseKeepTheIdOfTheirPhase() {
    expect(
        CudaPhase.LOAD,
        "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model failed: Protobuf parsing failed.",
        ErrorId.MODEL_ONNX_UNREADABLE,
        "re-export");
    expect(
        CudaPhase.RUN,
        "Got invalid dimensions for input: image for the following indices index: 2 Got: 32"
            + " Expected: 64",
        ErrorId.MODEL_RUN_FAILED,
        "preprocess_cfg.json");
    expect(
        CudaPhase.PROVIDER, "some new provider failure", ErrorId.DEVICE_CUDA_PROVIDER_FAILED, "");
  }

  @Test
  void theCauseIsReadThroughTheWholeChain() {
    Throwable wrapped =
        new IllegalStateException(
            "session init", new OrtException("CUDA failure 2: out of memory"));
    assertThat(ClipErrors.cudaCause(wrapped))
        .as("an out-of-memory wrapped in another exception")
        .isEqualTo(ClipErrors.CudaCause.OUT_OF_MEMORY);
  }

  @Test
  void explicitCudaWhoseDriverIsTooOldFailsAtResolutionWithTheDriverId() {
    try (FakeCuda cuda =
        FakeCuda.failing("CUDA failure 35: CUDA driver version is insufficient for CUDA runtime")) {
      assertThatThrownBy(() -> TaskContexts.withGpus(() -> SessionCache.resolveDevice("cuda"), "0"))
          .as("cuda with an old driver")
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.DEVICE_CUDA_DRIVER))
          .hasMessageContaining("for cuda:0");
    }
  }

  @Test
  void aCorruptFileOnCudaIsStillReportedAsUnreadable() throws IOException {
    Path bad = Files.write(tmp.resolve("model.onnx"), new byte[] {1, 2, 3, 4});
    try (FakeCuda cuda = FakeCuda.install()) {
      assertThatThrownBy(() -> SessionCache.get(bad, Device.cuda(0), 1))
          .as("a truncated file opened on the (fake) GPU")
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.MODEL_ONNX_UNREADABLE));
    }
  }

  @Test
  void aFailedCpuRunHasAnIdNotABareIllegalStateException() {
    OnnxTower tower =
        SessionCache.get(ModelDirectory.open(Fixtures.tinyClip()).visualOnnx(), Device.CPU, 1);
    assertThatThrownBy(() -> tower.runImages(new float[3 * 32 * 32], 1, 32))
        .as("32 px images into a 64 px tower")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.MODEL_RUN_FAILED))
        .hasMessageContaining("on cpu");
  }

  private static void expect(CudaPhase phase, String message, ErrorId id, String check) {
    SparkclipException e = ClipErrors.cudaFailure(F, "cuda:0", phase, new OrtException(message));
    assertThat(e.id()).as("id of '%s' while %s", message, phase).isEqualTo(id);
    assertThat(e.getMessage())
        .as("message of %s says what to check", id)
        .contains(check)
        .contains(message);
  }
}
