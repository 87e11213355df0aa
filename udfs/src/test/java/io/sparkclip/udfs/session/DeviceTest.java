package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.ModelDirectory;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class DeviceTest {
  @Test
  void cpuAndAuto() {
    assertThat(Device.resolve("cpu", Optional.of("3"), true)).as("cpu wins").isEqualTo(Device.CPU);
    assertThat(Device.resolve("auto", Optional.empty(), true))
        .as("no task GPU")
        .isEqualTo(Device.CPU);
    assertThat(Device.resolve("auto", Optional.of("2"), false))
        .as("task GPU but no CUDA provider: auto falls back")
        .isEqualTo(Device.CPU);
    assertThat(Device.resolve("auto", Optional.of("2"), true))
        .as("task GPU address becomes the device id")
        .isEqualTo(Device.cuda(2));
    assertThat(Device.resolve(null, Optional.empty(), false)).as("default").isEqualTo(Device.CPU);
  }

  @Test
  void cudaRequests() {
    assertThat(Device.resolve("cuda", Optional.of("1"), true))
        .as("task GPU")
        .isEqualTo(Device.cuda(1));
    assertThat(Device.resolve("cuda", Optional.empty(), true))
        .as("no task GPU")
        .isEqualTo(Device.cuda(0));
    assertThat(Device.resolve("CUDA:3", Optional.empty(), true))
        .as("explicit id")
        .isEqualTo(Device.cuda(3));
    assertThatThrownBy(() -> Device.resolve("cuda", Optional.empty(), false))
        .as("no silent CPU fallback")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of cuda without a GPU")
                    .isEqualTo(ErrorId.DEVICE_CUDA_UNAVAILABLE))
        .hasMessageContaining("--device auto");
    assertThatThrownBy(() -> Device.resolve("tpu", Optional.empty(), true))
        .as("unknown device")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id of an unknown device").isEqualTo(ErrorId.DEVICE_UNKNOWN))
        .hasMessageContaining("tpu");
  }

  @Test
  void cudaWithoutGpuFailsClearly() {
    Assumptions.assumeFalse(SessionCache.cudaProviderAvailable(), "this ONNX Runtime has CUDA");
    ModelDirectory d = ModelDirectory.open(Fixtures.tinyClip());
    assertThatThrownBy(() -> SessionCache.get(d.visualOnnx(), "cuda"))
        .as("CPU build asked for CUDA")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of CUDA on a CPU build")
                    .isEqualTo(ErrorId.DEVICE_CUDA_UNAVAILABLE))
        .hasMessageContaining("CUDA");
  }

  @Test
  void cudaSessionRunsOnGpu() {
    Assumptions.assumeTrue(
        SessionCache.cudaProviderAvailable(), "needs onnxruntime_gpu (-Pgpu) and a CUDA GPU");
    ModelDirectory d = ModelDirectory.open(Fixtures.tinyClip());
    OnnxTower t = SessionCache.get(d.visualOnnx(), Device.cuda(0), 1);
    float[][] e = t.runImages(new float[3 * 64 * 64], 1, 64);
    assertThat(e[0]).as("embedding on GPU").hasSize(d.embedDim());
  }

  @Test
  void sessionsAreCachedPerFileAndDevice() {
    ModelDirectory d = ModelDirectory.open(Fixtures.tinyClip());
    OnnxTower a = SessionCache.get(d.visualOnnx(), Device.CPU, 1);
    OnnxTower b = SessionCache.get(d.visualOnnx(), Device.CPU, 1);
    OnnxTower c = SessionCache.get(d.textualOnnx(), Device.CPU, 1);
    assertThat(a).as("same file and device: same session").isSameAs(b);
    assertThat(c).as("other file: other session").isNotSameAs(a);
  }
}
