package io.sparkclip.jobs.match;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** match-queries as a {@link Stage}. */
public final class MatchQueriesStage implements Stage<MatchQueriesJob.Options> {
  @Override
  public String name() {
    return Stages.MATCH_QUERIES;
  }

  @Override
  public MatchQueriesJob.Options options(StageConf conf) {
    MatchQueriesJob.Options o = MatchQueriesJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, MatchQueriesJob.Options options) {
    return new MatchQueriesJob(spark, options).run();
  }

  @Override
  public Set<String> writes() {
    return Set.of(Columns.QUERY, Columns.MATCHED_QUERIES);
  }
}
