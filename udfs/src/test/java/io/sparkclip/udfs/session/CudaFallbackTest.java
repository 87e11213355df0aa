package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.ModelDirectory;
import org.junit.jupiter.api.Test;

/**
 * The decided behaviour when CUDA cannot be used: {@code auto} runs on the CPU and says so with one
 * WARN per executor; an explicit {@code cuda} / {@code cuda:N} fails at once with an error id and a
 * fix. Both cases (no CUDA provider in the build; the provider's libraries fail to load) are
 * simulated with a fake provider inside a Spark task that holds a GPU.
 */
class CudaFallbackTest {
  private static final String NO_CUDNN =
      "Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9:"
          + " cannot open shared object file: No such file or directory";

  @Test
  void autoOnACpuBuildFallsBackWithOneWarningPerExecutor() {
    try (FakeCuda cuda = FakeCuda.absent();
        LogCapture log = new LogCapture(SessionCache.class)) {
      Device first = TaskContexts.withGpus(() -> SessionCache.resolveDevice("auto"), "0");
      Device second = TaskContexts.withGpus(() -> SessionCache.resolveDevice("auto"), "1");
      assertThat(first).as("auto on a GPU task without the CUDA provider").isEqualTo(Device.CPU);
      assertThat(second).as("the next GPU task too").isEqualTo(Device.CPU);
      assertThat(log.warnings()).as("one warning for the executor, not one per task").hasSize(1);
      assertThat(log.warnings().get(0))
          .as("the warning says what happened and how to get the GPU")
          .contains("holds GPU 0", "no CUDA execution provider", "on the CPU", "-Pgpu")
          .contains("--device cuda");
    }
  }

  @Test
  void autoFallsBackWhenAppendingCudaFailsAndStillEmbeds() {
    ModelDirectory d = ModelDirectory.open(Fixtures.tinyClip());
    try (FakeCuda cuda = FakeCuda.failing(NO_CUDNN);
        LogCapture log = new LogCapture(SessionCache.class)) {
      OnnxTower tower = TaskContexts.withGpus(() -> SessionCache.get(d.visualOnnx(), "auto"), "0");
      TaskContexts.withGpus(() -> SessionCache.resolveDevice("auto"), "0");
      assertThat(tower.device()).as("auto after addCUDA failed").isEqualTo(Device.CPU);
      assertThat(tower.runImages(new float[3 * 64 * 64], 1, 64)[0])
          .as("the CPU session embeds")
          .hasSize(d.embedDim());
      assertThat(log.warnings()).as("one warning").hasSize(1);
      assertThat(log.warnings().get(0))
          .as("the warning names the failure")
          .contains("libcudnn.so.9", "on the CPU", "LD_LIBRARY_PATH");
    }
  }

  @Test
  void explicitCudaOnACpuBuildFailsFastWithAFix() {
    try (FakeCuda cuda = FakeCuda.absent()) {
      for (String requested : new String[] {"cuda", "cuda:1"}) {
        assertThatThrownBy(
                () -> TaskContexts.withGpus(() -> SessionCache.resolveDevice(requested), "1"))
            .as(requested + " without the CUDA provider")
            .isInstanceOfSatisfying(
                SparkclipException.class,
                e ->
                    assertThat(e.id())
                        .as("id of " + requested)
                        .isEqualTo(ErrorId.DEVICE_CUDA_UNAVAILABLE))
            .hasMessageContaining("-Pgpu")
            .hasMessageContaining("--device auto");
      }
    }
  }

  @Test
  void explicitCudaWhoseLibrariesFailToLoadFailsFastWithAFix() {
    try (FakeCuda cuda = FakeCuda.failing(NO_CUDNN);
        LogCapture log = new LogCapture(SessionCache.class)) {
      assertThatThrownBy(
              () -> TaskContexts.withGpus(() -> SessionCache.resolveDevice("cuda:1"), "1"))
          .as("cuda:1 whose provider does not load")
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e ->
                  assertThat(e.id())
                      .as("id of a provider that fails to load")
                      .isEqualTo(ErrorId.DEVICE_CUDA_PROVIDER_FAILED))
          .hasMessageContaining("libcudnn.so.9")
          .hasMessageContaining("LD_LIBRARY_PATH");
      assertThat(log.warnings()).as("no fallback warning: it did not fall back").isEmpty();
    }
  }
}
