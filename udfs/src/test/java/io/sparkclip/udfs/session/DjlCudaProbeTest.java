package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.util.cuda.CudaUtils;
import org.junit.jupiter.api.Test;

/**
 * A CPU-only run prints no GPU warning: DJL's CUDA probe, which its tokenizer runs when it loads,
 * is silenced by the shipped log configuration (on a machine with a CUDA runtime but no usable
 * driver, as this one, it warns "Failed to detect GPU count" otherwise).
 */
class DjlCudaProbeTest {
  @Test
  void djlsGpuProbeLogsNoWarning() {
    try (LogCapture log = new LogCapture(CudaUtils.class)) {
      CudaUtils.getGpuCount();
      CudaUtils.hasCuda();
      assertThat(log.warnings()).as("warnings of DJL's CUDA probe").isEmpty();
    }
  }
}
