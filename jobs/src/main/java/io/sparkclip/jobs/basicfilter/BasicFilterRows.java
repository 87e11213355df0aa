package io.sparkclip.jobs.basicfilter;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.Iterator;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/**
 * Executor side: labels every row of a labelled frame with the first basic check it fails, and
 * appends the language columns when the language check is on. Rows come and go one at a time (the
 * partition is never materialised); rows already rejected upstream (pair status) pass unchanged.
 * Field positions are resolved from names on the driver, once.
 */
final class BasicFilterRows implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  private final BasicChecks checks;
  private final int width;
  private final int caption;
  private final int image;
  private final int imageBytesField;
  private final int sizeWidth;
  private final int sizeHeight;
  private final int stage;
  private final int reason;
  private final int detail;
  private final boolean language;

  /**
   * @param imageCol the image column, null for metadata-only input
   * @param sizeColumns width and height columns of metadata-only input, or null
   */
  BasicFilterRows(
      BasicChecks checks,
      StructType labelled,
      String captionCol,
      String imageCol,
      boolean imageIsStruct,
      String[] sizeColumns,
      boolean language) {
    this.checks = checks;
    this.width = labelled.fields().length;
    this.caption = labelled.fieldIndex(captionCol);
    this.image = imageCol == null ? -1 : labelled.fieldIndex(imageCol);
    this.imageBytesField =
        imageIsStruct
            ? ((StructType) labelled.apply(imageCol).dataType())
                .fieldIndex(Columns.IMAGE_BYTES_FIELD)
            : -1;
    this.sizeWidth = sizeColumns == null ? -1 : labelled.fieldIndex(sizeColumns[0]);
    this.sizeHeight = sizeColumns == null ? -1 : labelled.fieldIndex(sizeColumns[1]);
    this.stage = labelled.fieldIndex(CurationOutput.REJECT_STAGE);
    this.reason = labelled.fieldIndex(CurationOutput.REJECT_REASON);
    this.detail = labelled.fieldIndex(CurationOutput.REJECT_DETAIL);
    this.language = language;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public Row next() {
        return label(rows.next());
      }
    };
  }

  Row label(Row r) {
    Object[] v = new Object[width + (language ? 2 : 0)];
    for (int i = 0; i < width; i++) {
      v[i] = r.get(i);
    }
    if (r.isNullAt(reason)) {
      BasicChecks.Verdict verdict =
          checks.check(
              r.getString(caption), imageBytes(r), number(r, sizeWidth), number(r, sizeHeight));
      if (!verdict.kept()) {
        v[stage] = Stages.REJECT_BASIC_FILTER;
        v[reason] = verdict.reason();
        v[detail] = verdict.detail();
      }
      if (language) {
        v[width] = verdict.language();
        v[width + 1] = verdict.confidence();
      }
    }
    return RowFactory.create(v);
  }

  private byte[] imageBytes(Row r) {
    if (image < 0 || r.isNullAt(image)) {
      return null;
    }
    if (imageBytesField < 0) {
      return (byte[]) r.get(image);
    }
    Row struct = r.getStruct(image);
    return struct.isNullAt(imageBytesField) ? null : (byte[]) struct.get(imageBytesField);
  }

  private static Long number(Row r, int i) {
    return i < 0 || r.isNullAt(i) ? null : ((Number) r.get(i)).longValue();
  }
}
