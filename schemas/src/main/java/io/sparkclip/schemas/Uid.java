package io.sparkclip.schemas;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.substring;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.spark.sql.Column;

/**
 * The stable pair id: the first 128 bits of SHA-256 over {@code url + U+001F + caption} (UTF-8), as
 * 32 lowercase hex chars. Null counts as the empty string. The same on every run and machine, and
 * the Java and Spark SQL forms agree (a test proves it).
 */
public final class Uid {
  private Uid() {}

  /** Unit separator: cannot occur in a URL, and almost never in a caption. */
  static final String SEPARATOR = "\u001f";

  public static final int HEX_LENGTH = 32;

  /** The uid of a pair, computed in Java. */
  public static String of(String url, String caption) {
    String material = (url == null ? "" : url) + SEPARATOR + (caption == null ? "" : caption);
    return sha256Hex(material.getBytes(StandardCharsets.UTF_8)).substring(0, HEX_LENGTH);
  }

  /** The uid as a Spark column expression; evaluates to the same value as {@link #of}. */
  public static Column column(Column url, Column caption) {
    Column material = concat(coalesce(url, lit("")), lit(SEPARATOR), coalesce(caption, lit("")));
    return substring(sha2(material, 256), 1, HEX_LENGTH);
  }

  /** Lowercase hex SHA-256 of bytes (img2dataset's {@code sha256} column uses the same form). */
  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }
}
