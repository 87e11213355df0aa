package io.sparkclip.jobs.download;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Stages;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * download as a {@link Stage}: metadata in, img2dataset Parquet out. It rejects nothing: a row that
 * could not be fetched is kept with its status and reason (the next stage's input check turns it
 * into a reject), so rows in = rows out, counted from what the shards hold.
 */
public final class DownloadStage implements Stage<DownloadOptions> {
  @Override
  public String name() {
    return Stages.DOWNLOAD;
  }

  @Override
  public DownloadOptions options(StageConf conf) {
    return DownloadOptions.from(conf).validate();
  }

  @Override
  public CurationSummary run(SparkSession spark, DownloadOptions options) {
    long start = System.nanoTime();
    DownloadJob.Result r = new DownloadJob(spark, options, System.err).run();
    Sparks.describe(spark, Stages.DOWNLOAD, "summary");
    DownloadReport.ShardCounts all =
        DownloadReport.counts(spark.read().parquet(CurationOutput.data(options.out())));
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("shards", r.shards());
    details.put("shards_skipped", r.skipped());
    details.put("shards_downloaded", r.downloaded());
    details.put("shards_retried", r.retried());
    details.put("rows_fetched_now", r.rowsFetched());
    details.putAll(all.marker());
    Object success = ((Map<?, ?>) all.marker().get(DownloadReport.STATUS)).get("success");
    long ok = success instanceof Number n ? n.longValue() : 0;
    details.put(
        "success_rate", all.rows() == 0 ? 0.0 : Math.round(10000.0 * ok / all.rows()) / 10000.0);
    details.put(
        "urls_per_second",
        r.seconds() <= 0 ? 0.0 : Math.round(10.0 * r.rowsFetched() / r.seconds()) / 10.0);
    details.put("resize_mode", options.mode().label());
    return new CurationSummary(
        Stages.DOWNLOAD,
        options.input(),
        options.out(),
        all.rows(),
        all.rows(),
        Map.of(),
        details,
        (System.nanoTime() - start) / 1e9);
  }

  @Override
  public Set<String> writes() {
    return Set.of(
        Columns.URL,
        Columns.CAPTION,
        Columns.KEY,
        Columns.STATUS,
        Columns.ERROR_MESSAGE,
        Columns.WIDTH,
        Columns.HEIGHT,
        Columns.ORIGINAL_WIDTH,
        Columns.ORIGINAL_HEIGHT,
        Columns.SHA256,
        Columns.JPG,
        DownloadRows.REASON);
  }
}
