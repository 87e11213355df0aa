package io.sparkclip.jobs.export;

import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.PairFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Cuts rows into units of consecutive ordinals and has executors write them, without the rows ever
 * reaching the driver.
 *
 * <ol>
 *   <li>A global sort by a total order of the exported content (uid first) and {@code zipWithIndex}
 *       number the rows 0..n-1: the same input gives every row the same ordinal on any cluster and
 *       with any parallelism. Both jobs of zipWithIndex read the same shuffle output, so the
 *       partition counts and the numbering agree.
 *   <li>Rows of units a previous run completed are dropped; the rest are shuffled so that partition
 *       i holds exactly unit i's rows, sorted by ordinal.
 *   <li>One task per unit writes its files and marker ({@link UnitTask}); the driver collects one
 *       small {@link Unit} per unit.
 * </ol>
 */
final class UnitWrites {
  private static final Logger LOG = LoggerFactory.getLogger(UnitWrites.class);

  private UnitWrites() {}

  static int units(long total, long rowsPerUnit) {
    return (int) ((total + rowsPerUnit - 1) / rowsPerUnit);
  }

  /**
   * Writes the missing units of {@code rows} and returns every unit, the kept ones too, by index.
   *
   * @param what what the units are, for the Spark UI ("shards", "parts")
   */
  static List<Unit> write(
      SparkSession spark,
      ExportOutput out,
      Dataset<Row> rows,
      List<Column> order,
      long total,
      long rowsPerUnit,
      UnitFormat format,
      String what) {
    int units = units(total, rowsPerUnit);
    Map<Integer, Unit> all = new TreeMap<>();
    out.completed().forEach((i, u) -> all.put(i, u));
    Set<Integer> done = new HashSet<>(all.keySet());
    if (done.size() < units) {
      Sparks.describe(spark, "export", "sort and number rows");
      JavaPairRDD<Long, Row> numbered =
          rows.orderBy(order.toArray(Column[]::new))
              .toJavaRDD()
              .zipWithIndex()
              .mapToPair(new ByOrdinal());
      JavaPairRDD<Long, Row> todo =
          done.isEmpty() ? numbered : numbered.filter(new NotDone(done, rowsPerUnit));
      Sparks.describe(spark, "export", "write " + (units - done.size()) + " " + what);
      List<Unit> written =
          todo.repartitionAndSortWithinPartitions(
                  new UnitPartitioner(units, rowsPerUnit), new OrdinalOrder())
              .mapPartitionsWithIndex(
                  new UnitTask(
                      format,
                      out.root().toString(),
                      new SerializableConfiguration(Paths.hadoopConf(spark)),
                      rowsPerUnit,
                      total,
                      units),
                  false)
              .collect();
      for (Unit u : written) {
        all.put(u.index(), u);
      }
    }
    if (all.size() != units) {
      throw new IllegalStateException(
          "export planned " + units + " " + what + " but has " + all.size());
    }
    LOG.info("export: {} {} ({} kept from a previous run)", units, what, done.size());
    return new ArrayList<>(all.values());
  }

  /** (row, ordinal) to (ordinal, row). */
  static final class ByOrdinal implements PairFunction<Tuple2<Row, Long>, Long, Row> {
    private static final long serialVersionUID = 1L;

    @Override
    public Tuple2<Long, Row> call(Tuple2<Row, Long> t) {
      return new Tuple2<>(t._2(), t._1());
    }
  }

  /** Rows of units not yet complete. */
  static final class NotDone implements Function<Tuple2<Long, Row>, Boolean> {
    private static final long serialVersionUID = 1L;
    private final Set<Integer> done;
    private final long rowsPerUnit;

    NotDone(Set<Integer> done, long rowsPerUnit) {
      this.done = done;
      this.rowsPerUnit = rowsPerUnit;
    }

    @Override
    public Boolean call(Tuple2<Long, Row> t) {
      return !done.contains((int) (t._1() / rowsPerUnit));
    }
  }

  /** Ordinal k goes to partition k / rowsPerUnit: one partition per unit. */
  static final class UnitPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int units;
    private final long rowsPerUnit;

    UnitPartitioner(int units, long rowsPerUnit) {
      this.units = units;
      this.rowsPerUnit = rowsPerUnit;
    }

    @Override
    public int numPartitions() {
      return units;
    }

    @Override
    public int getPartition(Object key) {
      return (int) ((Long) key / rowsPerUnit);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof UnitPartitioner p && p.units == units && p.rowsPerUnit == rowsPerUnit;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(units * 31L + rowsPerUnit);
    }
  }

  static final class OrdinalOrder implements Comparator<Long>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(Long a, Long b) {
      return Long.compare(a, b);
    }
  }
}
