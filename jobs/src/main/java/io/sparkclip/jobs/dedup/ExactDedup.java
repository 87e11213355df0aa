package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;

import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.Stages;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Exact duplicates: normalised URL (and caption), SHA-256 of the image bytes. */
final class ExactDedup {
  private static final Logger LOG = LoggerFactory.getLogger(ExactDedup.class);
  private final SparkSession spark;
  private final DedupJob.Options options;

  ExactDedup(SparkSession spark, DedupJob.Options options) {
    this.spark = spark;
    this.options = options;
  }

  /**
   * The exact URL and exact image steps that are on, over the {@link DedupFrame} narrow frame; the
   * names of those run go to {@code stages}.
   */
  Dataset<Row> run(
      Dataset<Row> labelled,
      ResolvedLayout layout,
      List<Column> order,
      Map<String, Object> details,
      List<String> stages) {
    if (options.exactUrl()) {
      if (layout.url().isEmpty()) {
        LOG.warn("dedup: no url column, exact URL stage skipped");
        details.put(Stages.REJECT_DEDUP_URL, "skipped: no url column");
      } else {
        UserDefinedFunction norm =
            udf(
                new NormalizeUrl(new UrlNormalizer(options.trackingParams())),
                DataTypes.StringType);
        Column key = norm.apply(col(DedupFrame.URL));
        if (options.urlKey() == DedupJob.UrlKey.URL_CAPTION) {
          key = concat(key, lit("\u001f"), coalesce(col(DedupFrame.CAPTION), lit("")));
        }
        labelled =
            DuplicateGroups.byKey(
                labelled,
                key,
                Stages.REJECT_DEDUP_URL,
                RejectReason.DUPLICATE_EXACT_URL,
                "url",
                order,
                options.markOnly());
        stages.add(Stages.REJECT_DEDUP_URL);
      }
    }
    if (options.exactImage()) {
      if (!layout.hasImages()) {
        details.put(Stages.REJECT_DEDUP_SHA, "skipped: no image bytes (metadata-only)");
      } else {
        Column key = col(DedupFrame.SHA);
        labelled =
            DuplicateGroups.byKey(
                labelled,
                key,
                Stages.REJECT_DEDUP_SHA,
                RejectReason.DUPLICATE_IMAGE_HASH,
                "sha256",
                order,
                options.markOnly());
        stages.add(Stages.REJECT_DEDUP_SHA);
      }
    }
    return labelled;
  }

  /** Executor side: URL normalisation. */
  static final class NormalizeUrl implements UDF1<String, String> {
    private static final long serialVersionUID = 1L;
    private final UrlNormalizer normalizer;

    NormalizeUrl(UrlNormalizer normalizer) {
      this.normalizer = normalizer;
    }

    @Override
    public String call(String url) {
      return normalizer.normalize(url);
    }
  }
}
