package io.sparkclip.jobs.match;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * A query list broadcast by a second SparkContext in the same JVM gets its own automaton, although
 * its broadcast id is the first context's again (test classes and notebooks restart Spark).
 */
class MatcherCacheTest {
  static String[] matchIn(String query, String caption) {
    SparkSession spark = LocalSpark.start("MatcherCacheTest");
    try {
      Broadcast<String[]> b =
          JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(new String[] {query});
      return MatcherCache.get(b).match(caption);
    } finally {
      spark.stop();
    }
  }

  @Test
  void aNewContextsQueryListIsNotAnOldOnesAutomaton() {
    assertThat(matchIn("red hexagon", "a red hexagon on grey"))
        .as("first context: its own list")
        .containsExactly("red hexagon");
    assertThat(matchIn("blue circle", "a blue circle on white"))
        .as("second context, broadcast ids restarted: its own list, not the first's")
        .containsExactly("blue circle");
  }
}
