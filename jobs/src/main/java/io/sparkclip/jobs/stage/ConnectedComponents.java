package io.sparkclip.jobs.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.min;

import io.sparkclip.schemas.Errors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connected components of an undirected graph, in Spark, by min-label propagation: every node
 * starts with itself as label and takes the smallest label among itself and its neighbours until no
 * label changes (as many rounds as the largest component's diameter; near-duplicate clusters are
 * small and star-shaped, so a few rounds). Only the number of changed labels reaches the driver
 * each round; lineage is cut by a local checkpoint per round.
 */
public final class ConnectedComponents {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectedComponents.class);

  public static final String NODE = "_cc_node";
  public static final String LABEL = "_cc_label";

  private ConnectedComponents() {}

  /**
   * @param edges two columns {@code src}, {@code dst} of one comparable type
   * @return one row per node that has an edge: {@value #NODE}, {@value #LABEL} (the smallest node
   *     of its component)
   */
  public static Dataset<Row> of(
      SparkSession spark, Dataset<Row> edges, String job, int maxIterations) {
    Dataset<Row> both =
        edges
            .select(col("src").as("a"), col("dst").as("b"))
            .union(edges.select(col("dst").as("a"), col("src").as("b")))
            .distinct()
            .localCheckpoint();
    Dataset<Row> labels =
        both.groupBy(col("a").as(NODE)).agg(least(min(col("b")), col("a")).as(LABEL));
    labels = labels.localCheckpoint();
    for (int round = 1; round <= maxIterations; round++) {
      Sparks.describe(spark, job, "connected components, round " + round);
      Dataset<Row> msgs =
          both.join(labels, both.col("a").equalTo(labels.col(NODE)))
              .select(both.col("b").as("_n"), labels.col(LABEL).as("_l"));
      Dataset<Row> next =
          labels
              .select(col(NODE).as("_n"), col(LABEL).as("_l"))
              .union(msgs)
              .groupBy(col("_n").as(NODE))
              .agg(min(col("_l")).as(LABEL))
              .localCheckpoint();
      Dataset<Row> prev = labels.select(col(NODE).as("_p"), col(LABEL).as("_pl"));
      long changed =
          next.join(prev, next.col(NODE).equalTo(prev.col("_p")))
              .filter(col(LABEL).notEqual(col("_pl")))
              .count();
      labels = next;
      LOG.info("{}: connected components round {}: {} labels changed", job, round, changed);
      if (changed == 0) {
        return labels;
      }
    }
    throw Errors.componentsNotConverged(maxIterations);
  }
}
