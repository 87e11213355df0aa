package io.sparkclip.jobs.stage.copydetect;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Executor side: the copy-detection signature of image bytes (pHash, colour grid, thumbnail and
 * {@link CandidateKeys}), or why there is none. A struct of {@link #TYPE}; null for null bytes.
 */
public final class ImageSignatureUdf implements UDF1<byte[], Row> {
  private static final long serialVersionUID = 1L;

  public static final String PHASH = "phash";
  public static final String COLOUR = "colour";
  public static final String THUMBNAIL = "thumbnail";
  public static final String KEYS = "keys";
  public static final String ERROR = "error";

  public static final StructType TYPE =
      new StructType()
          .add(PHASH, DataTypes.LongType, true)
          .add(COLOUR, DataTypes.BinaryType, true)
          .add(THUMBNAIL, DataTypes.BinaryType, true)
          .add(KEYS, DataTypes.createArrayType(DataTypes.LongType, false), true)
          .add(ERROR, DataTypes.StringType, true);

  @Override
  public Row call(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      PerceptualHash.Signature sig = PerceptualHash.signature(bytes);
      return RowFactory.create(
          sig.phash(),
          sig.colour(),
          sig.thumbnail(),
          CandidateKeys.of(sig.phash(), sig.thumbnail()),
          null);
    } catch (PerceptualHash.UndecodableImageException e) {
      return RowFactory.create(null, null, null, null, e.getMessage());
    }
  }
}
