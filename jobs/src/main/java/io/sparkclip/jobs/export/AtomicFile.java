package io.sparkclip.jobs.export;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.IntConsumer;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One export file, written under a hidden temporary name {@code .<name>.tmp-<attempt>} beside its
 * final name and renamed when complete, so that a reader (or a re-run) never sees part of a file: a
 * task attempt that dies leaves only its temporary file, which the next run deletes. Counts and
 * hashes the bytes as they are written, so that the manifest's sha256 costs no second read.
 *
 * <p>Works on any Hadoop filesystem: on HDFS and local disks the rename is atomic; on S3A it is a
 * copy, and an object appears only once completely copied, which is as good for readers.
 */
final class AtomicFile implements AutoCloseable {
  /** What was written: the path relative to the export root, its length and SHA-256 (hex). */
  record Written(String path, long bytes, String sha256) implements Serializable {}

  /** Names of temporary files: {@code .<final name>.tmp-<task attempt>}. */
  static final String TMP_INFIX = ".tmp-";

  /**
   * Test seam: called with the unit index after a unit's files are written and before they are
   * renamed, on the executor. Local mode only (executors share the test's JVM); null in production.
   */
  static volatile IntConsumer beforeCommit;

  private final FileSystem fs;
  private final Path root;
  private final String relative;
  private final Path tmp;
  private final MessageDigest digest;
  private final Counting counting;
  private final OutputStream out;
  private boolean closed;

  private AtomicFile(FileSystem fs, Path root, String relative, long attempt) throws IOException {
    this.fs = fs;
    this.root = root;
    this.relative = relative;
    Path target = new Path(root, relative);
    this.tmp = new Path(target.getParent(), "." + target.getName() + TMP_INFIX + attempt);
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    this.counting = new Counting(new DigestOutputStream(fs.create(tmp, true), digest));
    this.out = new BufferedOutputStream(counting, 1 << 16);
  }

  /** Starts {@code relative} (e.g. {@code img_emb/img_emb_0.npy}) under {@code root}. */
  static AtomicFile create(FileSystem fs, Path root, String relative, long attempt)
      throws IOException {
    return new AtomicFile(fs, root, relative, attempt);
  }

  OutputStream stream() {
    return out;
  }

  /** Closes the temporary file (no rename yet); returns what was written. */
  Written finish() throws IOException {
    if (!closed) {
      out.close();
      closed = true;
    }
    return new Written(relative, counting.count, HexFormat.of().formatHex(digest.digest()));
  }

  /**
   * Renames the finished temporary file to its final name. A final file already there is the output
   * of a twin attempt of the same unit (speculation, or a task retried after its rename): the
   * export is deterministic, so it holds the same bytes; the length check guards that.
   */
  void commit(Written w) throws IOException {
    Path target = new Path(root, relative);
    if (fs.rename(tmp, target)) {
      return;
    }
    if (fs.exists(target) && fs.getFileStatus(target).getLen() == w.bytes()) {
      fs.delete(tmp, false);
      return;
    }
    throw new IOException("cannot rename " + tmp + " to " + target);
  }

  /** Deletes the temporary file if it was not renamed (best effort on failure paths). */
  @Override
  public void close() {
    try {
      if (!closed) {
        out.close();
        closed = true;
      }
    } catch (IOException ignored) {
      // the stream is broken anyway; the delete below is what matters
    }
    try {
      if (fs.exists(tmp)) {
        fs.delete(tmp, false);
      }
    } catch (IOException ignored) {
      // a leftover temporary file is deleted by the next run
    }
  }

  static boolean isTemporary(String name) {
    return name.startsWith(".") && name.contains(TMP_INFIX);
  }

  /** Counts bytes on their way to the digest and the filesystem. */
  private static final class Counting extends FilterOutputStream {
    long count;

    Counting(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
