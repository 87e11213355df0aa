package io.sparkclip.jobs.stage;

import io.sparkclip.schemas.Schemas;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Reads img2dataset's {@code output_format=files} folders on the executors: each shard folder
 * ({@code 00000/}) holds {@code {key}.jpg} (or png, webp), {@code {key}.txt} and {@code {key}.json}
 * per sample. A sample is the files sharing a key (the name up to the first dot), one row of {@link
 * Schemas#WEBDATASET} as a WebDataset sample would be, its offset the key's ordinal in the folder.
 * The driver counts each folder's keys to cut it into tasks of at most {@link #SAMPLES_PER_TASK};
 * each task lists its folder again and reads its range of keys.
 */
public final class FilesLayoutReader {
  /** Folders per task above this many samples are split in ranges of keys. */
  static final int SAMPLES_PER_TASK = 10_000;

  private FilesLayoutReader() {}

  /** One task's part of one folder: keys {@code [from, to)} in sorted order. */
  record Part(String dir, int from, int to) implements java.io.Serializable {}

  public static Dataset<Row> read(SparkSession spark, List<FileStatus> dirs) {
    List<Part> parts = new ArrayList<>();
    FileSystem fs = dirs.isEmpty() ? null : Paths.fs(spark, dirs.get(0).getPath().toString());
    for (FileStatus d : dirs) {
      int keys = keys(list(fs, d.getPath())).size();
      for (int from = 0; from < Math.max(1, keys); from += SAMPLES_PER_TASK) {
        parts.add(new Part(d.getPath().toString(), from, Math.min(keys, from + SAMPLES_PER_TASK)));
      }
    }
    Broadcast<SerializableConfiguration> conf =
        SerializableConfiguration.broadcast(spark.sparkContext(), Paths.hadoopConf(spark));
    JavaRDD<Row> rows =
        JavaSparkContext.fromSparkContext(spark.sparkContext())
            .parallelize(parts, Math.max(1, parts.size()))
            .flatMap(p -> samples(p, conf.value().value()));
    return spark.createDataFrame(rows, Schemas.WEBDATASET);
  }

  private static List<FileStatus> list(FileSystem fs, Path dir) {
    try {
      List<FileStatus> out = new ArrayList<>();
      for (FileStatus f : fs.listStatus(dir)) {
        String n = f.getPath().getName();
        if (f.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
          out.add(f);
        }
      }
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Files by sample key, keys sorted, each key's files by name. */
  private static TreeMap<String, List<FileStatus>> keys(List<FileStatus> files) {
    TreeMap<String, List<FileStatus>> out = new TreeMap<>();
    for (FileStatus f : files) {
      String key = WebDatasetReader.keyAndExtension(f.getPath().getName())[0];
      out.computeIfAbsent(key, k -> new ArrayList<>()).add(f);
    }
    out.values().forEach(l -> l.sort((a, b) -> a.getPath().compareTo(b.getPath())));
    return out;
  }

  /** The rows of one part, lazily: one sample's files in memory at a time. */
  private static Iterator<Row> samples(Part part, Configuration conf) throws IOException {
    Path dir = new Path(part.dir());
    FileSystem fs = dir.getFileSystem(conf);
    List<Map.Entry<String, List<FileStatus>>> all = new ArrayList<>(keys(list(fs, dir)).entrySet());
    List<Map.Entry<String, List<FileStatus>>> keys =
        all.subList(Math.min(part.from(), all.size()), Math.min(part.to(), all.size()));
    Iterator<Map.Entry<String, List<FileStatus>>> it = keys.iterator();
    return new Iterator<>() {
      private int ordinal = part.from();

      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Row next() {
        Map.Entry<String, List<FileStatus>> e = it.next();
        Map<String, byte[]> members = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        for (FileStatus f : e.getValue()) {
          String ext = WebDatasetReader.keyAndExtension(f.getPath().getName())[1];
          try (InputStream in = fs.open(f.getPath())) {
            members.put(ext, in.readAllBytes());
          } catch (IOException ex) {
            errors.add("file " + f.getPath().getName() + " cannot be read: " + ex.getMessage());
          }
        }
        return SampleRows.row(
            dir.getName() + "/" + e.getKey(), ordinal++, members, errors, part.dir());
      }
    };
  }
}
