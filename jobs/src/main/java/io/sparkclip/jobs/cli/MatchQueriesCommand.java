package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.match.MatchQueriesJob;
import io.sparkclip.jobs.match.MatchQueriesStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "match-queries",
    mixinStandardHelpOptions = true,
    description = {
      "Find every query of a list in every caption (case-insensitive, punctuation-normalised,",
      "whole words; one Aho-Corasick automaton per executor) and choose one query per pair for",
      "balancing: the matched query with the fewest matches overall, ties lexicographic.",
      "Writes <out>/data (pairs + matched_queries + query), <out>/rejects (no_query_match and",
      "unusable rows), <out>/query_counts and <out>/_summary.json."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip match-queries /tmp/raw --queries /tmp/raw/queries.txt --out /tmp/matched",
      "  sparkclip match-queries s3a://b/laion --queries s3a://b/wit-queries.parquet \\",
      "      --caption-col TEXT --url-col URL --out s3a://b/matched",
      "",
      "Next: sparkclip dedup /tmp/matched/data --out /tmp/dedup"
    })
public final class MatchQueriesCommand extends StageCommand<MatchQueriesJob.Options> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Pairs (any recognised layout).")
  String input;

  @Option(
      names = "--" + MatchQueriesJob.Options.QUERIES,
      required = true,
      description = "Query list: text file, one per line, or Parquet with a 'query' column.")
  String queries;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Mixin MappingOptions mapping;

  @Override
  Stage<MatchQueriesJob.Options> stage() {
    return new MatchQueriesStage();
  }
}
