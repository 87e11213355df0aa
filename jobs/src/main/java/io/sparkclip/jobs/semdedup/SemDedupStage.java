package io.sparkclip.jobs.semdedup;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code semdedup} as a {@link Stage}. */
public final class SemDedupStage implements Stage<SemDedupJob.Options> {
  @Override
  public String name() {
    return Stages.SEMDEDUP;
  }

  @Override
  public SemDedupJob.Options options(StageConf conf) {
    SemDedupJob.Options o = SemDedupJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, SemDedupJob.Options options) {
    return new SemDedupJob(spark, options).run();
  }

  @Override
  public Set<String> writes() {
    return Set.of(Columns.SEMANTIC_CLUSTER, Columns.SEMANTIC_GROUP);
  }

  @Override
  public Set<String> requires(SemDedupJob.Options options) {
    return Set.of(options.embeddingCol());
  }
}
