package io.sparkclip.jobs.stage;

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
}
