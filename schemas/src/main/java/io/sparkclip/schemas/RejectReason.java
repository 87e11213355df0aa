package io.sparkclip.schemas;

/**
 * Values of the rejects' {@link Columns#REASON}. Rows whose {@link Columns#PAIR_STATUS} is not
 * {@code ok} are rejected with their status as the reason (see {@link PairStatus}).
 */
public final class RejectReason {
  private RejectReason() {}

  /** match-queries: no query of the list occurs in the caption. */
  public static final String NO_QUERY_MATCH = "no_query_match";

  /** dedup: same normalised URL (and caption, by default) as a kept row. */
  public static final String DUPLICATE_EXACT_URL = "duplicate_exact_url";

  /** dedup: same SHA-256 of the image bytes as a kept row. */
  public static final String DUPLICATE_IMAGE_HASH = "duplicate_image_hash";

  /** dedup: perceptual hash within the Hamming threshold of a kept row's. */
  public static final String NEAR_DUPLICATE_IMAGE = "near_duplicate_image";

  /** dedup: caption MinHash-similar (Jaccard over shingles) to a kept row's. */
  public static final String NEAR_DUPLICATE_CAPTION = "near_duplicate_caption";

  /** dedup: image bytes present but not decodable, so no perceptual hash. */
  public static final String UNDECODABLE_IMAGE = "undecodable_image";

  /** balance: the row has no query to balance on. */
  public static final String NO_QUERY = "no_query";

  /** balance: over the per-query cap, or not drawn in probabilistic mode. */
  public static final String OVER_CAP = "over_cap";

  /**
   * semdedup: image embedding within cosine 1 − ε of a kept row's in the same k-means cluster
   * (SemDeDup); {@code related_uid} is the row kept for the group.
   */
  public static final String SEMANTIC_DUPLICATE = "semantic_duplicate";

  /** filter: the row has no usable embedding (embed_status not ok). */
  public static final String EMBED_FAILED = "embed_failed";

  /** filter: clip_score below the absolute threshold. */
  public static final String LOW_CLIP_SCORE = "low_clip_score";

  /** filter: below the global top percent by clip_score. */
  public static final String BELOW_GLOBAL_TOP = "below_global_top_percent";

  /** filter: below its query's top percent by clip_score. */
  public static final String BELOW_QUERY_TOP = "below_query_top_percent";

  /** filter: its own caption ranks below the maximum in-batch rank. */
  public static final String CONTRASTIVE_RANK = "contrastive_rank";

  /** filter: query_score below the threshold. */
  public static final String LOW_QUERY_SCORE = "low_query_score";
}
