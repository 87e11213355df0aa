package io.sparkclip.jobs.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.ResolvedLayout;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Reads a curation job's input: any recognised storage layout ({@link InputFiles}) and column
 * layout, prepared into pairs.
 */
public record CurationInput(Dataset<Row> pairs, ResolvedLayout layout) {

  public static CurationInput read(SparkSession spark, String path, ColumnMapping mapping) {
    Dataset<Row> input = InputFiles.read(spark, path);
    ResolvedLayout layout = LayoutDetector.detect(input.schema(), mapping, path);
    return new CurationInput(Pairs.prepare(input, layout), layout);
  }

  /**
   * A labelled frame in which rows whose {@code pair_status} is not ok are rejected with their
   * status as the reason and its detail, so that unusable rows are accounted for, never lost.
   */
  public Dataset<Row> labelUnusable(String stage) {
    return CurationOutput.reject(
        CurationOutput.unlabelled(pairs),
        col(Columns.PAIR_STATUS).notEqual(lit(PairStatus.OK)),
        stage,
        col(Columns.PAIR_STATUS),
        col(Columns.PAIR_STATUS_DETAIL),
        lit(null));
  }
}
