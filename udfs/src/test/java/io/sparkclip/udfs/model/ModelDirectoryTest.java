package io.sparkclip.udfs.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.embed.ImageEmbedder;
import io.sparkclip.udfs.session.Device;
import io.sparkclip.udfs.session.OnnxTower;
import io.sparkclip.udfs.session.SessionCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirectoryTest {
  static Path copyTiny(Path target) throws IOException {
    Path src = Fixtures.tinyClip();
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = target.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return target;
  }

  @Test
  void readsConfigPreprocessAndLogitScale() {
    ModelDirectory d = ModelDirectory.open(Fixtures.tinyClip());
    assertThat(d.embedDim())
        .as("embed_dim")
        .isEqualTo(Fixtures.manifest().get("embed_dim").asInt());
    assertThat(d.contextLength()).as("text_cfg.context_length").isEqualTo(77);
    assertThat(d.preprocessConfig().size()).as("preprocess size").isEqualTo(64);
    assertThat(d.preprocessConfig().resizeMode())
        .as("resize mode")
        .isEqualTo(PreprocessConfig.ResizeMode.SHORTEST);
    assertThat(d.logLogitScale()).as("logit_scale.json").isPresent();
    assertThat(d.logLogitScale().getAsDouble())
        .as("stored log temperature")
        .isCloseTo(
            Fixtures.manifest().get("logit_scale").asDouble(),
            org.assertj.core.data.Offset.offset(1e-6));
    assertThat(d.logitScale())
        .as("exp(logit_scale) = 1/0.07")
        .isCloseTo(1 / 0.07, org.assertj.core.data.Offset.offset(1e-3));
  }

  @Test
  void missingFileNamesFileAndFix(@TempDir Path tmp) throws IOException {
    Path dir = copyTiny(tmp.resolve("m"));
    Files.delete(dir.resolve(ModelDirectory.TEXTUAL_ONNX));
    ModelDirectory d = ModelDirectory.open(dir);
    assertThat(d.visualOnnx()).as("the visual tower is still usable").exists();
    assertThatThrownBy(d::textualOnnx)
        .as("missing textual/model.onnx")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a missing tower")
                    .isEqualTo(ErrorId.MODEL_FILE_MISSING))
        .hasMessageContaining("textual/model.onnx")
        .hasMessageContaining("Fix:");
    Files.delete(dir.resolve(ModelDirectory.CONFIG));
    assertThatThrownBy(() -> ModelDirectory.open(dir))
        .as("missing config.json")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a missing config.json")
                    .isEqualTo(ErrorId.MODEL_FILE_MISSING))
        .hasMessageContaining("config.json");
  }

  @Test
  void unknownResizeModeFailsFast(@TempDir Path tmp) throws IOException {
    Path dir = copyTiny(tmp.resolve("m"));
    Path cfg = dir.resolve(ModelDirectory.PREPROCESS_CFG);
    Files.writeString(cfg, Files.readString(cfg).replace("\"shortest\"", "\"longest\""));
    assertThatThrownBy(() -> ModelDirectory.open(dir).preprocessConfig())
        .as("resize_mode longest is not implemented")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of an unknown resize mode")
                    .isEqualTo(ErrorId.MODEL_CONFIG_INVALID))
        .hasMessageContaining("longest")
        .hasMessageContaining(cfg.toString())
        .hasMessageContaining("SHORTEST");
  }

  @Test
  void unreadableOnnxFailsWithFileName(@TempDir Path tmp) throws IOException {
    Path dir = copyTiny(tmp.resolve("m"));
    Files.write(dir.resolve(ModelDirectory.VISUAL_ONNX), new byte[] {1, 2, 3, 4, 5});
    ModelDirectory d = ModelDirectory.open(dir);
    assertThatThrownBy(() -> SessionCache.get(d.visualOnnx(), Device.CPU, 1))
        .as("corrupt ONNX")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a corrupt tower")
                    .isEqualTo(ErrorId.MODEL_ONNX_UNREADABLE))
        .hasMessageContaining("visual/model.onnx")
        .hasMessageContaining("Fix:");
  }

  @Test
  void mismatchedEmbeddingWidthFailsFast(@TempDir Path tmp) throws IOException {
    Path dir = copyTiny(tmp.resolve("m"));
    Path cfg = dir.resolve(ModelDirectory.CONFIG);
    Files.writeString(
        cfg, Files.readString(cfg).replaceFirst("\"embed_dim\": \\d+", "\"embed_dim\": 512"));
    ModelDirectory d = ModelDirectory.open(dir);
    OnnxTower visual = SessionCache.get(d.visualOnnx(), Device.CPU, 1);
    assertThatThrownBy(() -> ImageEmbedder.checkWidth(d, visual))
        .as("config says 512, model outputs 32")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a width mismatch")
                    .isEqualTo(ErrorId.MODEL_TOWER_WIDTH_MISMATCH))
        .hasMessageContaining("512")
        .hasMessageContaining("visual/model.onnx");
  }

  @Test
  void hadoopCopyIsVerifiedAndRepaired(@TempDir Path tmp) throws IOException {
    Path src = copyTiny(tmp.resolve("src"));
    Path cache = tmp.resolve("cache");
    Configuration conf = new Configuration();
    conf.set("fs.sclocal.impl", io.sparkclip.udfs.spark.SchemeLocalFileSystem.class.getName());
    conf.setBoolean("fs.sclocal.impl.disable.cache", true);
    String uri = "sclocal://" + src.toAbsolutePath();
    ModelDirectory d = ModelCache.localize(uri, conf, cache);
    assertThat(d.root()).as("copied under the cache root").startsWith(cache);
    assertThat(d.source()).as("source kept for messages").isEqualTo(uri);
    Map<String, Long> remote = new TreeMap<>();
    try (Stream<Path> s = Files.walk(src)) {
      s.filter(Files::isRegularFile)
          .forEach(p -> remote.put(src.relativize(p).toString(), p.toFile().length()));
    }
    assertThat(ModelCache.isValidCopy(d.root(), remote)).as("fresh copy verifies").isTrue();
    Files.writeString(d.root().resolve(ModelDirectory.CONFIG), "{\"embed_dim\": 1}   ");
    assertThat(ModelCache.isValidCopy(d.root(), remote)).as("tampered copy is detected").isFalse();
    ModelCache.clearMemo();
    ModelDirectory again = ModelCache.localize(uri, conf, cache);
    assertThat(again.embedDim()).as("re-copied after the checksum mismatch").isEqualTo(32);
  }
}
