package io.sparkclip.schemas;

import java.util.List;

/**
 * Stage names: each is the command, the section of curate's config and the suffix of the stage's
 * directory under curate's output ({@code 2-dedup/}). The {@code stage} column of rejects holds the
 * finer labels below.
 */
public final class Stages {
  private Stages() {}

  public static final String DOWNLOAD = "download";
  public static final String MATCH_QUERIES = "match-queries";
  public static final String BASIC_FILTER = "basic-filter";
  public static final String DEDUP = "dedup";
  public static final String DECONTAMINATE = "decontaminate";
  public static final String BALANCE = "balance";
  public static final String EMBED = "embed";
  public static final String SCORE = "score";
  public static final String FILTER = "filter";
  public static final String SEMDEDUP = "semdedup";

  /**
   * Every curation stage curate knows, in the order they usually run. curate runs the stages its
   * config lists in the order it lists them; this order is the one the docs and messages show.
   */
  public static final List<String> CURATION_ORDER =
      List.of(
          DOWNLOAD,
          MATCH_QUERIES,
          BASIC_FILTER,
          DEDUP,
          DECONTAMINATE,
          BALANCE,
          EMBED,
          SCORE,
          FILTER,
          SEMDEDUP);

  // --- values of the rejects' stage column ---
  public static final String REJECT_MATCH_QUERIES = "match_queries";
  public static final String REJECT_BASIC_FILTER = "basic_filter";
  public static final String REJECT_DEDUP_INPUT = "dedup_input";
  public static final String REJECT_DEDUP_URL = "dedup_exact_url";
  public static final String REJECT_DEDUP_SHA = "dedup_exact_image";
  public static final String REJECT_DEDUP_IMAGE = "dedup_near_image";
  public static final String REJECT_DEDUP_CAPTION = "dedup_near_caption";
  public static final String REJECT_DECONTAMINATE = "decontaminate";
  public static final String REJECT_BALANCE = "balance";
  public static final String REJECT_FILTER = "filter";
  public static final String REJECT_SEMDEDUP_INPUT = "semdedup_input";
  public static final String REJECT_SEMDEDUP = "semdedup";
}
