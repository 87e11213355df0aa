package io.sparkclip.jobs.export;

import io.sparkclip.schemas.Columns;
import io.sparkclip.udfs.embed.Vectors;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * clip-retrieval's inference output, which its index and back end read: per part {@code i}, {@code
 * img_emb/img_emb_<i>.npy} and {@code text_emb/text_emb_<i>.npy} (float16, L2-normalised, shape [n,
 * D]) and {@code metadata/metadata_<i>.parquet}, row j of each describing the same pair. As
 * clip-retrieval's writer: the part number is zero-padded to the digits of the part count, {@code
 * image_path} (the sample key; here the WebDataset key the same input would get) is written only
 * with image embeddings, then {@code caption}, then the metadata columns.
 *
 * <p>Embeddings are re-normalised in float32 and rounded to float16 to nearest-even (numpy's {@code
 * astype(float16)}), from either fp32 arrays or embed's fp16 binary.
 */
final class ClipRetrievalFormat implements UnitFormat {
  private static final long serialVersionUID = 1L;

  static final String IMAGE_DIR = "img_emb";
  static final String TEXT_DIR = "text_emb";
  static final String METADATA_DIR = "metadata";
  static final String IMAGE_PATH = "image_path";

  private final boolean image;
  private final boolean text;
  private final int samplesPerShard;
  private final List<MetadataParquet.Field> metadata;

  /**
   * @param metadata the metadata columns after image_path and caption, by their row names
   */
  ClipRetrievalFormat(
      boolean image, boolean text, int samplesPerShard, List<MetadataParquet.Field> metadata) {
    this.image = image;
    this.text = text;
    this.samplesPerShard = samplesPerShard;
    this.metadata = List.copyOf(metadata);
  }

  static String part(int unit, int units) {
    int width = String.valueOf(units).length();
    return String.format("%0" + width + "d", unit);
  }

  @Override
  public List<String> files(int unit, int units) {
    String p = part(unit, units);
    List<String> out = new ArrayList<>();
    if (image) {
      out.add(IMAGE_DIR + "/img_emb_" + p + ".npy");
    }
    if (text) {
      out.add(TEXT_DIR + "/text_emb_" + p + ".npy");
    }
    out.add(METADATA_DIR + "/metadata_" + p + ".parquet");
    return out;
  }

  /** The columns of metadata_<i>.parquet, in file order. */
  List<MetadataParquet.Field> fileFields() {
    List<MetadataParquet.Field> f = new ArrayList<>();
    if (image) {
      f.add(new MetadataParquet.Field(IMAGE_PATH, MetadataParquet.Kind.STRING));
    }
    f.add(new MetadataParquet.Field(Columns.CAPTION, MetadataParquet.Kind.STRING));
    f.addAll(metadata);
    return f;
  }

  @Override
  public void write(UnitContext ctx, Iterator<Tuple2<Long, Row>> rows) throws IOException {
    List<String> names = files(ctx.unit(), ctx.units());
    Tuple2<Long, Row> first = rows.next();
    int at = 0;
    OutputStream img = null;
    OutputStream txt = null;
    int imageDim = 0;
    int textDim = 0;
    if (image) {
      imageDim = vector(first._2(), Columns.IMAGE_EMBEDDING).length;
      img = ctx.open(names.get(at++)).stream();
      img.write(Npy.header(Npy.FLOAT16, ctx.rows(), imageDim));
    }
    if (text) {
      textDim = vector(first._2(), Columns.TEXT_EMBEDDING).length;
      txt = ctx.open(names.get(at++)).stream();
      txt.write(Npy.header(Npy.FLOAT16, ctx.rows(), textDim));
    }
    List<MetadataParquet.Field> fields = fileFields();
    try (MetadataParquet meta =
        new MetadataParquet(ctx.open(names.get(at)).stream(), fields, ctx.fs().getConf())) {
      byte[] imgScratch = new byte[2 * imageDim];
      byte[] txtScratch = new byte[2 * textDim];
      Object[] values = new Object[fields.size()];
      Tuple2<Long, Row> t = first;
      while (t != null) {
        Row row = t._2();
        if (image) {
          Npy.writeHalves(img, halves(row, Columns.IMAGE_EMBEDDING, imageDim), imgScratch);
        }
        if (text) {
          Npy.writeHalves(txt, halves(row, Columns.TEXT_EMBEDDING, textDim), txtScratch);
        }
        int i = 0;
        if (image) {
          values[i++] = WebDatasetFormat.key(t._1(), samplesPerShard);
        }
        values[i++] = row.getAs(Columns.CAPTION);
        for (MetadataParquet.Field f : metadata) {
          values[i++] = SampleJson.number(row.getAs(f.name()));
        }
        meta.write(values);
        t = rows.hasNext() ? rows.next() : null;
      }
    }
  }

  /** The row's embedding, L2-normalised, as float16 bits; fails on a width unlike the part's. */
  private static short[] halves(Row row, String column, int dim) {
    float[] v = Vectors.l2NormalizeInPlace(vector(row, column));
    if (v.length != dim) {
      throw new IllegalStateException(
          column
              + " of uid "
              + row.getAs(Columns.UID)
              + " has "
              + v.length
              + " values, the part's first row "
              + dim);
    }
    short[] h = new short[v.length];
    for (int i = 0; i < v.length; i++) {
      h[i] = Vectors.toHalf(v[i]);
    }
    return h;
  }

  /** fp32 arrays as they are, fp16 binary (embed --precision fp16) unpacked. */
  static float[] vector(Row row, String column) {
    Object v = row.getAs(column);
    if (v instanceof byte[] b) {
      return Vectors.unpackFp16(b);
    }
    List<Object> list = row.getList(row.fieldIndex(column));
    float[] out = new float[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) list.get(i)).floatValue();
    }
    return out;
  }
}
