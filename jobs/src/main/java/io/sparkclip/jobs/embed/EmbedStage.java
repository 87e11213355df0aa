package io.sparkclip.jobs.embed;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * embed as a {@link Stage}. embed rejects nothing: a row that cannot be embedded is kept with its
 * {@code embed_status}, so rows in = rows out, counted from what the shards hold.
 */
public final class EmbedStage implements Stage<EmbedJob.Options> {
  @Override
  public String name() {
    return Stages.EMBED;
  }

  @Override
  public EmbedJob.Options options(StageConf conf) {
    EmbedJob.Options o = EmbedJob.Options.from(conf);
    o.validate();
    return o;
  }

  @Override
  public CurationSummary run(SparkSession spark, EmbedJob.Options options) {
    long start = System.nanoTime();
    EmbedReport.Result r = new EmbedJob(spark, options).run();
    long rows = spark.read().parquet(CurationOutput.data(options.out())).count();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("shards", r.shards());
    details.put("shards_skipped", r.shardsSkipped());
    details.put("shards_embedded", r.shardsEmbedded());
    details.put("rows_embedded_now", r.rowsEmbedded());
    details.put("embed_status", r.statusCounts());
    if (r.shardsSkipped() > 0) {
      details.put("seconds_saved", Math.round(r.secondsSaved() * 10) / 10.0);
    }
    return new CurationSummary(
        Stages.EMBED,
        options.input(),
        options.out(),
        rows,
        rows,
        Map.of(),
        details,
        (System.nanoTime() - start) / 1e9);
  }

  @Override
  public Set<String> writes() {
    return Set.of(
        Columns.IMAGE_EMBEDDING,
        Columns.TEXT_EMBEDDING,
        Columns.EMBED_STATUS,
        Columns.EMBED_ERROR,
        Columns.MODEL_ID);
  }
}
