package io.sparkclip.udfs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Reads the committed fixtures written by tools/make_fixtures.py. */
public final class Fixtures {
  private Fixtures() {}

  public static Path resource(String name) {
    try {
      return Paths.get(Fixtures.class.getResource("/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Path tinyClip() {
    return resource("tiny-clip");
  }

  public static Path tinyClipFp16B1() {
    return resource("tiny-clip-fp16-b1");
  }

  /** tiny-clip with both towers' batch axis fixed at 8 (make_fixtures.py --fixed-batch-only). */
  public static Path tinyClipB8() {
    return resource("tiny-clip-b8");
  }

  public static Path dir() {
    return resource("fixtures");
  }

  public static JsonNode manifest() {
    try {
      return new ObjectMapper().readTree(dir().resolve("manifest.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] bytes(String relative) {
    try {
      return Files.readAllBytes(dir().resolve(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static float[] floats(String relative) {
    ByteBuffer b = ByteBuffer.wrap(bytes(relative)).order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[b.remaining() / 4];
    b.asFloatBuffer().get(f);
    return f;
  }

  /** Row {@code i} of a row-major [n, d] float32 file. */
  public static float[] row(String relative, int i, int d) {
    float[] all = floats(relative);
    float[] r = new float[d];
    System.arraycopy(all, i * d, r, 0, d);
    return r;
  }

  public static byte[] image(JsonNode entry) {
    return bytes(entry.get("file").asText());
  }
}
