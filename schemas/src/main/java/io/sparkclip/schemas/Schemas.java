package io.sparkclip.schemas;

import static org.apache.spark.sql.types.DataTypes.BinaryType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;

import org.apache.spark.sql.types.StructType;

/** Spark schemas as constants. Build one from another rather than repeating fields. */
public final class Schemas {
  private Schemas() {}

  /**
   * img2dataset's Parquet layout ({@code output_format=parquet}), in its column order, with the
   * {@code query} column our generator saves as an "additional column" in front. Failed rows are
   * kept with null bytes, as img2dataset does.
   */
  public static final StructType IMG2DATASET =
      new StructType()
          .add(Columns.QUERY, StringType, true /* nullable: extra column from the input */)
          .add(Columns.CAPTION, StringType, true /* nullable: scraped alt text may be missing */)
          .add(Columns.URL, StringType, false /* nullable */)
          .add(Columns.KEY, StringType, false /* nullable */)
          .add(Columns.STATUS, StringType, false /* nullable */)
          .add(Columns.ERROR_MESSAGE, StringType, true /* nullable: null on success */)
          .add(Columns.WIDTH, IntegerType, true /* nullable: null when not downloaded */)
          .add(Columns.HEIGHT, IntegerType, true /* nullable */)
          .add(Columns.ORIGINAL_WIDTH, IntegerType, true /* nullable */)
          .add(Columns.ORIGINAL_HEIGHT, IntegerType, true /* nullable */)
          .add(Columns.EXIF, StringType, true /* nullable: JSON string */)
          .add(Columns.SHA256, StringType, true /* nullable: null when not downloaded */)
          .add(Columns.JPG, BinaryType, true /* nullable: null when not downloaded */);

  /** Hugging Face datasets' {@code Image} feature: {@code {bytes: binary, path: string}}. */
  public static final StructType HF_IMAGE =
      new StructType()
          .add(Columns.IMAGE_BYTES_FIELD, BinaryType, true /* nullable */)
          .add(Columns.IMAGE_PATH_FIELD, StringType, true /* nullable */);

  /** A Hugging Face datasets export: an {@code image} struct plus a {@code text} column. */
  public static final StructType HUGGING_FACE =
      new StructType()
          .add(Columns.IMAGE, HF_IMAGE, true /* nullable */)
          .add(Columns.TEXT, StringType, true /* nullable */);

  /** Metadata only (LAION style): url and caption, no image bytes. Our generator's variant. */
  public static final StructType METADATA_ONLY =
      new StructType()
          .add(Columns.QUERY, StringType, true /* nullable */)
          .add(Columns.CAPTION, StringType, true /* nullable */)
          .add(Columns.URL, StringType, false /* nullable */)
          .add(Columns.KEY, StringType, false /* nullable */)
          .add(Columns.WIDTH, IntegerType, true /* nullable */)
          .add(Columns.HEIGHT, IntegerType, true /* nullable */);

  /**
   * A sample of WebDataset tar shards (img2dataset {@code output_format=webdataset}) or of
   * img2dataset's {@code files} folders, as sparkclip's readers yield it: the members ({@code
   * {key}.jpg|png|webp}, {@code {key}.txt}, {@code {key}.json}) and the img2dataset metadata fields
   * of the json, img2dataset's column names, plus where the sample was read from and why it is not
   * usable if it is not. Every sample is one row, sound or not.
   */
  public static final StructType WEBDATASET =
      new StructType()
          .add(Columns.KEY, StringType, false /* nullable: the member name up to the first dot */)
          .add(Columns.URL, StringType, true /* nullable: from the json, if any */)
          .add(Columns.CAPTION, StringType, true /* nullable: {key}.txt, else the json's caption */)
          .add(Columns.IMAGE, BinaryType, true /* nullable: null unless exactly one image member */)
          .add(Columns.IMAGE_FORMAT, StringType, true /* nullable */)
          .add(Columns.STATUS, StringType, true /* nullable */)
          .add(Columns.ERROR_MESSAGE, StringType, true /* nullable */)
          .add(Columns.WIDTH, IntegerType, true /* nullable */)
          .add(Columns.HEIGHT, IntegerType, true /* nullable */)
          .add(Columns.ORIGINAL_WIDTH, IntegerType, true /* nullable */)
          .add(Columns.ORIGINAL_HEIGHT, IntegerType, true /* nullable */)
          .add(Columns.EXIF, StringType, true /* nullable */)
          .add(Columns.SHA256, StringType, true /* nullable */)
          .add(Columns.SAMPLE_JSON, StringType, true /* nullable: no json member */)
          .add(Columns.SOURCE_SHARD, StringType, false /* nullable */)
          .add(Columns.SOURCE_OFFSET, LongType, false /* nullable */)
          .add(Columns.SAMPLE_ERROR, StringType, true /* nullable: null for a sound sample */);

  /** The generator's ground truth: one row per injected fault. */
  public static final StructType GROUND_TRUTH =
      new StructType()
          .add(Columns.UID, StringType, false /* nullable */)
          .add(Columns.KEY, StringType, false /* nullable */)
          .add(Columns.FAULT, StringType, false /* nullable: see FaultKind */)
          .add(Columns.ORIGINAL_UID, StringType, true /* nullable: set for duplicates only */)
          .add(Columns.DETAIL, StringType, true /* nullable */);

  /**
   * What the generator drew in each picture, one row per generated row with an image ({@code key}
   * is unique, {@code uid} is not for exact duplicates): the ground truth a score head trained on
   * generated data is measured against.
   */
  public static final StructType SCENES =
      new StructType()
          .add(Columns.UID, StringType, false /* nullable */)
          .add(Columns.KEY, StringType, false /* nullable */)
          .add(
              Columns.BACKGROUND_STYLE,
              StringType,
              true /* nullable: no picture (failed download, corrupt bytes) */);

  /** Rows a curation stage removed, and why. Shared by every stage. */
  public static final StructType REJECTS =
      new StructType()
          .add(Columns.UID, StringType, false /* nullable */)
          .add(Columns.STAGE, StringType, false /* nullable */)
          .add(Columns.REASON, StringType, false /* nullable */)
          .add(Columns.DETAIL, StringType, true /* nullable */)
          .add(
              Columns.RELATED_UID, StringType, true /* nullable: the uid a duplicate duplicates */);

  /** Matches per query (match-queries' {@code query_counts/}). */
  public static final StructType QUERY_COUNTS =
      new StructType()
          .add(Columns.QUERY, StringType, false /* nullable */)
          .add(Columns.ROWS, org.apache.spark.sql.types.DataTypes.LongType, false /* nullable */);

  /** Rows per query before and after balance ({@code query_counts/}). */
  public static final StructType BALANCE_COUNTS =
      new StructType()
          .add(Columns.QUERY, StringType, false /* nullable */)
          .add(Columns.ROWS_BEFORE, org.apache.spark.sql.types.DataTypes.LongType, false)
          .add(Columns.ROWS_AFTER, org.apache.spark.sql.types.DataTypes.LongType, false);
}
