package io.sparkclip.jobs.stage;

import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * One curation stage: its name (the command, curate's config section and the suffix of its output
 * directory), its options resolved from a {@link StageConf}, and a run that reads {@code input},
 * writes {@code out} and returns what it did. The stand-alone command and curate both go through
 * {@link StageRunner}, so they resolve options, show progress and report the same way.
 *
 * @param <O> the stage's resolved options
 */
public interface Stage<O> {
  String name();

  /** Resolves and checks the options; fails before any Spark work on a bad value. */
  O options(StageConf conf);

  CurationSummary run(SparkSession spark, O options);

  /**
   * Columns the stage adds to the rows it keeps. curate uses them to tell which stage must run
   * before a stage that {@link #requires} one of them.
   */
  default Set<String> writes() {
    return Set.of();
  }

  /**
   * Columns the stage adds with these options: {@link #writes()} plus those the options name (the
   * {@code NAME_score} column of each of score's heads).
   */
  default Set<String> writes(O options) {
    return writes();
  }

  /**
   * Checks that read files the options name (a model, a score head) and cannot wait until the stage
   * runs: curate calls it for every listed stage before the first one runs, so a bad head fails at
   * once rather than after hours of dedup. The stage's run checks again.
   */
  default void preflight(O options) {}

  /**
   * Columns the stage's input must have, with these options: present in curate's input or written
   * by a stage listed before it. curate checks this before any stage runs; the stage itself checks
   * its actual input again when it runs.
   */
  default Set<String> requires(O options) {
    return Set.of();
  }

  /** Every option key the stage reads: what {@link #options} asks of an empty conf. */
  default Set<String> keys() {
    StageConf probe = StageConf.empty();
    try {
      options(probe);
    } catch (RuntimeException expected) {
      // An empty conf lacks the input and out: the keys were read before the check failed.
    }
    return probe.keysRead();
  }
}
