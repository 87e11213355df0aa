package io.sparkclip.jobs.download;

import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;

/**
 * One task's share of a shard: every base row fetched ({@link FetchScheduler}: many requests in
 * flight, per-host limits) and processed ({@link ImageProcessor}) on the task thread as its
 * response completes, so a task holds at most its in-flight bodies. Rows come out in completion
 * order, each exactly once, with its status.
 */
final class DownloadPartition implements FlatMapFunction<Iterator<Row>, Row> {
  private static final long serialVersionUID = 1L;

  /** The base starts with the url ({@link DownloadRows#base}). */
  private static final int URL_INDEX = 0;

  private final FetchSettings settings;
  private final int inFlight;
  private final int perHost;
  private final long maxPixels;
  private final String resizeMode;
  private final int imageSize;
  private final boolean onlyIfBigger;
  private final int quality;
  private final LongAccumulator urls;
  private final LongAccumulator successes;
  private final LongAccumulator bytes;

  DownloadPartition(DownloadOptions o, DownloadProgress progress) {
    this.settings = o.fetchSettings();
    this.inFlight = o.requestsInFlight();
    this.perHost = o.perHostRequests();
    this.maxPixels = o.maxPixels();
    this.resizeMode = o.resizeMode();
    this.imageSize = o.imageSize();
    this.onlyIfBigger = o.resizeOnlyIfBigger();
    this.quality = o.encodeQuality();
    this.urls = progress.urls();
    this.successes = progress.successes();
    this.bytes = progress.bytes();
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    HttpFetcher fetcher = new HttpFetcher(settings);
    ImageProcessor processor =
        new ImageProcessor(
            maxPixels, ResizeMode.parse(resizeMode), imageSize, onlyIfBigger, quality);
    FetchScheduler<Row> scheduler =
        new FetchScheduler<>(rows, r -> r.getString(URL_INDEX), fetcher::fetch, inFlight, perHost);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return scheduler.hasNext();
      }

      @Override
      public Row next() {
        FetchScheduler.Done<Row> d = scheduler.next();
        return row(d.item(), d.outcome(), processor);
      }
    };
  }

  private Row row(Row base, FetchOutcome o, ImageProcessor processor) {
    ImageProcessor.Processed p =
        o.ok()
            ? processor.process(o.body(), o.contentType())
            : ImageProcessor.Processed.failed(o.status(), o.reason(), o.message(), null);
    urls.add(1);
    if (DownloadStatus.SUCCESS.equals(p.status())) {
      successes.add(1);
    }
    if (o.ok()) {
      bytes.add(o.body().length);
    }
    int n = base.length();
    Object[] v = new Object[n + DownloadRows.ADDED.size()];
    for (int i = 0; i < n; i++) {
      v[i] = base.get(i);
    }
    v[n] = p.status();
    v[n + 1] = p.message();
    v[n + 2] = p.width();
    v[n + 3] = p.height();
    v[n + 4] = p.originalWidth();
    v[n + 5] = p.originalHeight();
    v[n + 6] = p.exif();
    v[n + 7] = p.sha256();
    v[n + 8] = p.image();
    v[n + 9] = p.reason();
    return RowFactory.create(v);
  }
}
