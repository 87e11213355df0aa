package io.sparkclip.jobs.basicfilter;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code basic-filter} as a {@link Stage}. */
public final class BasicFilterStage implements Stage<BasicFilterJob.Options> {
  @Override
  public String name() {
    return Stages.BASIC_FILTER;
  }

  @Override
  public BasicFilterJob.Options options(StageConf conf) {
    BasicFilterJob.Options o = BasicFilterJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, BasicFilterJob.Options options) {
    return new BasicFilterJob(spark, options).run();
  }

  @Override
  public Set<String> writes() {
    return Set.of(Columns.LANGUAGE, Columns.LANGUAGE_CONFIDENCE);
  }
}
