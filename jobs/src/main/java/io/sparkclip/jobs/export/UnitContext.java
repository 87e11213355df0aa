package io.sparkclip.jobs.export;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Where and what one task writes: a unit's index, its first ordinal and its row count. */
final class UnitContext {
  private final FileSystem fs;
  private final Path root;
  private final long attempt;
  private final int unit;
  private final int units;
  private final long firstOrdinal;
  private final long rows;
  private final List<AtomicFile> opened = new ArrayList<>();

  UnitContext(
      FileSystem fs, Path root, long attempt, int unit, int units, long firstOrdinal, long rows) {
    this.fs = fs;
    this.root = root;
    this.attempt = attempt;
    this.unit = unit;
    this.units = units;
    this.firstOrdinal = firstOrdinal;
    this.rows = rows;
  }

  int unit() {
    return unit;
  }

  int units() {
    return units;
  }

  long firstOrdinal() {
    return firstOrdinal;
  }

  long rows() {
    return rows;
  }

  FileSystem fs() {
    return fs;
  }

  Path root() {
    return root;
  }

  /** A new file of this unit, committed with the others once the format has written them all. */
  AtomicFile open(String relative) throws IOException {
    AtomicFile f = AtomicFile.create(fs, root, relative, attempt);
    opened.add(f);
    return f;
  }

  List<AtomicFile> opened() {
    return opened;
  }

  long attempt() {
    return attempt;
  }
}
