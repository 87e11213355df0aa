package io.sparkclip.jobs.export;

import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.ResolvedLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The rows an export reads: a stage's data/ (or any Parquet pairs), prepared into pairs, with the
 * roles of its columns and a fingerprint of its files (a resumed export must read the same input).
 */
final class ExportInput {
  /** Score columns sparkclip's score stage writes; any other numeric {@code *_score} joins them. */
  static final List<String> SCORES =
      List.of(
          Columns.CLIP_SCORE,
          Columns.QUERY_SCORE,
          Columns.IMAGE_RANK,
          Columns.TEXT_RANK,
          Columns.GROUP_SIZE,
          Columns.GROUP_LOSS);

  private static final String SCORE_SUFFIX = "_score";

  final String data;
  final CurationInput in;
  final List<String> scores;
  final String fingerprint;

  private ExportInput(String data, CurationInput in, List<String> scores, String fingerprint) {
    this.data = data;
    this.in = in;
    this.scores = scores;
    this.fingerprint = fingerprint;
  }

  static ExportInput read(SparkSession spark, String input, ColumnMapping mapping) {
    String data = Paths.resolveInput(spark, input);
    Dataset<Row> df = Paths.readParquet(spark, data);
    // embed --precision fp16 stores embeddings as binary columns, which layout detection would
    // take for a second, unnamed image column: detect on the schema without them.
    Set<String> embeddings = Set.of(Columns.IMAGE_EMBEDDING, Columns.TEXT_EMBEDDING);
    StructType schema =
        new StructType(
            Arrays.stream(df.schema().fields())
                .filter(f -> !(embeddings.contains(f.name()) && f.dataType() instanceof BinaryType))
                .toArray(StructField[]::new));
    ResolvedLayout layout = LayoutDetector.detect(schema, mapping, data);
    CurationInput in = new CurationInput(Pairs.prepare(df, layout), layout);
    return new ExportInput(data, in, scores(in.pairs().schema(), layout), fingerprint(spark, data));
  }

  ResolvedLayout layout() {
    return in.layout();
  }

  Dataset<Row> pairs() {
    return in.pairs();
  }

  boolean has(String column) {
    return Arrays.asList(pairs().schema().fieldNames()).contains(column);
  }

  DataType type(String column) {
    return pairs().schema().apply(column).dataType();
  }

  /** The caption, url and query columns under their export names; url and query if present. */
  List<Column> metadataColumns() {
    List<Column> cols = new ArrayList<>();
    cols.add(ResolvedLayout.column(Columns.UID).as(Columns.UID));
    cols.add(layout().caption().as(Columns.CAPTION));
    url().ifPresent(u -> cols.add(u.as(Columns.URL)));
    layout().query().ifPresent(q -> cols.add(q.as(Columns.QUERY)));
    for (String s : scores) {
      cols.add(ResolvedLayout.column(s).as(s));
    }
    return cols;
  }

  Optional<Column> url() {
    return layout().url();
  }

  boolean hasUrl() {
    return layout().url().isPresent();
  }

  boolean hasQuery() {
    return layout().query().isPresent();
  }

  /** Numeric score columns in input order: the known ones and any other {@code *_score}. */
  private static List<String> scores(StructType schema, ResolvedLayout layout) {
    List<String> out = new ArrayList<>();
    for (StructField f : schema.fields()) {
      boolean numeric =
          f.dataType() instanceof NumericType && !(f.dataType() instanceof BooleanType);
      boolean named = SCORES.contains(f.name()) || f.name().endsWith(SCORE_SUFFIX);
      boolean role =
          f.name().equals(layout.captionCol())
              || layout.urlCol().map(f.name()::equals).orElse(false)
              || layout.queryCol().map(f.name()::equals).orElse(false);
      if (numeric && named && !role) {
        out.add(f.name());
      }
    }
    return out;
  }

  /** SHA-256 over the input's Parquet files (relative path and length), in name order. */
  static String fingerprint(SparkSession spark, String data) {
    FileSystem fs = Paths.fs(spark, data);
    try {
      Path root = fs.makeQualified(new Path(data));
      String base = root.toUri().getPath();
      List<String> lines = new ArrayList<>();
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      while (it.hasNext()) {
        LocatedFileStatus s = it.next();
        if (s.getPath().getName().endsWith(".parquet")) {
          String rel = s.getPath().toUri().getPath().substring(base.length());
          lines.add(rel + "\t" + s.getLen());
        }
      }
      lines.sort(null);
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (String l : lines) {
        d.update((l + "\n").getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (IOException e) {
      throw Errors.inputPathUnreadable(data, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
