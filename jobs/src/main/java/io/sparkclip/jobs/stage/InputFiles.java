package io.sparkclip.jobs.stage;

import io.sparkclip.schemas.Errors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.network.util.JavaUtils;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The storage layout of an input path and its data files: Parquet (img2dataset {@code
 * output_format=parquet}, Hugging Face, LAION metadata, a sparkclip stage's data/), WebDataset tar
 * shards (img2dataset {@code output_format=webdataset}, LAION and DataComp pools) or img2dataset's
 * {@code files} folders ({@code 00000/000000012.jpg} + {@code .txt} + {@code .json}). Each reads
 * into one frame, which the column layouts ({@link io.sparkclip.schemas.LayoutDetector}) then
 * resolve.
 *
 * <p>img2dataset writes {@code {shard}.parquet} (the shard's metadata, without images) and {@code
 * {shard}_stats.json} beside each {@code {shard}.tar}: those are recognised and not read as data.
 * Files and folders whose name starts with {@code _} or {@code .} are hidden (Spark's convention:
 * sparkclip's own summaries, ground truth and staging).
 */
public final class InputFiles {
  /** How many samples of the first shard must show an image before any work. */
  static final int PROBE_SAMPLES = 16;

  private InputFiles() {}

  /** Storage layouts. */
  public enum Format {
    PARQUET("parquet"),
    WEBDATASET("webdataset"),
    FILES("img2dataset files");

    private final String label;

    Format(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /**
   * The layout and the data files of an input path, sorted by path: Parquet files, tar shards, or
   * the folders of image files.
   */
  public record Listing(Format format, List<FileStatus> files) {}

  /** Lists {@code path}'s data files; fails on a missing path or a folder of mixed layouts. */
  public static Listing list(FileSystem fs, Path root) {
    try {
      if (!fs.exists(root)) {
        throw Errors.inputPathNotFound(root.toString());
      }
      FileStatus st = fs.getFileStatus(root);
      if (st.isFile()) {
        Format f =
            root.getName().endsWith(WebDatasetReader.TAR_SUFFIX)
                ? Format.WEBDATASET
                : Format.PARQUET;
        return new Listing(f, List.of(st));
      }
      List<FileStatus> tars = new ArrayList<>();
      List<FileStatus> parquets = new ArrayList<>();
      java.util.TreeMap<Path, FileStatus> imageDirs = new java.util.TreeMap<>();
      // A walk that never enters hidden folders (sparkclip's _eval_set/ or _ground_truth_scenes/
      // beside the data hold thousands of files), by listStatus: the local file system's
      // recursive listFiles loads each file's permissions, one forked process per file.
      java.util.ArrayDeque<FileStatus> walk = new java.util.ArrayDeque<>(List.of(st));
      while (!walk.isEmpty()) {
        FileStatus dir = walk.pop();
        for (FileStatus f : fs.listStatus(dir.getPath())) {
          String name = f.getPath().getName();
          if (hidden(name)) {
            continue;
          }
          if (f.isDirectory()) {
            walk.push(f);
          } else if (name.endsWith(WebDatasetReader.TAR_SUFFIX)) {
            tars.add(f);
          } else if (name.endsWith(".parquet")) {
            parquets.add(f);
          } else if (WebDatasetReader.isImage(WebDatasetReader.keyAndExtension(name)[1])) {
            imageDirs.putIfAbsent(f.getPath().getParent(), dir);
          }
        }
      }
      tars.sort((a, b) -> a.getPath().compareTo(b.getPath()));
      parquets.sort((a, b) -> a.getPath().compareTo(b.getPath()));
      if (tars.isEmpty() && imageDirs.isEmpty()) {
        return new Listing(Format.PARQUET, parquets);
      }
      if (!tars.isEmpty() && !imageDirs.isEmpty()) {
        throw Errors.mixedLayouts(
            root.toString(),
            "WebDataset shards (" + tars.get(0).getPath().getName() + ")",
            "image files (in " + imageDirs.firstKey().getName() + "/)");
      }
      // img2dataset's metadata beside each shard: {shard}.parquet next to {shard}.tar or {shard}/.
      Set<Path> stems = new HashSet<>();
      for (FileStatus t : tars) {
        stems.add(stem(t.getPath(), WebDatasetReader.TAR_SUFFIX));
      }
      stems.addAll(imageDirs.keySet());
      String what =
          tars.isEmpty()
              ? "img2dataset files folders (" + imageDirs.firstKey().getName() + "/)"
              : "WebDataset shards (" + tars.get(0).getPath().getName() + ")";
      for (FileStatus q : parquets) {
        if (!stems.contains(stem(q.getPath(), ".parquet"))) {
          throw Errors.mixedLayouts(
              root.toString(),
              what,
              "Parquet files that are not a shard's metadata (" + q.getPath().getName() + ")");
        }
      }
      if (tars.isEmpty()) {
        return new Listing(Format.FILES, new ArrayList<>(imageDirs.values()));
      }
      return new Listing(Format.WEBDATASET, tars);
    } catch (IOException e) {
      throw Errors.inputPathUnreadable(root.toString(), e);
    }
  }

  /**
   * Reads any recognised input into one frame: Parquet as it is, WebDataset shards as one row per
   * sample ({@link io.sparkclip.schemas.Schemas#WEBDATASET}), split by {@code
   * spark.sql.files.maxPartitionBytes} as Spark splits Parquet.
   */
  public static Dataset<Row> read(SparkSession spark, String path) {
    return read(spark, path, list(Paths.fs(spark, path), new Path(path)));
  }

  /** As {@link #read(SparkSession, String)}, for a path already listed. */
  public static Dataset<Row> read(SparkSession spark, String path, Listing l) {
    FileSystem fs = Paths.fs(spark, path);
    if (l.format() == Format.PARQUET) {
      return Paths.readParquet(spark, path);
    }
    if (l.format() == Format.FILES) {
      return FilesLayoutReader.read(spark, l.files());
    }
    WebDatasetReader.checkHasImages(fs, l.files().get(0).getPath(), PROBE_SAMPLES);
    long split =
        JavaUtils.byteStringAsBytes(spark.conf().get("spark.sql.files.maxPartitionBytes", "128m"));
    return WebDatasetReader.read(spark, l.files(), split);
  }

  private static Path stem(Path p, String suffix) {
    String n = p.getName();
    return new Path(p.getParent(), n.substring(0, n.length() - suffix.length()));
  }

  static boolean hidden(String rel) {
    for (String part : rel.split("/")) {
      if (part.startsWith("_") || part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }
}
