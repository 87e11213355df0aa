package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.embed.ImageEmbedder;
import io.sparkclip.udfs.embed.TextEmbedder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two GPUs per executor: tasks holding GPU address "0" and "1" must get sessions and embedders on
 * two devices. The CUDA provider is a fake that records device ids (sessions stay on the CPU), so
 * this runs without a GPU; the task is a real Spark TaskContext with a {@code gpu} resource.
 */
class DeviceKeyingTest {
  @TempDir Path tmp;

  @Test
  void tasksOnGpu0AndGpu1GetEmbeddersAndSessionsOnTheirOwnDevice() throws IOException {
    // A private copy of the model: its path is part of every cache key, so no other test's
    // embedders or sessions are reused here.
    Path model = copy(Fixtures.tinyClip(), tmp.resolve("tiny-clip"));
    EmbedSettings auto = EmbedSettings.of(model.toString()).withDevice("auto");
    try (FakeCuda cuda = FakeCuda.install()) {
      ImageEmbedder onGpu0 = TaskContexts.withGpus(() -> Embedders.image(auto), "0");
      ImageEmbedder onGpu1 = TaskContexts.withGpus(() -> Embedders.image(auto), "1");
      ImageEmbedder againOnGpu0 = TaskContexts.withGpus(() -> Embedders.image(auto), "0");
      TextEmbedder textOnGpu1 = TaskContexts.withGpus(() -> Embedders.text(auto), "1");

      assertThat(onGpu0.tower().device()).as("task holding GPU 0").isEqualTo(Device.cuda(0));
      assertThat(onGpu1.tower().device()).as("task holding GPU 1").isEqualTo(Device.cuda(1));
      assertThat(textOnGpu1.tower().device())
          .as("text tower of the task holding GPU 1")
          .isEqualTo(Device.cuda(1));
      assertThat(onGpu1).as("GPU 1's embedder is not GPU 0's").isNotSameAs(onGpu0);
      assertThat(onGpu1.tower()).as("GPU 1's session is not GPU 0's").isNotSameAs(onGpu0.tower());
      assertThat(againOnGpu0)
          .as("a second task on GPU 0 reuses GPU 0's embedder (one per device per JVM)")
          .isSameAs(onGpu0);
      assertThat(cuda.appended)
          .as("the CUDA provider was appended for device 0 and device 1")
          .contains(Device.cuda(0), Device.cuda(1));
    }
  }

  @Test
  void aTaskWithSeveralGpusRunsOnItsFirstAddress() {
    try (FakeCuda cuda = FakeCuda.install()) {
      assertThat(TaskContexts.withGpus(() -> SessionCache.resolveDevice("auto"), "3", "2"))
          .as("auto in a task holding GPUs 3 and 2")
          .isEqualTo(Device.cuda(3));
      assertThat(TaskContexts.withGpus(() -> SessionCache.resolveDevice("cuda"), "1"))
          .as("cuda in a task holding GPU 1")
          .isEqualTo(Device.cuda(1));
      assertThat(TaskContexts.withGpus(() -> SessionCache.resolveDevice("auto")))
          .as("auto in a task without GPUs")
          .isEqualTo(Device.CPU);
    }
  }

  private static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path t = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(t);
        } else {
          Files.copy(f, t);
        }
      }
    }
    return to;
  }
}
