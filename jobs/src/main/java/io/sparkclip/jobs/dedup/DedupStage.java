package io.sparkclip.jobs.dedup;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Stages;
import org.apache.spark.sql.SparkSession;

/** {@code dedup} as a {@link Stage}. */
public final class DedupStage implements Stage<DedupJob.Options> {
  @Override
  public String name() {
    return Stages.DEDUP;
  }

  @Override
  public DedupJob.Options options(StageConf conf) {
    DedupJob.Options o = DedupJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, DedupJob.Options options) {
    return new DedupJob(spark, options).run();
  }
}
