package io.sparkclip.udfs.spark;

import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * Spark ML transformer: captions (string column) to CLIP text embeddings. Defaults: input {@code
 * caption}, outputs {@code text_embedding}, {@code text_status}, {@code text_error}.
 */
public class ClipTextEmbedder extends ClipEmbedderBase<ClipTextEmbedder> {
  private static final long serialVersionUID = 1L;

  public ClipTextEmbedder() {
    this(Identifiable$.MODULE$.randomUID("clipTextEmbedder"));
  }

  public ClipTextEmbedder(String uid) {
    super(uid, "caption", "text");
  }

  @Override
  protected boolean acceptsInput(DataType t) {
    return t instanceof StringType;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return outputSchema(schema, "string");
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType in = dataset.schema();
    StructType out = transformSchema(in);
    EmbedPartitions.TextFn fn =
        new EmbedPartitions.TextFn(textSettings(this), in.fieldIndex(getInputCol()), isFp16());
    return dataset.toDF().mapPartitions(fn, Encoders.row(out));
  }
}
