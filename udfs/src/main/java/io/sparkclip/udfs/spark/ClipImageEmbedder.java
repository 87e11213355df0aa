package io.sparkclip.udfs.spark;

import io.sparkclip.udfs.preprocess.ImageDecoder;
import java.util.Arrays;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * Spark ML transformer: image bytes (binary column, or struct with a binary {@code bytes} field) to
 * CLIP image embeddings. Defaults: input {@code jpg} (img2dataset), outputs {@code
 * image_embedding}, {@code image_status}, {@code image_error}.
 *
 * <pre>{@code
 * Dataset<Row> out = new ClipImageEmbedder()
 *     .setModelDir("hdfs:///models/ViT-B-32").setInputCol("jpg").setBatchSize(64)
 *     .transform(pairs);
 * }</pre>
 */
public class ClipImageEmbedder extends ClipEmbedderBase<ClipImageEmbedder> {
  private static final long serialVersionUID = 1L;

  private final Param<String> decoder;
  private final LongParam maxPixels;
  private final IntParam reducedJpegTarget;

  public ClipImageEmbedder() {
    this(Identifiable$.MODULE$.randomUID("clipImageEmbedder"));
  }

  public ClipImageEmbedder(String uid) {
    super(uid, "jpg", "image");
    decoder =
        new Param<>(
            uid,
            "decoder",
            "auto (ImageIO; OpenCV for WebP and reduced-DCT JPEG), imageio or opencv",
            ParamValidators.inArray(new String[] {"auto", "imageio", "opencv"}));
    maxPixels =
        new LongParam(
            uid,
            "maxPixels",
            "refuse images with more pixels (status too_large), checked on the header",
            ParamValidators.gt(0));
    reducedJpegTarget =
        new IntParam(
            uid,
            "reducedJpegTarget",
            "0 = exact; N > 0 = approximate: decode large JPEGs at 1/2..1/8 scale in the DCT while"
                + " the short side stays >= N",
            ParamValidators.gtEq(0));
    setDefault(decoder, "auto");
    setDefault(maxPixels, (Object) ImageDecoder.DEFAULT_MAX_PIXELS);
    setDefault(reducedJpegTarget, (Object) 0);
  }

  public Param<String> decoder() {
    return decoder;
  }

  public LongParam maxPixels() {
    return maxPixels;
  }

  public IntParam reducedJpegTarget() {
    return reducedJpegTarget;
  }

  public ClipImageEmbedder setDecoder(String v) {
    set(decoder, v);
    return this;
  }

  public ClipImageEmbedder setMaxPixels(long v) {
    set(maxPixels, (Object) v);
    return this;
  }

  public ClipImageEmbedder setReducedJpegTarget(int v) {
    set(reducedJpegTarget, (Object) v);
    return this;
  }

  @Override
  protected boolean acceptsInput(DataType t) {
    return t instanceof BinaryType
        || (t instanceof StructType s
            && Arrays.asList(s.fieldNames()).contains("bytes")
            && s.apply("bytes").dataType() instanceof BinaryType);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return outputSchema(schema, "binary (or struct<bytes: binary, ...>)");
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType in = dataset.schema();
    StructType out = transformSchema(in);
    int idx = in.fieldIndex(getInputCol());
    DataType t = in.apply(getInputCol()).dataType();
    int structBytes = t instanceof StructType s ? s.fieldIndex("bytes") : -1;
    EmbedPartitions.ImageFn fn =
        new EmbedPartitions.ImageFn(
            settings(
                getOrDefault(decoder),
                (Long) getOrDefault(maxPixels),
                (Integer) getOrDefault(reducedJpegTarget)),
            idx,
            structBytes,
            isFp16());
    return dataset.toDF().mapPartitions(fn, Encoders.row(out));
  }
}
