package io.sparkclip.jobs.bench;

import static org.apache.spark.sql.functions.col;

import io.sparkclip.jobs.generate.ShapeRenderer;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.ResolvedLayout;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * The heavy-cluster input of the dedup benchmark (issue 14; not a test): N re-encodings of ONE
 * image plus N distinct images, to be compared with 2N distinct images. Run by {@code
 * bench/dedup-scale.sh --heavy}; see bench/README.md.
 *
 * <pre>
 * HeavyClusterInput build SRC N OUT [seed]   SRC: generated pairs with more than N rows
 * HeavyClusterInput count DIR [url-prefix]   rows of DIR/*.parquet whose url has the prefix
 * </pre>
 *
 * <p>{@code build} writes OUT with SRC's schema: the N rows of SRC with the lowest ids, then N
 * copies of the image of the first decodable row after them (smallest side at least 128 px), each a
 * JPEG at quality 0.60–0.95, its width and height each scaled by 0.90–1.10, with a distinct JPEG
 * comment (so no two copies share bytes and the exact-image stage leaves them all to the near-image
 * stage), url {@value #PREFIX}N.jpg, its own id, caption and sha256. {@code count} reads only the
 * url column with parquet-hadoop (no Spark).
 */
public final class HeavyClusterInput {
  /** The url prefix that marks the copies. */
  public static final String PREFIX = "http://heavy.example/copy/";

  private HeavyClusterInput() {}

  public static void main(String[] args) throws IOException {
    if (args.length >= 4 && args[0].equals("build")) {
      build(
          args[1],
          Integer.parseInt(args[2]),
          args[3],
          args.length > 4 ? Long.parseLong(args[4]) : 14);
    } else if (args.length >= 2 && args[0].equals("count")) {
      String prefix = args.length > 2 ? args[2] : PREFIX;
      long[] c = count(Path.of(args[1]), "url", prefix);
      System.out.printf("count: rows %d, url prefix %s: %d%n", c[0], prefix, c[1]);
    } else {
      System.err.println(
          "usage: HeavyClusterInput build SRC N OUT [seed] | count DIR [url-prefix]");
      System.exit(2);
    }
  }

  public static void build(String src, int n, String out, long seed) {
    build(src, n, n, out, seed);
  }

  /** The {@code distinct} lowest-id rows of {@code src} plus {@code copies} copies of one image. */
  public static void build(String src, int distinct, int copiesOf, String out, long seed) {
    int n = distinct;
    try (Sparks sparks = Sparks.open("sparkclip heavy cluster input", "local[*]", Map.of())) {
      SparkSession spark = sparks.session();
      Dataset<Row> raw = Paths.readParquet(spark, src); // *.parquet only (not queries.txt)
      StructType schema = raw.schema();
      ResolvedLayout layout = LayoutDetector.detect(schema, ColumnMapping.DETECT, src);
      String idCol =
          layout.idCol().orElseThrow(() -> new IllegalArgumentException(src + ": no id column"));
      String imageCol =
          layout.imageCol().orElseThrow(() -> new IllegalArgumentException(src + ": no images"));
      if (layout.imageIsStruct() || layout.urlCol().isEmpty()) {
        throw new IllegalArgumentException(src + ": expected generated pairs (img2dataset layout)");
      }
      List<String> ids =
          raw.select(col(idCol)).as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
      List<String> sorted = new ArrayList<>(ids);
      sorted.sort(null);
      if (sorted.size() <= n) {
        throw new IllegalArgumentException(src + " has " + sorted.size() + " rows, need > " + n);
      }
      String threshold = sorted.get(n);
      // The source image: the first decodable row at or after the threshold id, >= 128 px a side.
      List<Row> candidates =
          raw.filter(col(idCol).geq(threshold).and(col(imageCol).isNotNull()))
              .orderBy(col(idCol))
              .limit(200)
              .collectAsList();
      Row source = null;
      BufferedImage image = null;
      for (Row r : candidates) {
        BufferedImage img = decode(r.getAs(imageCol));
        if (img != null && Math.min(img.getWidth(), img.getHeight()) >= 128) {
          source = r;
          image = img;
          break;
        }
      }
      if (source == null) {
        throw new IllegalStateException(
            "no decodable image of at least 128 px after id " + threshold);
      }
      System.out.printf(
          "heavy: %d distinct rows (ids < %s) + %d copies of id %s (%dx%d)%n",
          n, threshold, copiesOf, source.getAs(idCol), image.getWidth(), image.getHeight());

      byte[] png = ShapeRenderer.png(image); // lossless, serialisable carrier of the pixels
      Object[] template = new Object[schema.size()];
      for (int i = 0; i < template.length; i++) {
        template[i] = source.get(i);
      }
      String[] names = schema.fieldNames();
      String captionCol = layout.captionCol();
      String urlCol = layout.urlCol().get();
      int slices = Math.max(2, (copiesOf + 9_999) / 10_000);
      JavaRDD<Row> copies =
          JavaSparkContext.fromSparkContext(spark.sparkContext())
              .parallelize(IntStream.range(0, copiesOf).boxed().toList(), slices)
              .mapPartitions(
                  it ->
                      copies(it, png, template, names, idCol, imageCol, urlCol, captionCol, seed));
      Dataset<Row> heavy =
          raw.filter(col(idCol).lt(threshold)).union(spark.createDataFrame(copies, schema));
      heavy.write().mode("overwrite").parquet(out);
    }
  }

  private static Iterator<Row> copies(
      Iterator<Integer> indices,
      byte[] png,
      Object[] template,
      String[] names,
      String idCol,
      String imageCol,
      String urlCol,
      String captionCol,
      long seed) {
    BufferedImage img = decode(png);
    List<String> cols = Arrays.asList(names);
    List<Row> rows = new ArrayList<>();
    while (indices.hasNext()) {
      int i = indices.next();
      SplittableRandom r = new SplittableRandom(seed * 1_000_003L + i);
      int q = 60 + r.nextInt(36); // JPEG quality 0.60..0.95
      int w = (int) Math.round(img.getWidth() * (0.9 + 0.2 * r.nextDouble()));
      int h = (int) Math.round(img.getHeight() * (0.9 + 0.2 * r.nextDouble()));
      BufferedImage scaled =
          w == img.getWidth() && h == img.getHeight() ? img : ShapeRenderer.resize(img, w, h);
      byte[] bytes = withComment(ShapeRenderer.jpeg(scaled, q), "heavy copy " + i);
      Object[] v = template.clone();
      set(v, cols, idCol, String.format("heavy%09d", i));
      set(v, cols, imageCol, bytes);
      set(v, cols, urlCol, PREFIX + i + ".jpg");
      set(v, cols, captionCol, "heavy copy " + i + ": " + v[cols.indexOf(captionCol)]);
      set(v, cols, "sha256", sha256(bytes));
      set(v, cols, "width", w);
      set(v, cols, "height", h);
      set(v, cols, "original_width", w);
      set(v, cols, "original_height", h);
      set(v, cols, "status", "success");
      set(v, cols, "error_message", null);
      rows.add(RowFactory.create(v));
    }
    return rows.iterator();
  }

  private static void set(Object[] v, List<String> cols, String name, Object value) {
    int i = cols.indexOf(name);
    if (i >= 0) {
      v[i] = value;
    }
  }

  /** The JPEG with a COM segment right after SOI: same pixels, different bytes. */
  static byte[] withComment(byte[] jpeg, String text) {
    byte[] t = text.getBytes(StandardCharsets.US_ASCII);
    int len = t.length + 2;
    byte[] out = new byte[jpeg.length + 2 + len];
    out[0] = jpeg[0];
    out[1] = jpeg[1];
    out[2] = (byte) 0xFF;
    out[3] = (byte) 0xFE;
    out[4] = (byte) (len >> 8);
    out[5] = (byte) len;
    System.arraycopy(t, 0, out, 6, t.length);
    System.arraycopy(jpeg, 2, out, 4 + len, jpeg.length - 2);
    return out;
  }

  private static BufferedImage decode(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return ImageIO.read(new ByteArrayInputStream(bytes));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {rows, rows whose url column starts with prefix} over the Parquet files of dir. */
  public static long[] count(Path dir, String urlCol, String prefix) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files =
          s.filter(
                  p -> {
                    String f = p.getFileName().toString();
                    return f.endsWith(".parquet") && !f.startsWith(".") && !f.startsWith("_");
                  })
              .sorted()
              .toList();
    }
    Configuration conf = new Configuration();
    long rows = 0;
    long hits = 0;
    for (Path f : files) {
      try (ParquetFileReader reader =
          ParquetFileReader.open(
              HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), conf))) {
        MessageType schema = reader.getFooter().getFileMetaData().getSchema();
        MessageType projection = new MessageType("url_only", schema.getType(urlCol));
        reader.setRequestedSchema(projection);
        PageReadStore pages;
        while ((pages = reader.readNextRowGroup()) != null) {
          RecordReader<Group> rr =
              new ColumnIOFactory()
                  .getColumnIO(projection)
                  .getRecordReader(pages, new GroupRecordConverter(projection));
          for (long i = 0; i < pages.getRowCount(); i++) {
            Group g = rr.read();
            rows++;
            if (g.getFieldRepetitionCount(urlCol) > 0
                && g.getString(urlCol, 0).startsWith(prefix)) {
              hits++;
            }
          }
        }
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
    }
    return new long[] {rows, hits};
  }
}
