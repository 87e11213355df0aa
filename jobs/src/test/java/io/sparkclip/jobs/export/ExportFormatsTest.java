package io.sparkclip.jobs.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.embed.Vectors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure parts of export, without Spark: NPY headers, float16, image extensions, keys. */
class ExportFormatsTest {
  @TempDir Path tmp;

  @Test
  void npyHeadersAreNumpysOwn() throws Exception {
    // An empty array of each shape: the file is the header alone, so numpy's np.save of what it
    // loads must give back exactly these bytes.
    List<String> files = new ArrayList<>();
    long[][] shapes = {{0, 512}, {3, 32}, {1_000_000, 768}, {7, 1}};
    for (int i = 0; i < shapes.length; i++) {
      long[] s = shapes[i];
      byte[] header = Npy.header(Npy.FLOAT16, s);
      assertThat(header.length % 64).as("header of %s is 64-aligned", List.of(s[0], s[1])).isZero();
      assertThat(header[header.length - 1]).as("header ends with a newline").isEqualTo((byte) '\n');
      byte[] data = new byte[(int) (s[0] == 1_000_000 ? 0 : s[0] * s[1] * 2)];
      if (s[0] == 1_000_000) {
        continue; // too big to load; its alignment is checked above
      }
      Path f = tmp.resolve("a" + i + ".npy");
      Files.write(f, concat(header, data));
      files.add(f.toString());
    }
    JsonNode r = PythonReader.read(concatArgs("npy", files));
    for (int i = 0; i < files.size(); i++) {
      JsonNode n = r.get(files.get(i));
      assertThat(n.get("dtype").asText()).as("dtype of %s", files.get(i)).isEqualTo("<f2");
      assertThat(n.get("numpy_save_equal").asBoolean())
          .as("numpy writes the same bytes for %s", files.get(i))
          .isTrue();
    }
    assertThat(new String(Npy.header(Npy.UID_PAIR, 5), java.nio.charset.StandardCharsets.US_ASCII))
        .as("structured DataComp dtype and 1-D shape")
        .contains(
            "{'descr': [('f0', '<u8'), ('f1', '<u8')], 'fortran_order': False, 'shape': (5,), }");
  }

  @Test
  void float16RoundsToNearestEvenAsNumpyDoes() throws Exception {
    List<Float> values = new ArrayList<>();
    float[] edges = {
      0f,
      -0f,
      1f,
      -1f,
      0.1f,
      1f / 3,
      65504f,
      65519.996f,
      65520f,
      1e6f,
      -1e6f,
      6.1035156e-5f,
      6.097555e-5f,
      5.9604645e-8f,
      2.9802322e-8f,
      2.9802326e-8f,
      1e-10f,
      Float.MIN_VALUE,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY,
      Float.NaN,
      1.0009766f,
      1.0004883f,
      1.0014648f,
      2049f,
      2051f,
      -2051f,
      0.99975586f
    };
    for (float e : edges) {
      values.add(e);
    }
    Random rnd = new Random(3);
    for (int i = 0; i < 5000; i++) {
      values.add((float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(12) - 8)));
      // exact halfway points between two halves: ties go to the even one
      int h = rnd.nextInt(0x7bff);
      float lo = Vectors.fromHalf((short) h);
      float hi = Vectors.fromHalf((short) (h + 1));
      values.add((lo + hi) / 2);
    }
    ByteBuffer b = ByteBuffer.allocate(values.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
    values.forEach(b::putFloat);
    Path f = tmp.resolve("floats.f32");
    Files.write(f, b.array());
    JsonNode bits = PythonReader.read("half", f.toString()).get("bits");
    assertThat(bits.size()).as("numpy converted every value").isEqualTo(values.size());
    for (int i = 0; i < values.size(); i++) {
      int ours = Vectors.toHalf(values.get(i)) & 0xffff;
      int numpy = bits.get(i).asInt();
      if (Float.isNaN(values.get(i))) {
        assertThat(ours & 0x7c00).as("NaN stays NaN").isEqualTo(0x7c00);
        assertThat(ours & 0x3ff).as("NaN mantissa").isNotZero();
        continue;
      }
      assertThat(Integer.toHexString(ours))
          .as("float16 bits of %s (numpy: %s)", values.get(i), Integer.toHexString(numpy))
          .isEqualTo(Integer.toHexString(numpy));
    }
  }

  @Test
  void imageExtensionComesFromTheBytesThenTheUrl() {
    assertThat(ImageExtension.of(bytes(0xff, 0xd8, 0xff, 0xe0), "http://x/a.png"))
        .as("JPEG magic wins over the URL")
        .isEqualTo("jpg");
    assertThat(ImageExtension.of(bytes(0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0), null))
        .as("PNG")
        .isEqualTo("png");
    assertThat(
            ImageExtension.of(bytes('R', 'I', 'F', 'F', 1, 2, 3, 4, 'W', 'E', 'B', 'P', 'V'), null))
        .as("WebP")
        .isEqualTo("webp");
    assertThat(ImageExtension.of(bytes('G', 'I', 'F', '8', '9', 'a', 1), null)).isEqualTo("gif");
    assertThat(ImageExtension.of(bytes('B', 'M', 1, 2), null)).isEqualTo("bmp");
    assertThat(ImageExtension.of(bytes(1, 2, 3), "https://h/p/img.JPEG?w=1#f"))
        .as("unknown bytes: the URL's extension, jpeg as jpg")
        .isEqualTo("jpg");
    assertThat(ImageExtension.of(bytes(1, 2, 3), "https://h/p.webp/x"))
        .as("a dot in a directory is no extension")
        .isEqualTo(ImageExtension.FALLBACK);
    assertThat(ImageExtension.of(bytes(1, 2, 3), "https://h/p/a.gif"))
        .as("url gif")
        .isEqualTo("gif");
  }

  @Test
  void keysAreImg2datasetKeys() {
    assertThat(WebDatasetFormat.key(123, 10_000)).as("shard 0").isEqualTo("000000123");
    assertThat(WebDatasetFormat.key(20_042, 10_000)).as("shard 2").isEqualTo("000020042");
    assertThat(WebDatasetFormat.key(26, 25))
        .as("25 per shard: 2 index digits")
        .isEqualTo("0000101");
    assertThat(WebDatasetFormat.key(3, 1)).as("1 per shard").isEqualTo("000030");
    assertThat(ClipRetrievalFormat.part(3, 12))
        .as("parts padded to the digits of the count")
        .isEqualTo("03");
    assertThat(ClipRetrievalFormat.part(0, 1)).isEqualTo("0");
    assertThat(DataCompUidFormat.high("ffffffffffffffff0000000000000001"))
        .as("unsigned high half")
        .isEqualTo(-1L);
    assertThat(DataCompUidFormat.low("ffffffffffffffff0000000000000001")).isEqualTo(1L);
  }

  @Test
  void unknownFormatIsRefusedWithItsId() {
    assertThatThrownBy(() -> ExportFormat.of("tar"))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.OPTION_UNKNOWN_VALUE))
        .hasMessageContaining("--format webdataset");
    assertThat(ExportFormat.of(ExportJob.Options.FORMAT_DEFAULT))
        .as("the default is a format")
        .isEqualTo(ExportFormat.WEBDATASET);
  }

  private static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = new byte[a.length + b.length];
    System.arraycopy(a, 0, c, 0, a.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static String[] concatArgs(String first, List<String> rest) {
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all.toArray(String[]::new);
  }
}
