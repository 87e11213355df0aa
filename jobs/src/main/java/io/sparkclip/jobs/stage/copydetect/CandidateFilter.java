package io.sparkclip.jobs.stage.copydetect;

import static org.apache.spark.sql.functions.bit_count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/**
 * The cheap limits a candidate pair must pass before its thumbnails are compared: pHash Hamming
 * distance and {@link PerceptualHash#COLOUR_PREFILTER}, as Spark columns.
 */
public final class CandidateFilter {
  private CandidateFilter() {}

  private static final UserDefinedFunction COLOUR_DISTANCE =
      udf((UDF2<byte[], byte[], Double>) PerceptualHash::colourDistance, DataTypes.DoubleType);

  /** Whether two images' pHash ({@code h}) and colour grid ({@code c}) are within the limits. */
  public static Column close(Column ha, Column hb, Column ca, Column cb, int phashDistance) {
    // The native bit count first: the colour UDF then runs on the few pairs it lets through.
    return bit_count(ha.bitwiseXOR(hb))
        .leq(lit(phashDistance))
        .and(COLOUR_DISTANCE.apply(ca, cb).leq(lit(PerceptualHash.COLOUR_PREFILTER)));
  }
}
