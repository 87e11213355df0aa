package io.sparkclip.jobs.download;

import static org.apache.spark.sql.functions.col;

import io.sparkclip.schemas.Columns;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The shape of download's rows. A task's input row is the <em>base</em>: {@code url}, {@code
 * caption}, the metadata's other columns passed through, and {@code key}; its output row is the
 * base followed by img2dataset's download columns and {@code download_reason}.
 */
final class DownloadRows {
  private DownloadRows() {}

  /** A stable code of why the row failed (null on success): what the summary counts. */
  static final String REASON = "download_reason";

  /** The columns download adds after the base, in img2dataset's order. */
  static final StructType ADDED =
      new StructType()
          .add(Columns.STATUS, DataTypes.StringType, false)
          .add(Columns.ERROR_MESSAGE, DataTypes.StringType, true)
          .add(Columns.WIDTH, DataTypes.IntegerType, true)
          .add(Columns.HEIGHT, DataTypes.IntegerType, true)
          .add(Columns.ORIGINAL_WIDTH, DataTypes.IntegerType, true)
          .add(Columns.ORIGINAL_HEIGHT, DataTypes.IntegerType, true)
          .add(Columns.EXIF, DataTypes.StringType, true)
          .add(Columns.SHA256, DataTypes.StringType, true)
          .add(Columns.JPG, DataTypes.BinaryType, true)
          .add(REASON, DataTypes.StringType, true);

  /** Names download writes: a metadata column of one of these names is kept as input_NAME. */
  static final Set<String> WRITTEN;

  static {
    java.util.HashSet<String> w = new java.util.HashSet<>(List.of(ADDED.fieldNames()));
    w.add(Columns.URL);
    w.add(Columns.CAPTION);
    w.add(Columns.KEY);
    WRITTEN = Set.copyOf(w);
  }

  static final String INPUT_PREFIX = "input_";

  /**
   * The base of a metadata frame: url and caption under img2dataset's names, the other columns
   * (renamed input_NAME where they clash with a written one), without the key.
   */
  static Dataset<Row> base(Dataset<Row> metadata, MetadataInput.Roles roles) {
    List<Column> cols = new ArrayList<>();
    cols.add(col(q(roles.url())).cast("string").as(Columns.URL));
    cols.add(
        roles.caption() == null
            ? org.apache.spark.sql.functions.lit(null).cast("string").as(Columns.CAPTION)
            : col(q(roles.caption())).cast("string").as(Columns.CAPTION));
    for (StructField f : metadata.schema().fields()) {
      String n = f.name();
      if (n.equals(roles.url()) || n.equals(roles.caption())) {
        continue;
      }
      cols.add(col(q(n)).as(WRITTEN.contains(n) ? INPUT_PREFIX + n : n));
    }
    return metadata.select(cols.toArray(Column[]::new));
  }

  /** The base columns of download's own output rows (for --retry-failed). */
  static Dataset<Row> baseOfOutput(Dataset<Row> output) {
    List<Column> cols = new ArrayList<>();
    for (String n : output.schema().fieldNames()) {
      if (!List.of(ADDED.fieldNames()).contains(n)) {
        cols.add(col(q(n)));
      }
    }
    return output.select(cols.toArray(Column[]::new));
  }

  /** Output schema of a base schema (which ends with the key). */
  static StructType output(StructType base) {
    StructType s = base;
    for (StructField f : ADDED.fields()) {
      s = s.add(f);
    }
    return s;
  }

  private static String q(String name) {
    return "`" + name.replace("`", "``") + "`";
  }

  /**
   * img2dataset's key: the shard number and the row's index in it, zero-padded to 5 + max(4, digits
   * of the shard's rows) digits ({@code 000030042}: shard 3, row 42).
   */
  static String key(int shard, long row, int rowDigits) {
    StringBuilder s = new StringBuilder();
    String sh = Integer.toString(shard);
    s.append("0".repeat(Math.max(0, 5 - sh.length()))).append(sh);
    String r = Long.toString(row);
    s.append("0".repeat(Math.max(0, rowDigits - r.length()))).append(r);
    return s.toString();
  }

  /** Digits of a shard's row index: img2dataset's ceil(log10(rows per shard)), at least 4. */
  static int rowDigits(long rows) {
    int d = 1;
    for (long p = 10; p < rows; p *= 10) {
      d++;
    }
    return Math.max(4, d);
  }
}
