package io.sparkclip.schemas;

import java.util.regex.Pattern;

/**
 * Column names, as constants. Code reads fields by these names, never by position.
 *
 * <p>Three groups: the columns of the input layouts users already have (img2dataset, Hugging Face
 * datasets, LAION-style metadata), the columns sparkclip adds to every pair, and the columns of the
 * shared side tables (rejects, ground truth).
 */
public final class Columns {
  private Columns() {}

  // --- img2dataset Parquet output (one file per shard, 10,000 rows by default) ---
  /** 9-digit shard + index key, e.g. {@code 000120042}. */
  public static final String KEY = "key";

  public static final String URL = "url";
  public static final String CAPTION = "caption";

  /** img2dataset download status: {@code success}, {@code failed_to_download}, … */
  public static final String STATUS = "status";

  public static final String ERROR_MESSAGE = "error_message";
  public static final String WIDTH = "width";
  public static final String HEIGHT = "height";
  public static final String ORIGINAL_WIDTH = "original_width";
  public static final String ORIGINAL_HEIGHT = "original_height";
  public static final String EXIF = "exif";
  public static final String SHA256 = "sha256";

  /** Image bytes; img2dataset names the column after the encode format. */
  public static final String JPG = "jpg";

  // --- Hugging Face datasets ---
  /** Struct {@code {bytes: binary, path: string}}. */
  public static final String IMAGE = "image";

  public static final String IMAGE_BYTES_FIELD = "bytes";
  public static final String IMAGE_PATH_FIELD = "path";
  public static final String TEXT = "text";

  // --- LAION metadata ---
  public static final String LAION_TEXT = "TEXT";
  public static final String LAION_URL = "URL";

  // --- WebDataset / img2dataset files input (what sparkclip's readers add) ---
  /** The tar shard (WebDataset) or shard folder (img2dataset files) a sample was read from. */
  public static final String SOURCE_SHARD = "source_shard";

  /**
   * Where the sample starts in its shard: the byte offset of its first tar member (WebDataset) or
   * its ordinal among the folder's sample keys (files). With {@link #SOURCE_SHARD}, the row's id.
   */
  public static final String SOURCE_OFFSET = "source_offset";

  /** The image member's extension (jpg, png, webp, ...) of a WebDataset or files sample. */
  public static final String IMAGE_FORMAT = "image_format";

  /** The sample's metadata member, as read ({@code {key}.json}): every extra column it carries. */
  public static final String SAMPLE_JSON = "json";

  /**
   * Why a WebDataset or files sample cannot be used as read (truncated tar, no image member, two
   * images, caption not UTF-8, metadata not JSON); null for a sound sample. See {@link
   * PairStatus#INVALID_SAMPLE}.
   */
  public static final String SAMPLE_ERROR = "sample_error";

  // --- DataComp metadata ---
  public static final String DATACOMP_UID = "uid";

  // --- columns sparkclip adds ---
  /** 32 lowercase hex chars (128 bits) derived from url + caption; see {@link Uid}. */
  public static final String UID = "uid";

  /** The query that "found" the pair (WIT-style), optional on input. */
  public static final String QUERY = "query";

  /** Whether the pair is usable: see {@link PairStatus}. */
  public static final String PAIR_STATUS = "pair_status";

  /** Why a pair is not {@code ok}; null when it is. */
  public static final String PAIR_STATUS_DETAIL = "pair_status_detail";

  /** An input column named {@code uid} (e.g. DataComp's) is kept under this name. */
  public static final String SOURCE_UID = "source_uid";

  // --- rejects (shared by all curation stages) ---
  public static final String STAGE = "stage";
  public static final String REASON = "reason";
  public static final String DETAIL = "detail";

  /** The uid a rejected row duplicates, for dedup stages; null otherwise. */
  public static final String RELATED_UID = "related_uid";

  // --- curation outputs (match-queries, dedup, balance) ---
  /** Every query of the query list found in the caption (match-queries). */
  public static final String MATCHED_QUERIES = "matched_queries";

  /** An input {@code query} column is kept under this name when match-queries sets its own. */
  public static final String SOURCE_QUERY = "source_query";

  /** The duplicate cluster a row belongs to (its smallest member key); null if none. */
  public static final String DUP_CLUSTER = "dup_cluster";

  /** The uid of the row kept for the row's duplicate cluster; null for the kept row. */
  public static final String DUP_OF = "dup_of";

  /** 64-bit perceptual hash of the decoded image (dedup); null when it cannot be decoded. */
  public static final String PHASH = "phash";

  /** Per-query count tables (match-queries, balance). */
  public static final String ROWS = "rows";

  public static final String ROWS_BEFORE = "rows_before";
  public static final String ROWS_AFTER = "rows_after";

  // --- decontaminate ---
  /** The evaluation set a row's image is a copy of (decontaminate --mark-only); null if none. */
  public static final String EVAL_SET = "eval_set";

  /** The id of the evaluation item a row's image is a copy of (--mark-only); null if none. */
  public static final String EVAL_ID = "eval_id";

  /** Copy-detection distance of a pool image to the eval image it copies (0..255). */
  public static final String EVAL_DISTANCE = "eval_distance";

  /** Image bytes of an evaluation item, in the overlap samples. */
  public static final String EVAL_IMAGE = "eval_image";

  /** A pair's image bytes, in the overlap samples. */
  public static final String POOL_IMAGE = "pool_image";

  /** The pool pair's caption, in the overlap samples. */
  public static final String POOL_CAPTION = "pool_caption";

  /** Lower-case names of evaluation sets ({@code --eval NAME=PATH}). */
  public static final Pattern EVAL_SET_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,39}");

  // --- basic-filter ---
  /**
   * The caption's language as Lingua identifies it among the candidate languages: an ISO 639-1 code
   * such as {@code en}; null when Lingua cannot tell.
   */
  public static final String LANGUAGE = "language";

  /**
   * How clearly the caption is in {@link #LANGUAGE}: Lingua's relative distance between the most
   * likely candidate language and the runner-up, in [0, 1] (1 when only one candidate is possible
   * for the caption's characters; 0 when Lingua cannot tell).
   */
  public static final String LANGUAGE_CONFIDENCE = "language_confidence";

  // --- semdedup ---
  /** The k-means cluster of the row's embedding (semdedup); null without an embedding. */
  public static final String SEMANTIC_CLUSTER = "semantic_cluster";

  /**
   * The semantic-duplicate group a row belongs to ({@code <cluster>:<smallest member>}); null when
   * no other row of its cluster is within the cosine threshold.
   */
  public static final String SEMANTIC_GROUP = "semantic_group";

  // --- embed ---
  public static final String IMAGE_EMBEDDING = "image_embedding";
  public static final String TEXT_EMBEDDING = "text_embedding";

  /** Per-row embedding outcome: see the engine's row status values. */
  public static final String EMBED_STATUS = "embed_status";

  public static final String EMBED_ERROR = "embed_error";
  public static final String MODEL_ID = "model_id";

  // --- score ---
  /** Cosine of image and caption embeddings. */
  public static final String CLIP_SCORE = "clip_score";

  /** Prompt-template classifier probability of the pair's query. */
  public static final String QUERY_SCORE = "query_score";

  public static final String IMAGE_RANK = "image_rank";
  public static final String TEXT_RANK = "text_rank";
  public static final String GROUP_ID = "group_id";
  public static final String GROUP_SIZE = "group_size";
  public static final String GROUP_LOSS = "group_loss";

  /**
   * A score head's column is its name with this suffix: head {@code aesthetic} writes {@code
   * aesthetic_score}.
   */
  public static final String HEAD_SCORE_SUFFIX = "_score";

  /**
   * Names a head may have: a lower-case column-name fragment, so {@code NAME_score} needs no
   * quoting in Spark SQL, Parquet or a HOCON key, and cannot differ from another only in case
   * (Spark resolves columns case-insensitively).
   */
  public static final Pattern HEAD_NAME = Pattern.compile("[a-z][a-z0-9_]{0,39}");

  /** The score column of head {@code name}. */
  public static String headScore(String name) {
    return name + HEAD_SCORE_SUFFIX;
  }

  // --- generator ground truth ---
  public static final String FAULT = "fault";
  public static final String ORIGINAL_UID = "original_uid";

  /** The generator's background style of the picture (plain, gradient, stripes, speckled). */
  public static final String BACKGROUND_STYLE = "background_style";
}
