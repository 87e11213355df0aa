package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.ConnectedComponents;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.TextNormalizer;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Stages;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/** Near-duplicate captions: MinHash LSH candidates confirmed by exact shingle Jaccard. */
final class NearCaptionDedup {
  private final SparkSession spark;
  private final DedupJob.Options options;

  NearCaptionDedup(SparkSession spark, DedupJob.Options options) {
    this.spark = spark;
    this.options = options;
  }

  /** Near-duplicate caption clusters over the {@link DedupFrame} narrow frame. */
  Dataset<Row> run(Dataset<Row> labelled, List<Column> order, Map<String, Object> d) {
    Sparks.describe(spark, Stages.DEDUP, "caption minhash");
    UserDefinedFunction norm = udf(new NormalizeCaption(), DataTypes.StringType);
    Dataset<Row> withNorm =
        labelled.withColumn(
            "_cap", when(CurationOutput.kept(), norm.apply(col(DedupFrame.CAPTION))));
    UserDefinedFunction bandsUdf =
        udf(
            new CaptionBands(options.shingleSize(), options.minhashBands(), options.minhashRows()),
            DataTypes.createArrayType(DataTypes.LongType, false));
    Dataset<Row> nodes =
        withNorm
            .filter(col("_cap").isNotNull().and(CurationOutput.kept()))
            .select(col("_cap").as("c"))
            .distinct();
    Dataset<Row> banded =
        nodes.select(col("c"), posexplode(bandsUdf.apply(col("c"))).as(new String[] {"band", "v"}));
    Dataset<Row> a = banded.select(col("c").as("src"), col("band").as("ba"), col("v").as("va"));
    Dataset<Row> b = banded.select(col("c").as("dst"), col("band").as("bb"), col("v").as("vb"));
    UserDefinedFunction jac = udf(new Jaccard(options.shingleSize()), DataTypes.DoubleType);
    Sparks.describe(spark, Stages.DEDUP, "caption candidate pairs");
    Dataset<Row> edges =
        a.join(
                b,
                col("ba")
                    .equalTo(col("bb"))
                    .and(col("va").equalTo(col("vb")))
                    .and(col("src").lt(col("dst"))))
            .select("src", "dst")
            .distinct()
            .filter(jac.apply(col("src"), col("dst")).geq(options.captionJaccard()));
    Dataset<Row> cc = ConnectedComponents.of(spark, edges, Stages.DEDUP, options.maxIterations());
    Dataset<Row> joined =
        withNorm.join(cc, withNorm.col("_cap").equalTo(cc.col(ConnectedComponents.NODE)), "left");
    Column key =
        when(col("_cap").isNotNull(), coalesce(col(ConnectedComponents.LABEL), col("_cap")));
    d.put("caption_jaccard", options.captionJaccard());
    d.put(
        "minhash",
        options.minhashBands()
            + " bands x "
            + options.minhashRows()
            + " rows, "
            + options.shingleSize()
            + "-char shingles");
    return DuplicateGroups.byKey(
            joined,
            key,
            Stages.REJECT_DEDUP_CAPTION,
            RejectReason.NEAR_DUPLICATE_CAPTION,
            "caption",
            order,
            options.markOnly())
        .drop(ConnectedComponents.NODE, ConnectedComponents.LABEL, "_cap");
  }

  /** Executor side: caption normalisation shared with match-queries; blank → null. */
  static final class NormalizeCaption implements UDF1<String, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public String call(String caption) {
      if (caption == null) {
        return null;
      }
      String n = TextNormalizer.normalize(caption);
      return n.isEmpty() ? null : n;
    }
  }

  /** Executor side: MinHash LSH band signatures of a normalised caption. */
  static final class CaptionBands implements UDF1<String, long[]> {
    private static final long serialVersionUID = 1L;
    private final int k;
    private final int bands;
    private final int rows;

    CaptionBands(int k, int bands, int rows) {
      this.k = k;
      this.bands = bands;
      this.rows = rows;
    }

    @Override
    public long[] call(String caption) {
      return MinHash.bands(caption, k, bands, rows);
    }
  }

  /** Executor side: exact shingle Jaccard similarity of two normalised captions. */
  static final class Jaccard implements UDF2<String, String, Double> {
    private static final long serialVersionUID = 1L;
    private final int k;

    Jaccard(int k) {
      this.k = k;
    }

    @Override
    public Double call(String a, String b) {
      return MinHash.jaccard(MinHash.shingles(a, k), MinHash.shingles(b, k));
    }
  }
}
