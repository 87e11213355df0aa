package io.sparkclip.jobs.download;

import io.sparkclip.jobs.stage.ShardCommitLog;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * download's input: URL + caption metadata files (Parquet, CSV or TSV, gzip allowed), each one
 * shard, and the roles of their columns.
 */
final class MetadataInput {
  private MetadataInput() {}

  /** URL columns recognised without {@code --url-col}, in order of preference. */
  static final List<String> URL_COLUMNS = List.of(Columns.URL, Columns.LAION_URL, "image_url");

  /** Caption columns recognised without {@code --caption-col}, in order of preference. */
  static final List<String> CAPTION_COLUMNS =
      List.of(Columns.CAPTION, Columns.LAION_TEXT, Columns.TEXT, "alt_text", "caption_text");

  private static final List<String> SUFFIXES =
      List.of(".parquet", ".csv", ".tsv", ".csv.gz", ".tsv.gz");

  /** The metadata files under {@code root} (or root itself), by shard name. */
  static Map<String, Path> list(FileSystem fs, Path root) {
    Map<String, Path> out = new TreeMap<>();
    try {
      if (!fs.exists(root)) {
        throw Errors.embedInputNotFound(root.toString());
      }
      FileStatus st = fs.getFileStatus(root);
      if (st.isFile()) {
        if (metadataFile(root.getName())) {
          out.put(ShardCommitLog.shardName(stripSuffix(root.getName())), root);
        }
      } else {
        String prefix = fs.makeQualified(root).toUri().getPath();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
          LocatedFileStatus f = it.next();
          String p = f.getPath().toUri().getPath();
          String rel = p.substring(Math.min(p.length(), prefix.length())).replaceFirst("^/", "");
          if (hidden(rel) || !metadataFile(f.getPath().getName())) {
            continue;
          }
          String name = ShardCommitLog.shardName(stripSuffix(rel));
          Path clash = out.put(name, f.getPath());
          if (clash != null) {
            throw Errors.shardNameClash(clash.toString(), f.getPath().toString(), name);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (out.isEmpty()) {
      throw Errors.noMetadataFiles(root.toString());
    }
    return out;
  }

  private static boolean hidden(String rel) {
    for (String part : rel.split("/")) {
      if (part.startsWith("_") || part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  static boolean metadataFile(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return SUFFIXES.stream().anyMatch(n::endsWith);
  }

  private static String stripSuffix(String rel) {
    String n = rel.toLowerCase(Locale.ROOT);
    for (String s : List.of(".csv.gz", ".tsv.gz", ".parquet", ".csv", ".tsv")) {
      if (n.endsWith(s)) {
        return rel.substring(0, rel.length() - s.length());
      }
    }
    return rel;
  }

  /** One metadata file as read: Parquet as is, CSV/TSV with a header row, every column a string. */
  static Dataset<Row> read(SparkSession spark, Path file) {
    String n = file.getName().toLowerCase(Locale.ROOT);
    if (n.endsWith(".parquet")) {
      return spark.read().parquet(file.toString());
    }
    boolean tsv = n.endsWith(".tsv") || n.endsWith(".tsv.gz");
    return spark
        .read()
        .option("header", "true")
        .option("sep", tsv ? "\t" : ",")
        .option("quote", tsv ? "\u0000" : "\"")
        .option("escape", "\"")
        .option("multiLine", "false")
        .option("mode", "PERMISSIVE")
        .csv(file.toString());
  }

  /** The url and caption columns of a metadata schema (caption optional). */
  record Roles(String url, String caption) {}

  static Roles roles(StructType schema, ColumnMapping mapping, String source) {
    String url = pick(schema, "--url-col", mapping.urlCol(), URL_COLUMNS, source);
    if (url == null) {
      throw Errors.noUrlColumn(schema, source);
    }
    String caption = pick(schema, "--caption-col", mapping.captionCol(), CAPTION_COLUMNS, source);
    return new Roles(url, caption);
  }

  private static String pick(
      StructType schema,
      String option,
      Optional<String> mapped,
      List<String> known,
      String source) {
    if (mapped.isPresent()) {
      String m = mapped.get();
      for (StructField f : schema.fields()) {
        if (f.name().equals(m)) {
          return m;
        }
      }
      throw Errors.missingMapped(option, m, schema, source);
    }
    for (String k : known) {
      for (StructField f : schema.fields()) {
        if (f.name().equals(k) && f.dataType().equals(DataTypes.StringType)) {
          return k;
        }
      }
    }
    return null;
  }
}
