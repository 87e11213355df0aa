package io.sparkclip.schemas;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Builds every user-facing input error in one place: problem, cause, fix. */
public final class Errors {
  private Errors() {}

  static final String LAYOUTS_EXPECTED =
      "Layouts expected: img2dataset (url, caption, a binary image column jpg/png/webp, key,"
          + " status, …); Hugging Face datasets (image struct{bytes: binary, path: string} plus"
          + " text or caption); metadata-only (url plus caption, TEXT or text, no image bytes).";

  /** Lists the columns of a schema as {@code name (type)}, for error messages. */
  public static String describeColumns(StructType schema) {
    if (schema.fields().length == 0) {
      return "(no columns)";
    }
    return java.util.Arrays.stream(schema.fields())
        .map(Errors::describeField)
        .collect(Collectors.joining(", "));
  }

  private static String describeField(StructField f) {
    return f.name() + " (" + f.dataType().simpleString() + ")";
  }

  /** The input's schema does not fit any layout, or fits several. */
  public static SparkclipException badSchema(
      String problem, StructType schema, String fix, String source) {
    String reason =
        "Columns found in "
            + (source == null ? "the input" : source)
            + ": "
            + describeColumns(schema)
            + ". "
            + LAYOUTS_EXPECTED;
    return new SparkclipException(problem, reason, fix);
  }

  /** Several columns could play the same role. */
  public static SparkclipException ambiguous(
      String role, List<String> candidates, String option, StructType schema, String source) {
    return badSchema(
        "Ambiguous "
            + role
            + " column: the input has "
            + String.join(" and ", candidates)
            + ", and sparkclip cannot tell which one to use.",
        schema,
        "Name it explicitly, e.g. " + option + " " + candidates.get(0) + ".",
        source);
  }

  /** A mapped or detected column has the wrong type. */
  public static SparkclipException wrongType(
      String role, String column, String actual, String expected, String option, String source) {
    return new SparkclipException(
        "The " + role + " column '" + column + "' has type " + actual + ", not " + expected + ".",
        (source == null ? "The input" : source)
            + " stores "
            + role
            + " data in a type sparkclip cannot read as "
            + expected
            + ".",
        "Point "
            + option
            + " at a column of type "
            + expected
            + ", or convert the column before running sparkclip.");
  }

  /** A column named by an option does not exist. */
  public static SparkclipException missingMapped(
      String option, String column, StructType schema, String source) {
    return badSchema(
        "Column '" + column + "' given with " + option + " does not exist.",
        schema,
        "Use one of the column names listed above with " + option + ".",
        source);
  }
}
