package io.sparkclip.jobs.filter;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Stages;
import org.apache.spark.sql.SparkSession;

/** {@code filter} as a {@link Stage}. */
public final class FilterStage implements Stage<FilterJob.Options> {
  @Override
  public String name() {
    return Stages.FILTER;
  }

  @Override
  public FilterJob.Options options(StageConf conf) {
    FilterJob.Options o = FilterJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, FilterJob.Options options) {
    return new FilterJob(spark, options).run();
  }
}
