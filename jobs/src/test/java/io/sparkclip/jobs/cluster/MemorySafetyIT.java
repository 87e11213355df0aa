package io.sparkclip.jobs.cluster;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.length;
import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.schemas.Columns;
import io.sparkclip.udfs.preprocess.ImageDimensions;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executor memory safety (docs/memory.md): {@code embed} on the standalone cluster with a 2 GB
 * executor heap, over generated pairs salted with decompression bombs (headers claiming 50,000 x
 * 50,000 px, and a real 12,000 x 12,000 zlib bomb of about 1 MB), 10,000-character captions and two
 * large but allowed 8,000 x 8,000 JPEGs.
 */
class MemorySafetyIT {
  private static final int ROWS = 400;
  private static final int LONG_CAPTION = 10_000;

  /** Rows given an 8,000 x 8,000 JPEG: four in the first half, so in one task and one batch. */
  private static final List<Integer> LARGE_ROWS = List.of(1, 2, 4, 6);

  private static final long MB = 1L << 20;

  /** docs/memory.md's heap terms at sparkclip's defaults (B, P) and Spark's W. */
  private static final long RESERVED = 300 * MB;

  private static final int B = 32;
  private static final int P = 2;
  private static final long W = 128 * MB;
  private static final long M = 89_478_485L;

  /** Slack on the formula: GC logs report occupancy before a collection, garbage included. */
  private static final double FORMULA_MARGIN = 0.15;

  /** One task's input, summed into docs/memory.md's per-task terms. */
  private static final class TaskInput {
    long readerBytes;
    final List<Long> rowBytes = new ArrayList<>();
    long largestDecode;
    int largeImages;

    void add(Row f) {
      long row = (f.isNullAt(1) ? 0 : f.getLong(1)) + (f.isNullAt(2) ? 0 : f.getLong(2));
      readerBytes += row; // R (4096) exceeds the 200 rows of a file: the reader holds them all
      rowBytes.add(row);
      if (!f.isNullAt(3)) {
        ImageDimensions.Result d = ImageDimensions.read(f.getAs(3));
        long px = d.readable() ? (long) d.width() * d.height() : 0;
        if (px > 0 && px <= M) {
          largestDecode = Math.max(largestDecode, px * 4); // at most 4 bytes a pixel
        }
        largeImages += px == 8000L * 8000 ? 1 : 0;
      }
    }

    long heapBytes() {
      List<Long> sorted = new ArrayList<>(rowBytes);
      sorted.sort(java.util.Comparator.reverseOrder());
      long largestBatch = sorted.stream().limit(B).mapToLong(Long::longValue).sum();
      long rows = (P + 1) * largestBatch;
      // Pixel tensors live in direct buffers (docs/memory.md), off this heap; token ids stay.
      long tokens = (P + 1) * (long) B * 77 * 8;
      long decode = P * 2 * largestDecode;
      return readerBytes + rows + tokens + decode + W;
    }
  }

  @TempDir static Path tmp;
  private static StandaloneCluster cluster;
  private static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    cluster = new StandaloneCluster(tmp).start(1, 2, "3g");
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("MemorySafetyIT")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void embedSurvivesBombsAndLongCaptionsInA2gExecutorHeap() throws Exception {
    String raw = tmp.resolve("raw").toString();
    assertThat(
            SparkclipCli.execute(
                "generate", "--rows", "" + ROWS, "--shard-size", "200", "--out", raw))
        .as("generate exit code")
        .isZero();

    Hostile h = Hostile.make();
    Dataset<Row> gen =
        spark.read().option("pathGlobFilter", "*.parquet").parquet(raw).orderBy("key");
    StructType schema = gen.schema();
    int jpg = schema.fieldIndex("jpg");
    int caption = schema.fieldIndex(Columns.CAPTION);
    List<Row> rows = new ArrayList<>();
    int bombs = 0;
    int longCaptions = 0;
    List<Row> in = gen.collectAsList();
    for (int i = 0; i < in.size(); i++) {
      Object[] v = new Object[schema.size()];
      for (int c = 0; c < v.length; c++) {
        v[c] = in.get(i).get(c);
      }
      if (i % 10 == 3) {
        v[jpg] = h.bombs.get(bombs++ % h.bombs.size());
      } else if (LARGE_ROWS.contains(i)) {
        v[jpg] = h.largeJpeg;
      }
      if (i % 7 == 5) {
        v[caption] = Hostile.longCaption(i);
        longCaptions++;
      }
      rows.add(RowFactory.create(v));
    }
    String hostile = tmp.resolve("hostile").toString();
    spark.createDataFrame(rows, schema).coalesce(2).write().parquet(hostile);
    // One input file is one task: both tasks' terms of the formula, from what they will read.
    List<Row> files =
        spark
            .read()
            .parquet(hostile)
            .select(
                input_file_name().as("file"),
                length(col("jpg")).cast("long").as("jpg_bytes"),
                length(col(Columns.CAPTION)).cast("long").as("caption_chars"),
                col("jpg"))
            .collectAsList(); // 400 rows, ~50 MB of which the large JPEGs are most
    Map<String, TaskInput> tasks = new TreeMap<>();
    for (Row f : files) {
      tasks.computeIfAbsent(f.getString(0), k -> new TaskInput()).add(f);
    }
    assertThat(tasks).as("input files = tasks").hasSize(2);
    assertThat(tasks.values().stream().mapToInt(t -> t.largeImages).max().orElse(0))
        .as("the 64 Mpx JPEGs are all in one task")
        .isEqualTo(LARGE_ROWS.size());
    long predicted = RESERVED;
    for (TaskInput t : tasks.values()) {
      predicted += t.heapBytes();
    }

    String out = tmp.resolve("embedded").toString();
    Path model =
        Path.of(StandaloneCluster.required("sparkclip.root"), "udfs/src/test/resources/tiny-clip");
    long t0 = System.nanoTime();
    StandaloneCluster.Submitted r =
        cluster.submit(
            StandaloneCluster.required("sparkclip.jar"),
            "io.sparkclip.jobs.SparkclipCli",
            List.of(
                "spark.executor.memory=2g",
                "spark.executor.cores=2",
                "spark.cores.max=2",
                "spark.task.maxFailures=1",
                "spark.executor.extraJavaOptions=-Xlog:gc:file=" + tmp.resolve("gc-executor.log")),
            List.of("embed", hostile, "--model", model.toString(), "--out", out),
            Duration.ofMinutes(8));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(r.exitCode())
        .as("embed via spark-submit with a 2g executor; log:\n" + r.output())
        .isZero();
    assertThat(cluster.log("worker-0"))
        .as("the worker launched the executor with a 2 GB heap")
        .contains("-Xmx2048M");
    long peakMb = peakHeapMb(tmp.resolve("gc-executor.log"));
    System.out.printf(
        "MemorySafetyIT: embed of %d hostile rows took %.1f s; executor heap peak before GC %d MB"
            + " of 2048 MB%n",
        ROWS, seconds, peakMb);
    long boundMb = Math.round(predicted * (1 + FORMULA_MARGIN) / MB);
    System.out.printf(
        "MemorySafetyIT: docs/memory.md predicts %d MB for this run (bound with margin %d MB)%n",
        predicted / MB, boundMb);
    assertThat(boundMb).as("the bound is below the heap, so it can fail").isLessThan(2048);
    assertThat(peakMb)
        .as("executor heap peak from its GC log within docs/memory.md's formula + 15 %%")
        .isLessThanOrEqualTo(boundMb);
    assertThat(peakMb)
        .as("the peak shows at least one 64 Mpx decode and its copy (2 x 192 MB) in this heap")
        .isGreaterThanOrEqualTo(2 * 8000L * 8000 * 3 / MB);

    Dataset<Row> e = spark.read().parquet(out + "/data").cache();
    assertThat(e.count()).as("rows out").isEqualTo(ROWS);
    assertThat(e.filter(col(Columns.EMBED_STATUS).equalTo("image:too_large")).count())
        .as("decompression bombs refused on the header as too_large")
        .isEqualTo(bombs);
    assertThat(
            e.filter(col(Columns.EMBED_STATUS).equalTo("image:too_large"))
                .filter(col(Columns.EMBED_ERROR).contains("decompression-bomb guard"))
                .count())
        .as("too_large rows say why")
        .isEqualTo(bombs);
    Dataset<Row> longRows = e.filter(length(col(Columns.CAPTION)).equalTo(LONG_CAPTION));
    assertThat(longRows.count())
        .as("10,000-character captions in the output")
        .isEqualTo(longCaptions);
    assertThat(longRows.filter(col(Columns.TEXT_EMBEDDING).isNotNull()).count())
        .as("10,000-character captions embedded (truncated to the context length)")
        .isEqualTo(longCaptions);
    assertThat(
            e.filter(length(col("jpg")).equalTo(h.largeJpeg.length))
                .filter(col(Columns.IMAGE_EMBEDDING).isNotNull())
                .count())
        .as("the 8,000 x 8,000 JPEGs (64 Mpx, under the limit) embedded")
        .isEqualTo(LARGE_ROWS.size());
  }

  /** Largest heap occupancy before a collection ("123M->45M(2048M)") in a -Xlog:gc file. */
  static long peakHeapMb(Path gcLog) throws IOException {
    long peak = 0;
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+)M->\\d+M\\(\\d+M\\)")
            .matcher(java.nio.file.Files.readString(gcLog));
    while (m.find()) {
      peak = Math.max(peak, Long.parseLong(m.group(1)));
    }
    return peak;
  }

  /** The hostile inputs, built in memory. */
  record Hostile(List<byte[]> bombs, byte[] largeJpeg) {
    static Hostile make() throws IOException {
      byte[] smallJpeg = encode(image(32, 32), "jpg");
      byte[] smallPng = encode(image(32, 32), "png");
      return new Hostile(
          List.of(
              jpegClaiming(smallJpeg, 50_000, 50_000),
              pngClaiming(smallPng, 50_000, 50_000),
              zlibBomb(12_000)),
          encode(image(8_000, 8_000), "jpg"));
    }

    static String longCaption(int seed) {
      StringBuilder b = new StringBuilder(LONG_CAPTION);
      String[] words = {"a", "photo", "of", "red", "star", "on", "the", "left", "blue", "hexagon"};
      int i = seed;
      while (b.length() < LONG_CAPTION) {
        b.append(words[i++ % words.length]).append(' ');
      }
      return b.substring(0, LONG_CAPTION);
    }

    static BufferedImage image(int w, int h) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
      Graphics2D g = img.createGraphics();
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, w, h);
      g.setColor(Color.RED);
      g.fillOval(w / 4, h / 4, w / 2, h / 2);
      g.dispose();
      return img;
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      assertThat(ImageIO.write(img, format, o)).as("ImageIO writes " + format).isTrue();
      return o.toByteArray();
    }

    /** A real JPEG whose SOF0 frame header claims w x h. */
    static byte[] jpegClaiming(byte[] jpeg, int w, int h) {
      byte[] b = jpeg.clone();
      for (int i = 2; i + 8 < b.length; i++) {
        if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) == 0xC0) {
          b[i + 5] = (byte) (h >> 8);
          b[i + 6] = (byte) h;
          b[i + 7] = (byte) (w >> 8);
          b[i + 8] = (byte) w;
          return b;
        }
      }
      throw new IllegalStateException("no SOF0 marker in the JPEG");
    }

    /** A real PNG whose IHDR claims w x h (CRC fixed, so it stays a well-formed file). */
    static byte[] pngClaiming(byte[] png, int w, int h) {
      byte[] b = png.clone();
      ByteBuffer.wrap(b, 16, 8).putInt(w).putInt(h);
      CRC32 crc = new CRC32();
      crc.update(b, 12, 17); // "IHDR" + 13 data bytes
      ByteBuffer.wrap(b, 29, 4).putInt((int) crc.getValue());
      return b;
    }

    /** A genuine zlib bomb: an all-black size x size RGB PNG, ~1 MB compressed, ~432 MB raw. */
    static byte[] zlibBomb(int size) throws IOException {
      ByteArrayOutputStream idat = new ByteArrayOutputStream();
      Deflater d = new Deflater(9);
      byte[] row = new byte[1 + 3 * size]; // filter byte 0 + black pixels
      byte[] buf = new byte[1 << 16];
      for (int y = 0; y < size; y++) {
        d.setInput(row);
        while (!d.needsInput()) {
          idat.write(buf, 0, d.deflate(buf));
        }
      }
      d.finish();
      while (!d.finished()) {
        idat.write(buf, 0, d.deflate(buf));
      }
      d.end();
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
      ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(size).putInt(size);
      ihdr.put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
      chunk(png, "IHDR", ihdr.array());
      chunk(png, "IDAT", idat.toByteArray());
      chunk(png, "IEND", new byte[0]);
      return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream o, String type, byte[] data)
        throws IOException {
      byte[] t = type.getBytes(StandardCharsets.US_ASCII);
      o.write(ByteBuffer.allocate(4).putInt(data.length).array());
      o.write(t);
      o.write(data);
      CRC32 crc = new CRC32();
      crc.update(t);
      crc.update(data);
      o.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
  }
}
