package io.sparkclip.jobs.decontaminate;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code decontaminate} as a {@link Stage}. */
public final class DecontaminateStage implements Stage<DecontaminateJob.Options> {
  @Override
  public String name() {
    return Stages.DECONTAMINATE;
  }

  @Override
  public DecontaminateJob.Options options(StageConf conf) {
    DecontaminateJob.Options o = DecontaminateJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, DecontaminateJob.Options options) {
    return new DecontaminateJob(spark, options).run();
  }

  @Override
  public Set<String> writes(DecontaminateJob.Options options) {
    return options.markOnly()
        ? Set.of(Columns.EVAL_SET, Columns.EVAL_ID, Columns.EVAL_DISTANCE)
        : Set.of();
  }
}
