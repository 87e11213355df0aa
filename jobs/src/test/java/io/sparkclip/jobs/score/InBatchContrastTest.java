package io.sparkclip.jobs.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

class InBatchContrastTest {
  @Test
  void orthonormalPairsRankFirstWithTheClosedFormLoss() {
    float[][] e = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    InBatchContrast.Result r = InBatchContrast.of(e, e, 10);
    assertThat(r.imageRank()).as("own caption first").containsExactly(1, 1, 1);
    assertThat(r.textRank()).as("own image first").containsExactly(1, 1, 1);
    double expected = -Math.log(Math.exp(10) / (Math.exp(10) + 2));
    assertThat(r.loss()).as("symmetric cross-entropy").isCloseTo(expected, offset(1e-9));
  }

  @Test
  void swappedCaptionsRankLastAndRaiseTheLoss() {
    float[][] img = {{1, 0}, {0, 1}};
    float[][] txt = {{0, 1}, {1, 0}}; // each image carries the other's caption
    InBatchContrast.Result r = InBatchContrast.of(img, txt, 5);
    assertThat(r.imageRank()).as("own caption is the worst").containsExactly(2, 2);
    assertThat(r.textRank()).as("own image is the worst").containsExactly(2, 2);
    double expected = -Math.log(1 / (1 + Math.exp(5)));
    assertThat(r.loss()).as("loss of a fully swapped batch").isCloseTo(expected, offset(1e-9));
  }

  @Test
  void rowsAndColumnsAreRankedSeparately() {
    float[][] img = {{1, 0}, {0.6f, 0.8f}};
    float[][] txt = {{0, 1}, {0.9f, 0.436f}};
    // pair 1: image 1 prefers its own caption (0.889 > 0.8), but caption 1 prefers image 0 (0.9).
    InBatchContrast.Result r = InBatchContrast.of(img, txt, 1);
    assertThat(r.imageRank()).as("rank of the own caption per image").containsExactly(2, 1);
    assertThat(r.textRank()).as("rank of the own image per caption").containsExactly(2, 2);
  }

  @Test
  void theLossUsesTheModelsLogitScaleElse100(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    io.sparkclip.udfs.model.ModelDirectory tiny =
        io.sparkclip.udfs.model.ModelDirectory.open(
            java.nio.file.Path.of(io.sparkclip.jobs.TestModels.TINY));
    assertThat(ScoreJob.logitScale(tiny))
        .as("the tiny model's logit_scale.json: exp(2.65926) = 1/0.07")
        .isCloseTo(1 / 0.07, offset(1e-4));
    java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"embed_dim\": 8}");
    assertThat(ScoreJob.logitScale(io.sparkclip.udfs.model.ModelDirectory.open(dir)))
        .as("no logit scale in the model directory")
        .isEqualTo(100.0);
  }
}
