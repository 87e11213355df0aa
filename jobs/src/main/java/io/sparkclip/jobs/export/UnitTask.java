package io.sparkclip.jobs.export;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Row;
import org.apache.spark.util.SerializableConfiguration;
import scala.Tuple2;

/**
 * Executor side: one partition is one unit (partition i holds the rows of unit i, sorted by
 * ordinal). Writes the unit's files under temporary names, renames them, then writes the unit's
 * marker, and returns the unit. An empty partition is a unit a previous run completed.
 */
final class UnitTask implements Function2<Integer, Iterator<Tuple2<Long, Row>>, Iterator<Unit>> {
  private static final long serialVersionUID = 1L;

  private final UnitFormat format;
  private final String root;
  private final SerializableConfiguration conf;
  private final long rowsPerUnit;
  private final long total;
  private final int units;

  UnitTask(
      UnitFormat format,
      String root,
      SerializableConfiguration conf,
      long rowsPerUnit,
      long total,
      int units) {
    this.format = format;
    this.root = root;
    this.conf = conf;
    this.rowsPerUnit = rowsPerUnit;
    this.total = total;
    this.units = units;
  }

  @Override
  public Iterator<Unit> call(Integer unit, Iterator<Tuple2<Long, Row>> rows) throws IOException {
    if (!rows.hasNext()) {
      return Collections.emptyIterator();
    }
    long first = unit * rowsPerUnit;
    long count = Math.min(rowsPerUnit, total - first);
    Path base = new Path(root);
    FileSystem fs = base.getFileSystem(conf.value());
    TaskContext tc = TaskContext.get();
    long attempt = tc == null ? 0 : tc.taskAttemptId();
    UnitContext ctx = new UnitContext(fs, base, attempt, unit, units, first, count);
    try {
      format.write(ctx, new Checked(rows, first, count));
      List<AtomicFile.Written> written = new ArrayList<>();
      for (AtomicFile f : ctx.opened()) {
        written.add(f.finish());
      }
      if (AtomicFile.beforeCommit != null) {
        AtomicFile.beforeCommit.accept(unit);
      }
      for (int i = 0; i < written.size(); i++) {
        ctx.opened().get(i).commit(written.get(i));
      }
      Unit done = new Unit(unit, count, written);
      writeMarker(fs, base, attempt, done);
      return List.of(done).iterator();
    } finally {
      for (AtomicFile f : ctx.opened()) {
        f.close(); // deletes a temporary file that was not renamed
      }
    }
  }

  /** The marker comes last, written aside and renamed, so it never exists half-written. */
  private static void writeMarker(FileSystem fs, Path base, long attempt, Unit done)
      throws IOException {
    try (AtomicFile marker =
        AtomicFile.create(
            fs, base, ExportOutput.PROGRESS_DIR + "/" + markerName(done.index()), attempt)) {
      OutputStream o = marker.stream();
      o.write(ExportOutput.json(done.json()).getBytes(StandardCharsets.UTF_8));
      marker.commit(marker.finish());
    }
  }

  static String markerName(int unit) {
    return String.format("%06d.json", unit);
  }

  /**
   * The unit's rows, checked against the plan: consecutive ordinals from the unit's first, exactly
   * as many as the unit holds. A mismatch would mean a shuffle lost or doubled rows; failing the
   * task is better than a shard with a gap.
   */
  private static final class Checked implements Iterator<Tuple2<Long, Row>> {
    private final Iterator<Tuple2<Long, Row>> rows;
    private final long end;
    private long next;

    Checked(Iterator<Tuple2<Long, Row>> rows, long first, long count) {
      this.rows = rows;
      this.next = first;
      this.end = first + count;
    }

    @Override
    public boolean hasNext() {
      boolean more = rows.hasNext();
      if (!more && next != end) {
        throw new IllegalStateException("unit ends at ordinal " + next + ", expected " + end);
      }
      return more;
    }

    @Override
    public Tuple2<Long, Row> next() {
      Tuple2<Long, Row> t = rows.next();
      if (t._1() != next) {
        throw new IllegalStateException("ordinal " + t._1() + " where " + next + " belongs");
      }
      next++;
      return t;
    }
  }
}
