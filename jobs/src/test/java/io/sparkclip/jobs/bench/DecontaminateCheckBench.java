package io.sparkclip.jobs.bench;

import static org.apache.spark.sql.functions.col;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * decontaminate's decisions against the generator's ground truth (not a test): of the injected eval
 * copies ({@code eval_copy}), how many were rejected as eval_overlap with the eval item they copy
 * as related_uid (recall), and how many eval_overlap rejects are such a right match (precision).
 * Run by {@code bench/decontaminate.sh}.
 *
 * <pre>
 * DecontaminateCheckBench RAW DECONTAMINATE_OUT
 * </pre>
 *
 * Prints one line: {@code check: injected I, flagged F, right R, recall X, precision Y}.
 */
public final class DecontaminateCheckBench {
  private DecontaminateCheckBench() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: DecontaminateCheckBench RAW DECONTAMINATE_OUT");
      System.exit(2);
    }
    try (Sparks sparks = Sparks.open("sparkclip decontaminate check", "local[*]", Map.of())) {
      SparkSession spark = sparks.session();
      Dataset<Row> truth =
          spark
              .read()
              .parquet(args[0] + "/" + StageFiles.GROUND_TRUTH_DIR)
              .filter(col(Columns.FAULT).equalTo(FaultKind.EVAL_COPY.label()))
              .select(col(Columns.UID).as("t_uid"), col(Columns.ORIGINAL_UID).as("t_eval"));
      Dataset<Row> flagged =
          spark
              .read()
              .parquet(CurationOutput.rejects(args[1]))
              .filter(col(Columns.REASON).equalTo(RejectReason.EVAL_OVERLAP));
      long injected = truth.count();
      long n = flagged.count();
      long right =
          flagged
              .join(
                  truth,
                  col(Columns.UID)
                      .equalTo(col("t_uid"))
                      .and(col(Columns.RELATED_UID).equalTo(col("t_eval"))))
              .count();
      System.out.printf(
          "check: injected %d, flagged %d, right %d, recall %.4f, precision %.4f%n",
          injected, n, right, (double) right / injected, n == 0 ? 0.0 : (double) right / n);
    }
  }
}
