package io.sparkclip.udfs.spark;

import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.embed.Vectors;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;
import scala.collection.Seq;

/**
 * SQL functions on embeddings, registered with one call: {@code ClipFunctions.register(spark)}.
 *
 * <ul>
 *   <li>{@code clip_cosine(a, b)}: cosine of two array&lt;float|double&gt; (null if either is null;
 *       an error if their lengths differ)
 *   <li>{@code clip_l2_normalize(a)}: the array scaled to unit length
 *   <li>{@code clip_fp16_unpack(b)}: binary fp16 little-endian (precision=fp16 output) to
 *       array&lt;float&gt;
 *   <li>{@code clip_fp16_pack(a)}: array&lt;float&gt; to binary fp16 little-endian
 *   <li>{@code clip_cosine_fp16(a, b)}: cosine of two fp16 binaries
 * </ul>
 */
public final class ClipFunctions {
  private ClipFunctions() {}

  public static void register(SparkSession spark) {
    spark
        .udf()
        .register(
            "clip_cosine",
            (UDF2<Seq<Object>, Seq<Object>, Double>)
                (a, b) -> a == null || b == null ? null : cosine(floats(a), floats(b)),
            DataTypes.DoubleType);
    spark
        .udf()
        .register(
            "clip_l2_normalize",
            (UDF1<Seq<Object>, float[]>)
                a -> a == null ? null : Vectors.l2NormalizeInPlace(floats(a)),
            DataTypes.createArrayType(DataTypes.FloatType, false));
    spark
        .udf()
        .register(
            "clip_fp16_unpack",
            (UDF1<byte[], float[]>) b -> b == null ? null : unpackFp16(b),
            DataTypes.createArrayType(DataTypes.FloatType, false));
    spark
        .udf()
        .register(
            "clip_fp16_pack",
            (UDF1<Seq<Object>, byte[]>) a -> a == null ? null : Vectors.packFp16(floats(a)),
            DataTypes.BinaryType);
    spark
        .udf()
        .register(
            "clip_cosine_fp16",
            (UDF2<byte[], byte[], Double>)
                (a, b) -> a == null || b == null ? null : cosine(unpackFp16(a), unpackFp16(b)),
            DataTypes.DoubleType);
  }

  /** The column may be any binary column a user names, e.g. semdedup --embedding-col jpg. */
  private static float[] unpackFp16(byte[] bytes) {
    if (bytes.length % 2 != 0) {
      throw ClipErrors.notFp16(bytes.length);
    }
    return Vectors.unpackFp16(bytes);
  }

  private static Double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw ClipErrors.cosineWidthMismatch(a.length, b.length);
    }
    return Vectors.cosine(a, b);
  }

  static float[] floats(Seq<Object> s) {
    int n = s.length();
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      Object v = s.apply(i);
      out[i] = v == null ? Float.NaN : ((Number) v).floatValue();
    }
    return out;
  }
}
