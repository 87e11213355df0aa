package io.sparkclip.jobs.stage;

import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.Schemas;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarUtils;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Reads WebDataset tar shards (img2dataset {@code output_format=webdataset}) on the executors,
 * streaming each member through Apache Commons Compress: nothing is unpacked to disk, and a sample
 * is in memory only while its row is built.
 *
 * <p>A sample is the run of consecutive members that share a key: the member name up to the first
 * dot of its base name ({@code 00000/000000012.jpg} and {@code 00000/000000012.json} are sample
 * {@code 00000/000000012}); its extension is the rest. The image is the member whose last extension
 * part is jpg, jpeg, png or webp; the caption {@code txt}, the metadata {@code json} (img2dataset's
 * url, caption, key, status, error_message, sizes, exif, sha256 and extra columns, kept whole in
 * {@code json}). Every sample becomes one row of {@link Schemas#WEBDATASET}; one that cannot be
 * used as read carries a {@code sample_error}: a tar truncated inside it, no image member or two, a
 * caption that is not UTF-8, a json that is not JSON.
 *
 * <p>Splits: a shard larger than the split size is read by several tasks, one per byte range. A
 * task finds its first member by scanning 512-byte records for a valid header (checksum and magic,
 * and the header after it valid too), reads every sample whose first member starts in its range,
 * and reads on past its end to finish the last one. It skips leading members that continue a sample
 * of the previous range: their key is that of the member before its first header, found by scanning
 * back for the header whose data ends there. So every sample is read by exactly one task.
 */
public final class WebDatasetReader {
  /** Image member extensions (the last part of the member's extension, lower case). */
  public static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "webp");

  public static final String TAR_SUFFIX = ".tar";

  private static final int RECORD = 512;

  /** Farthest a task scans back for the member before its first header (a member's size). */
  private static final long MAX_LOOK_BACK = 256L << 20;

  private WebDatasetReader() {}

  /** One task's byte range of one shard. */
  record Split(String path, long start, long end, long length) implements Serializable {}

  /** The samples of {@code tars}, one row each, read by tasks of at most {@code splitBytes}. */
  public static Dataset<Row> read(SparkSession spark, List<FileStatus> tars, long splitBytes) {
    List<Split> splits = new ArrayList<>();
    for (FileStatus f : tars) {
      long len = f.getLen();
      long n = Math.max(1, (len + splitBytes - 1) / splitBytes);
      for (long i = 0; i < n; i++) {
        splits.add(
            new Split(
                f.getPath().toString(), i * splitBytes, Math.min(len, (i + 1) * splitBytes), len));
      }
    }
    Broadcast<SerializableConfiguration> conf =
        SerializableConfiguration.broadcast(spark.sparkContext(), Paths.hadoopConf(spark));
    JavaRDD<Row> rows =
        JavaSparkContext.fromSparkContext(spark.sparkContext())
            // One split per partition: each task streams one byte range.
            .parallelize(splits, Math.max(1, splits.size()))
            .flatMap(split -> samples(split, conf.value().value()));
    return spark.createDataFrame(rows, Schemas.WEBDATASET);
  }

  /**
   * Fails fast, before any Spark work, when the first samples of {@code tar} have no image member
   * (a tar of something else); later samples without an image become rows with a sample error.
   */
  public static void checkHasImages(FileSystem fs, Path tar, int samples) {
    List<String> seen = new ArrayList<>();
    try (FSDataInputStream in = fs.open(tar);
        TarArchiveInputStream t = new TarArchiveInputStream(in)) {
      TarArchiveEntry e;
      String lastKey = null;
      int keys = 0;
      while ((e = t.getNextEntry()) != null) {
        if (!e.isFile()) {
          continue;
        }
        String[] ke = keyAndExtension(e.getName());
        if (isImage(ke[1])) {
          return;
        }
        if (!ke[0].equals(lastKey)) {
          lastKey = ke[0];
          if (++keys > samples) {
            break;
          }
        }
        if (seen.size() < 6) {
          seen.add(e.getName());
        }
      }
    } catch (IOException e) {
      // A damaged tar is reported per sample by the read; only one without any readable member
      // (not a tar at all) or without images fails here.
      if (!seen.isEmpty()) {
        return;
      }
      throw Errors.tarWithoutImages(tar.toString(), "none readable (" + e.getMessage() + ")");
    }
    throw Errors.tarWithoutImages(
        tar.toString(), seen.isEmpty() ? "none" : String.join(", ", seen));
  }

  /** Key (member name up to the first dot of its base name) and extension (the rest). */
  static String[] keyAndExtension(String name) {
    int slash = name.lastIndexOf('/');
    int dot = name.indexOf('.', slash + 1);
    if (dot < 0) {
      return new String[] {name, ""};
    }
    return new String[] {name.substring(0, dot), name.substring(dot + 1)};
  }

  static boolean isImage(String extension) {
    return IMAGE_EXTENSIONS.contains(lastPart(extension));
  }

  static String lastPart(String extension) {
    return extension.substring(extension.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
  }

  /** The rows of one split, lazily. */
  static Iterator<Row> samples(Split split, Configuration conf) throws IOException {
    Path path = new Path(split.path());
    FileSystem fs = path.getFileSystem(conf);
    FSDataInputStream raw = fs.open(path);
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      tc.addTaskCompletionListener((TaskCompletionListener) ctx -> closeQuietly(raw));
    }
    long first = split.start() == 0 ? 0 : resync(raw, split.start(), split.length());
    if (first < 0 || first >= split.end()) {
      closeQuietly(raw);
      return List.<Row>of().iterator();
    }
    String skipKey = split.start() == 0 ? null : keyBefore(raw, first);
    raw.seek(first);
    return new SampleIterator(split, raw, first, skipKey);
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // Closing after the task: nothing to recover.
    }
  }

  /**
   * The offset of the first member header at or after {@code start} (record aligned), or -1. A
   * record is a header when its checksum and magic hold and the record where its data ends is a
   * header too, the end-of-archive zeros or the end of the file; image data rarely holds a valid
   * header, never two chained.
   */
  static long resync(FSDataInputStream in, long start, long length) throws IOException {
    long pos = (start + RECORD - 1) / RECORD * RECORD;
    byte[] rec = new byte[RECORD];
    byte[] buf = new byte[64 * RECORD];
    while (pos + RECORD <= length) {
      int n = (int) Math.min(buf.length, (length - pos) / RECORD * RECORD);
      in.readFully(pos, buf, 0, n);
      for (int o = 0; o < n; o += RECORD) {
        System.arraycopy(buf, o, rec, 0, RECORD);
        long size = headerSize(rec);
        if (size >= 0 && chained(in, pos + o, size, length)) {
          return pos + o;
        }
      }
      pos += n;
    }
    return -1;
  }

  private static boolean chained(FSDataInputStream in, long header, long size, long length)
      throws IOException {
    long next = header + RECORD + (size + RECORD - 1) / RECORD * RECORD;
    if (next + RECORD > length) {
      return true; // the last member, whole or cut short (a truncated shard still has its header)
    }
    byte[] rec = new byte[RECORD];
    in.readFully(next, rec, 0, RECORD);
    return allZero(rec) || headerSize(rec) >= 0;
  }

  /** The data size a record declares if it is a valid tar header, else -1. */
  static long headerSize(byte[] rec) {
    try {
      if (allZero(rec) || !TarUtils.verifyCheckSum(rec)) {
        return -1;
      }
    } catch (IllegalArgumentException notOctal) {
      return -1; // image bytes, not a header
    }
    // ustar magic ("ustar\0" POSIX, "ustar " GNU): the writers WebDataset shards come from.
    if (rec[257] != 'u'
        || rec[258] != 's'
        || rec[259] != 't'
        || rec[260] != 'a'
        || rec[261] != 'r') {
      return -1;
    }
    try {
      long size = TarUtils.parseOctalOrBinary(rec, 124, 12);
      return size < 0 ? -1 : size;
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }

  private static boolean allZero(byte[] rec) {
    for (byte b : rec) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * The key of the member whose data ends at {@code header} (the member before it), or null: the
   * nearest record before it that is a header declaring a size that ends exactly there. Keys are
   * read from the ustar name and prefix fields, not from PAX or GNU long-name records: a member
   * name longer than 100 characters right at a range boundary may be read as two samples.
   */
  static String keyBefore(FSDataInputStream in, long header) throws IOException {
    byte[] rec = new byte[RECORD];
    for (long p = header - RECORD; p >= 0 && header - p <= MAX_LOOK_BACK; p -= RECORD) {
      in.readFully(p, rec, 0, RECORD);
      long size = headerSize(rec);
      if (size >= 0 && p + RECORD + (size + RECORD - 1) / RECORD * RECORD == header) {
        char type = (char) rec[156];
        if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
          // An extended header (PAX, GNU long name) belongs to the member at header, so that member
          // began before this range: its sample is the previous range's.
          in.readFully(header, rec, 0, RECORD);
        }
        return keyAndExtension(ustarName(rec))[0];
      }
    }
    return null;
  }

  private static String ustarName(byte[] rec) {
    String name = TarUtils.parseName(rec, 0, 100);
    String prefix = TarUtils.parseName(rec, 345, 155);
    return prefix.isEmpty() ? name : prefix + "/" + name;
  }

  /** Counts the bytes consumed from the shard, so that each member's start offset is known. */
  private static final class Counting extends FilterInputStream {
    long pos;

    Counting(InputStream in, long pos) {
      super(in);
      this.pos = pos;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        pos++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        pos += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long s = super.skip(n);
      pos += s;
      return s;
    }
  }

  /** One sample's members as read. */
  private static final class Sample {
    final String key;
    final long offset;
    final Map<String, byte[]> members = new LinkedHashMap<>();
    final List<String> errors = new ArrayList<>();

    Sample(String key, long offset) {
      this.key = key;
      this.offset = offset;
    }
  }

  private static final class SampleIterator implements Iterator<Row> {
    private final Split split;
    private final FSDataInputStream raw;
    private Counting counting;
    private TarArchiveInputStream tar;
    private final ArrayDeque<Row> ready = new ArrayDeque<>();
    private String skipKey;
    private Sample current;
    private boolean done;

    /** Where the next member's first header starts. */
    private long nextStart;

    SampleIterator(Split split, FSDataInputStream raw, long first, String skipKey) {
      this.split = split;
      this.raw = raw;
      this.skipKey = skipKey;
      startAt(first);
    }

    private void startAt(long offset) {
      this.counting = new Counting(raw, offset);
      this.tar = new TarArchiveInputStream(counting);
      this.nextStart = offset;
    }

    @Override
    public boolean hasNext() {
      while (ready.isEmpty() && !done) {
        step();
      }
      return !ready.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return ready.poll();
    }

    /** Reads one member and places it; a sample is ready when a member of another key follows. */
    private void step() {
      long offset = nextStart;
      TarArchiveEntry e;
      try {
        e = tar.getNextEntry();
      } catch (IOException ex) {
        if (current != null) {
          // Whether the damage cuts this sample short or the next one, this one was read so far.
          ready.add(row(current));
          current = null;
        }
        // Damage after the range's end is the next range's to report.
        if (offset >= split.end()) {
          end(null, offset);
          return;
        }
        Sample damage = new Sample("", offset);
        damage.errors.add(
            "the tar is damaged or truncated at byte " + offset + ": " + ex.getMessage());
        ready.add(row(damage));
        // Read on from the next sound header (a damaged record mid-shard loses only its sample).
        try {
          long r = resync(raw, offset + RECORD, split.length());
          if (r < 0 || r >= split.end()) {
            done = true;
            return;
          }
          raw.seek(r);
          startAt(r);
        } catch (IOException again) {
          done = true;
        }
        return;
      }
      if (e == null) {
        end(null, offset);
        return;
      }
      nextStart = counting.pos + (e.getSize() + RECORD - 1) / RECORD * RECORD;
      if (!e.isFile()) {
        return;
      }
      String[] ke = keyAndExtension(e.getName());
      boolean same = current != null && ke[0].equals(current.key);
      if (offset >= split.end() && !same) {
        end(null, offset); // the next range's sample
        return;
      }
      if (skipKey != null) {
        if (ke[0].equals(skipKey)) {
          return; // the rest of a sample that the previous range reads
        }
        skipKey = null;
      }
      if (current != null && !same) {
        ready.add(row(current));
        current = null;
      }
      if (current == null) {
        current = new Sample(ke[0], offset);
      }
      byte[] data;
      try {
        data = tar.readAllBytes();
      } catch (IOException ex) {
        current.members.putIfAbsent(ke[1], new byte[0]);
        end("the tar is truncated inside member " + e.getName() + ": " + ex.getMessage(), offset);
        return;
      }
      if (current.members.containsKey(ke[1])) {
        current.errors.add("member " + e.getName() + " appears twice");
      } else {
        current.members.put(ke[1], data);
      }
    }

    /**
     * The end of the range, the archive or the readable part of it. Damage where no sample has
     * begun still yields a row, so that a damaged shard is never silently shorter.
     */
    private void end(String error, long offset) {
      done = true;
      if (current == null && error != null) {
        current = new Sample("", offset);
      }
      if (current != null) {
        if (error != null) {
          current.errors.add(error);
        }
        ready.add(row(current));
        current = null;
      }
    }

    private Row row(Sample s) {
      return SampleRows.row(s.key, s.offset, s.members, s.errors, split.path());
    }
  }
}
