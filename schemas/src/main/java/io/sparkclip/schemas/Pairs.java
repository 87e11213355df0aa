package io.sparkclip.schemas;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Turns an input frame of any recognised layout into "pairs": the input's columns untouched, plus
 * {@code uid}, {@code pair_status} and {@code pair_status_detail}. No row is dropped: unusable rows
 * carry their status. Idempotent: a prepared frame is returned as is.
 */
public final class Pairs {
  private Pairs() {}

  public static Dataset<Row> prepare(Dataset<Row> input, ResolvedLayout layout) {
    StructType schema = input.schema();
    if (LayoutDetector.isPrepared(schema)) {
      return input;
    }
    Dataset<Row> df = input;
    if (LayoutDetector.field(schema, Columns.UID).isPresent()) {
      df = df.withColumnRenamed(Columns.UID, Columns.SOURCE_UID);
    }
    Column status = status(layout);
    Column detail = detail(layout, schema);
    if (LayoutDetector.field(schema, Columns.SAMPLE_ERROR).isPresent()) {
      // A sample the reader could not read soundly is unusable whatever its columns hold.
      Column err = ResolvedLayout.column(Columns.SAMPLE_ERROR);
      status = when(err.isNotNull(), lit(PairStatus.INVALID_SAMPLE)).otherwise(status);
      detail = when(err.isNotNull(), err).otherwise(detail);
    }
    return df.withColumn(Columns.UID, uid(layout))
        .withColumn(Columns.PAIR_STATUS, status)
        .withColumn(Columns.PAIR_STATUS_DETAIL, detail);
  }

  /**
   * The uid expression. The "url" part is the url column; without one (Hugging Face), the image
   * path, then the hex SHA-256 of the image bytes.
   */
  static Column uid(ResolvedLayout layout) {
    List<Column> urlParts = new ArrayList<>();
    layout.url().ifPresent(urlParts::add);
    layout.imagePath().ifPresent(urlParts::add);
    if (layout.hasImages() && layout.url().isEmpty()) {
      urlParts.add(sha2(layout.imageBytes(), 256));
    }
    Column url =
        urlParts.isEmpty() ? lit(null).cast("string") : coalesce(urlParts.toArray(Column[]::new));
    return Uid.column(url, layout.caption());
  }

  static Column captionMissing(ResolvedLayout layout) {
    Column c = layout.caption();
    return c.isNull().or(length(trim(c)).equalTo(0));
  }

  static Column imageMissing(ResolvedLayout layout) {
    if (!layout.hasImages()) {
      return lit(false);
    }
    Column b = layout.imageBytes();
    return b.isNull().or(length(b).equalTo(0));
  }

  static Column status(ResolvedLayout layout) {
    Column img = imageMissing(layout);
    Column cap = captionMissing(layout);
    return when(img.and(cap), lit(PairStatus.MISSING_IMAGE_AND_CAPTION))
        .when(img, lit(PairStatus.MISSING_IMAGE))
        .when(cap, lit(PairStatus.MISSING_CAPTION))
        .otherwise(lit(PairStatus.OK));
  }

  static Column detail(ResolvedLayout layout, StructType schema) {
    Column imageWhy = lit(null).cast("string");
    if (layout.hasImages()) {
      Column b = layout.imageBytes();
      Column bytesWhy =
          when(b.isNull(), lit("image bytes are null")).otherwise(lit("image bytes are empty"));
      boolean img2datasetStatus =
          LayoutDetector.field(schema, Columns.STATUS).isPresent()
              && LayoutDetector.field(schema, Columns.ERROR_MESSAGE).isPresent();
      if (img2datasetStatus) {
        Column st = ResolvedLayout.column(Columns.STATUS);
        Column err = coalesce(ResolvedLayout.column(Columns.ERROR_MESSAGE), lit("no message"));
        bytesWhy =
            when(
                    st.isNotNull().and(st.notEqual(lit("success"))),
                    concat(lit("img2dataset status "), st, lit(": "), err))
                .otherwise(bytesWhy);
      }
      imageWhy = when(imageMissing(layout), bytesWhy);
    }
    Column c = layout.caption();
    Column captionWhy =
        when(c.isNull(), lit("caption is null"))
            .when(captionMissing(layout), lit("caption is blank"));
    return when(
            imageWhy.isNotNull().and(captionWhy.isNotNull()),
            concat(imageWhy, lit("; "), captionWhy))
        .otherwise(coalesce(imageWhy, captionWhy));
  }
}
