package io.sparkclip.schemas;

/**
 * Values of the rejects' {@link Columns#REASON}. Rows whose {@link Columns#PAIR_STATUS} is not
 * {@code ok} are rejected with their status as the reason (see {@link PairStatus}).
 */
public final class RejectReason {
  private RejectReason() {}

  /** match-queries: no query of the list occurs in the caption. */
  public static final String NO_QUERY_MATCH = "no_query_match";

  /** basic-filter: the caption has fewer words than the minimum (DataComp: more than 2). */
  public static final String CAPTION_TOO_FEW_WORDS = "caption_too_few_words";

  /** basic-filter: the caption has more words than the maximum. */
  public static final String CAPTION_TOO_MANY_WORDS = "caption_too_many_words";

  /** basic-filter: the caption has fewer characters than the minimum (DataComp: more than 5). */
  public static final String CAPTION_TOO_SHORT = "caption_too_short";

  /** basic-filter: the caption has more characters than the maximum. */
  public static final String CAPTION_TOO_LONG = "caption_too_long";

  /** basic-filter: the image file has fewer bytes than the minimum (LAION: 5 KB). */
  public static final String IMAGE_FILE_TOO_SMALL = "image_file_too_small";

  /**
   * basic-filter: the image's width and height cannot be read: no image reader recognises its
   * header, or the header is cut short or invalid (metadata-only input: the width and height
   * columns are null or not positive).
   */
  public static final String IMAGE_SIZE_UNREADABLE = "image_size_unreadable";

  /** basic-filter: the image's shortest side is below the minimum (DataComp: 200 px). */
  public static final String IMAGE_TOO_SMALL = "image_too_small";

  /** basic-filter: longest over shortest side above the maximum (DataComp: 3). */
  public static final String EXTREME_ASPECT_RATIO = "extreme_aspect_ratio";

  /**
   * basic-filter: the caption's language, as Lingua identifies it, is not one of those kept (or
   * Lingua cannot tell).
   */
  public static final String CAPTION_LANGUAGE = "caption_language";

  /** basic-filter: the caption is in a kept language, with a confidence below the minimum. */
  public static final String LOW_LANGUAGE_CONFIDENCE = "low_language_confidence";

  /** dedup: same normalised URL (and caption, by default) as a kept row. */
  public static final String DUPLICATE_EXACT_URL = "duplicate_exact_url";

  /** dedup: same SHA-256 of the image bytes as a kept row. */
  public static final String DUPLICATE_IMAGE_HASH = "duplicate_image_hash";

  /** dedup: perceptual hash within the Hamming threshold of a kept row's. */
  public static final String NEAR_DUPLICATE_IMAGE = "near_duplicate_image";

  /** dedup: caption MinHash-similar (Jaccard over shingles) to a kept row's. */
  public static final String NEAR_DUPLICATE_CAPTION = "near_duplicate_caption";

  /**
   * decontaminate: the image is a copy (re-encode, resize, light crop) of an evaluation set's
   * image; {@code related_uid} is the eval item's id, {@code detail} names the set and distance.
   */
  public static final String EVAL_OVERLAP = "eval_overlap";

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

  /**
   * filter: a score column with a {@code --min} or {@code --max} bound is null (or NaN) for the
   * row, so the bound cannot be checked; the detail names the column.
   */
  public static final String SCORE_MISSING = "score_missing";

  /** filter: a score column is below its {@code --min} bound; the detail names the column. */
  public static final String SCORE_BELOW_MIN = "score_below_min";

  /** filter: a score column is above its {@code --max} bound; the detail names the column. */
  public static final String SCORE_ABOVE_MAX = "score_above_max";
}
