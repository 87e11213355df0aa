package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.ModelDirectory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CUDA provider options: defaults, spark.sparkclip.cuda.* overrides, checks, use. */
class CudaOptionsTest {
  @Test
  void defaultsSuitClipNextToCpuPreprocessing() {
    CudaOptions d = CudaOptions.from(k -> null);
    assertThat(d.providerOptions())
        .as("default OrtCUDAProviderOptions entries (no memory limit)")
        .containsExactly(
            Map.entry("arena_extend_strategy", "kSameAsRequested"),
            Map.entry("cudnn_conv_algo_search", "HEURISTIC"));
    assertThat(d.intraOpThreads()).as("intra-op threads of a CUDA session").isEqualTo(1);
  }

  @Test
  void sparkConfKeysOverrideTheDefaults() {
    Map<String, String> conf =
        Map.of(
            CudaOptions.ARENA_EXTEND_STRATEGY, "knextpoweroftwo",
            CudaOptions.MEMORY_LIMIT, "6g",
            CudaOptions.CONV_ALGO_SEARCH, "exhaustive",
            CudaOptions.INTRA_OP_THREADS, "2");
    CudaOptions c = CudaOptions.from(conf::get);
    assertThat(c.providerOptions())
        .as("configured entries, in ONNX Runtime's spelling")
        .containsEntry("arena_extend_strategy", "kNextPowerOfTwo")
        .containsEntry("cudnn_conv_algo_search", "EXHAUSTIVE")
        .containsEntry("gpu_mem_limit", Long.toString(6L << 30));
    assertThat(c.intraOpThreads()).as("configured threads").isEqualTo(2);
  }

  @Test
  void invalidValuesFailWithTheirKey() {
    for (Map.Entry<String, String> bad :
        Map.of(
                CudaOptions.ARENA_EXTEND_STRATEGY, "grow",
                CudaOptions.MEMORY_LIMIT, "six gigs",
                CudaOptions.CONV_ALGO_SEARCH, "fast",
                CudaOptions.INTRA_OP_THREADS, "0")
            .entrySet()) {
      Map<String, String> conf = Map.of(bad.getKey(), bad.getValue());
      assertThatThrownBy(() -> CudaOptions.from(conf::get))
          .as(bad.toString())
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.DEVICE_CUDA_OPTION_INVALID))
          .hasMessageContaining(bad.getKey());
    }
  }

  @Test
  void cudaSessionsGetTheOptionsAndIgnoreTheTasksCpuCount() {
    ModelDirectory d = ModelDirectory.open(Fixtures.tinyClip());
    try (FakeCuda cuda = FakeCuda.install()) {
      OnnxTower four = SessionCache.get(d.visualOnnx(), Device.cuda(5), 4);
      OnnxTower two = SessionCache.get(d.visualOnnx(), Device.cuda(5), 2);
      assertThat(cuda.options)
          .as("the provider got the CUDA options")
          .contains(CudaOptions.from(k -> null).providerOptions());
      assertThat(two)
          .as("tasks with 4 and 2 cpus share cuda:5's session (threads from CudaOptions)")
          .isSameAs(four);
    }
  }
}
