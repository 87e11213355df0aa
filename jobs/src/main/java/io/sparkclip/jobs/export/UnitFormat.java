package io.sparkclip.jobs.export;

import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * How one format writes a unit of consecutive rows (a shard or a part), on an executor. Static and
 * serializable: it captures only options and column names, never the driver's objects.
 */
interface UnitFormat extends Serializable {
  /** The unit's final files, relative to the export root (deleted before a unit is redone). */
  List<String> files(int unit, int units);

  /**
   * Writes the unit's files through {@link UnitContext#open}; {@code rows} are (global ordinal,
   * row) in ordinal order, exactly {@link UnitContext#rows()} of them.
   */
  void write(UnitContext ctx, Iterator<Tuple2<Long, Row>> rows) throws IOException;
}
