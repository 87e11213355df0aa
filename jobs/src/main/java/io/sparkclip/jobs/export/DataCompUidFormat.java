package io.sparkclip.jobs.export;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * A DataComp subset file: a .npy of the distinct uids, sorted, as a structured array of dtype
 * {@code [('f0', '<u8'), ('f1', '<u8')]}, each uid's high and low 64 bits, i.e. {@code
 * (int(uid[:16], 16), int(uid[16:32], 16))}. One unit holds all uids (DataComp reads one file); the
 * rows arrive sorted as lowercase hex, whose string order is the numeric order of the pairs, and
 * the writer checks that they strictly increase, so a planner that broke the order would fail the
 * export rather than write an unsorted subset.
 */
final class DataCompUidFormat implements UnitFormat {
  private static final long serialVersionUID = 1L;

  static final String FILE = "uids.npy";
  static final String UID = "_datacomp_uid";

  @Override
  public List<String> files(int unit, int units) {
    return List.of(FILE);
  }

  @Override
  public void write(UnitContext ctx, Iterator<Tuple2<Long, Row>> rows) throws IOException {
    OutputStream out = ctx.open(FILE).stream();
    out.write(Npy.header(Npy.UID_PAIR, ctx.rows()));
    byte[] scratch = new byte[16];
    String previous = null;
    while (rows.hasNext()) {
      String uid = rows.next()._2().getAs(UID);
      if (previous != null && previous.compareTo(uid) >= 0) {
        throw new IllegalStateException(
            "DataComp uids out of order: " + uid + " after " + previous);
      }
      Npy.writeUidPair(out, high(uid), low(uid), scratch);
      previous = uid;
    }
  }

  /** Bits 127..64 of a 32-hex-digit uid, as an unsigned 64-bit value in a long. */
  static long high(String uid) {
    return Long.parseUnsignedLong(uid.substring(0, 16), 16);
  }

  static long low(String uid) {
    return Long.parseUnsignedLong(uid.substring(16, 32), 16);
  }

  /** Writes the file of an empty subset, shape (0,), on the driver: no task has rows for it. */
  static Unit writeEmpty(ExportOutput out) throws IOException {
    try (AtomicFile f = AtomicFile.create(out.fs(), out.root(), FILE, 0)) {
      f.stream().write(Npy.header(Npy.UID_PAIR, 0));
      AtomicFile.Written w = f.finish();
      f.commit(w);
      return new Unit(0, 0, List.of(w));
    }
  }
}
