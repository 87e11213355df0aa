package io.sparkclip.jobs.balance;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code balance} as a {@link Stage}. */
public final class BalanceStage implements Stage<BalanceJob.Options> {
  @Override
  public String name() {
    return Stages.BALANCE;
  }

  @Override
  public BalanceJob.Options options(StageConf conf) {
    BalanceJob.Options o = BalanceJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, BalanceJob.Options options) {
    return new BalanceJob(spark, options).run();
  }

  @Override
  public Set<String> requires(BalanceJob.Options options) {
    return Set.of(options.mapping().queryCol().orElse(Columns.QUERY));
  }
}
