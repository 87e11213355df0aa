package io.sparkclip.jobs.embed;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.schemas.Columns;
import io.sparkclip.udfs.RowStatus;
import io.sparkclip.udfs.spark.ClipEmbedderBase;
import io.sparkclip.udfs.spark.ClipImageEmbedder;
import io.sparkclip.udfs.spark.ClipTextEmbedder;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/** The embedding transform of a shard: the udfs engine's text and image embedders, one status. */
final class EmbedTransform {
  private EmbedTransform() {}

  /** The embedding transform of one shard: input columns + the five embed columns. */
  static Dataset<Row> embed(CurationInput in, String modelId, EmbedJob.Options options) {
    Dataset<Row> df = in.pairs();
    String caption = in.layout().captionCol();
    ClipTextEmbedder text =
        new ClipTextEmbedder()
            .setModelDir(options.model())
            .setInputCol(caption)
            .setOutputCol(Columns.TEXT_EMBEDDING)
            .setStatusCol("_text_status")
            .setErrorCol("_text_error")
            .setBatchSize(options.batchSize())
            .setDevice(options.device())
            .setPreprocessThreads(options.preprocessThreads())
            .setPrecision(options.precision());
    df = text.transform(df);
    Column status;
    Column error;
    if (options.textOnly() || in.layout().imageCol().isEmpty()) {
      df =
          df.withColumn(
              Columns.IMAGE_EMBEDDING,
              lit(null)
                  .cast(
                      options.precision().equals("fp16")
                          ? DataTypes.BinaryType
                          : ClipEmbedderBase.FP32_EMBEDDING));
      status = col("_text_status");
      error = col("_text_error");
    } else {
      ClipImageEmbedder image =
          new ClipImageEmbedder()
              .setModelDir(options.model())
              .setInputCol(in.layout().imageCol().get())
              .setOutputCol(Columns.IMAGE_EMBEDDING)
              .setStatusCol("_image_status")
              .setErrorCol("_image_error")
              .setBatchSize(options.batchSize())
              .setDevice(options.device())
              .setPrecision(options.precision())
              .setPreprocessThreads(options.preprocessThreads())
              .setReducedJpegTarget(options.reducedJpegTarget())
              .setMaxPixels(options.maxPixels());
      df = image.transform(df);
      String ok = RowStatus.OK.value();
      status =
          when(col("_image_status").notEqual(lit(ok)), concat(lit("image:"), col("_image_status")))
              .when(
                  col("_text_status").notEqual(lit(ok)), concat(lit("text:"), col("_text_status")))
              .otherwise(lit(ok));
      error =
          when(col("_image_status").notEqual(lit(ok)), col("_image_error"))
              .otherwise(col("_text_error"));
    }
    return df.withColumn(Columns.EMBED_STATUS, status)
        .withColumn(Columns.EMBED_ERROR, error)
        .withColumn(Columns.MODEL_ID, lit(modelId))
        .drop("_text_status", "_text_error", "_image_status", "_image_error");
  }
}
