package io.sparkclip.jobs.filter;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
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

  @Override
  public Set<String> requires(FilterJob.Options options) {
    Set<String> c = new TreeSet<>(List.of(Columns.EMBED_STATUS, Columns.CLIP_SCORE));
    if (options.perQueryTopPercent() != null) {
      c.add(Columns.QUERY);
    }
    if (options.maxRank() != null) {
      c.add(Columns.IMAGE_RANK);
    }
    if (options.minQueryScore() != null) {
      c.add(Columns.QUERY_SCORE);
    }
    c.addAll(options.bounds().keySet());
    return c;
  }
}
