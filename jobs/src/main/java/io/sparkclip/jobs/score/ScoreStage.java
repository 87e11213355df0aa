package io.sparkclip.jobs.score;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.Stages;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code score} as a {@link Stage}. */
public final class ScoreStage implements Stage<ScoreJob.Options> {
  @Override
  public String name() {
    return Stages.SCORE;
  }

  @Override
  public ScoreJob.Options options(StageConf conf) {
    ScoreJob.Options o = ScoreJob.Options.from(conf);
    if (o.model() == null || o.model().isBlank()) {
      throw Errors.optionMissing(
          Stages.SCORE,
          "--model is required",
          "scores come from the model the pairs were embedded with");
    }
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, ScoreJob.Options options) {
    return new ScoreJob(spark, options).run();
  }

  @Override
  public Set<String> writes() {
    return Set.of(
        Columns.CLIP_SCORE,
        Columns.QUERY_SCORE,
        Columns.IMAGE_RANK,
        Columns.TEXT_RANK,
        Columns.GROUP_ID,
        Columns.GROUP_SIZE,
        Columns.GROUP_LOSS);
  }

  @Override
  public Set<String> writes(ScoreJob.Options options) {
    Set<String> w = new java.util.TreeSet<>(writes());
    w.addAll(options.headColumns());
    return w;
  }

  @Override
  public void preflight(ScoreJob.Options options) {
    ScoreJob.preflight(options);
  }

  @Override
  public Set<String> requires(ScoreJob.Options options) {
    return Set.of(Columns.IMAGE_EMBEDDING, Columns.TEXT_EMBEDDING);
  }
}
