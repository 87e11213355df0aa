package io.sparkclip.jobs.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** embed's knobs for GPU executors: preprocessing threads and the reduced-DCT JPEG target. */
class EmbedGpuKnobsTest {
  private static StageConf required() {
    return StageConf.of(
        Map.of(StageKeys.INPUT, "/raw", StageKeys.OUT, "/out", StageKeys.MODEL, "/m"), "test");
  }

  @Test
  void defaultsAreTheEnginesAndKeysSetThem() {
    EmbedJob.Options d = EmbedJob.Options.from(required());
    assertThat(d.preprocessThreads()).as("default preprocessing threads").isEqualTo(2);
    assertThat(d.reducedJpegTarget()).as("reduced-DCT decode is off by default").isZero();
    EmbedJob.Options set =
        EmbedJob.Options.from(
            required()
                .with(EmbedJob.Options.PREPROCESS_THREADS, 6)
                .with(EmbedJob.Options.REDUCED_JPEG_TARGET, 224));
    set.validate();
    assertThat(set.preprocessThreads()).as("--preprocess-threads 6").isEqualTo(6);
    assertThat(set.reducedJpegTarget()).as("--reduced-jpeg-target 224").isEqualTo(224);
  }

  @Test
  void outOfRangeValuesFailWithTheirFlag() {
    for (Map.Entry<String, Integer> bad :
        Map.of(
                EmbedJob.Options.PREPROCESS_THREADS, 0,
                EmbedJob.Options.REDUCED_JPEG_TARGET, -1)
            .entrySet()) {
      EmbedJob.Options o = EmbedJob.Options.from(required().with(bad.getKey(), bad.getValue()));
      assertThatThrownBy(o::validate)
          .as(bad.toString())
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.OPTION_OUT_OF_RANGE))
          .hasMessageContaining("--" + bad.getKey());
    }
  }
}
