package io.sparkclip.jobs.stage;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * Opens the SparkSession a command runs on. Under {@code spark-submit} the master and conf come
 * from the submit; run directly, sparkclip defaults to {@code local[*]} (the embedded default). If
 * a session is already active (tests, notebooks), it is reused and left running.
 */
public final class Sparks implements AutoCloseable {
  private static final String CACHED_COALESCE =
      "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning";

  private final SparkSession session;
  private final boolean owned;
  private ConsoleProgress progress;

  private Sparks(SparkSession session, boolean owned) {
    this.session = session;
    this.owned = owned;
  }

  public static Sparks open(String appName, String master, Map<String, String> conf) {
    Option<SparkSession> active = SparkSession.getActiveSession();
    if (active.isEmpty()) {
      active = SparkSession.getDefaultSession();
    }
    if (active.isDefined()) {
      return new Sparks(active.get(), false);
    }
    SparkConf submitted = new SparkConf(); // picks up spark.* system properties from spark-submit
    SparkSession.Builder b = SparkSession.builder().appName(appName);
    if (master != null && !master.isBlank()) {
      b.master(master);
    } else if (!submitted.contains("spark.master")) {
      b.master("local[*]");
    }
    // Cached stage outputs (dedup persists its labelled rows) keep the 200 shuffle partitions of
    // their plan unless adaptive execution may coalesce them too: tiny inputs then pay per task.
    if (!submitted.contains(CACHED_COALESCE)) {
      b.config(CACHED_COALESCE, "true");
    }
    conf.forEach(b::config);
    return new Sparks(b.getOrCreate(), true);
  }

  /**
   * Shows the progress of every Spark job this command runs as one stage named {@code label}
   * (commands that are not curation stages; stages get theirs from {@link StageRunner}).
   */
  public Sparks withProgress(ConsoleProgress.Mode mode, String label) {
    progress = ConsoleProgress.attach(session, mode, System.err);
    progress.stage(label);
    return this;
  }

  public SparkSession session() {
    return session;
  }

  /** Names the stage in the Spark UI, e.g. "sparkclip: generate / render shards". */
  public static void describe(SparkSession spark, String job, String stage) {
    spark.sparkContext().setJobDescription("sparkclip: " + job + " / " + stage);
  }

  @Override
  public void close() {
    if (progress != null) {
      progress.finished("");
      progress.close();
    }
    if (owned) {
      session.stop();
    }
  }
}
