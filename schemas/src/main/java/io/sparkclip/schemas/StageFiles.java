package io.sparkclip.schemas;

/**
 * Names of the files and folders stages write and read. A stage reads another stage's output
 * through these names, never through the other stage's class.
 */
public final class StageFiles {
  private StageFiles() {}

  // --- every curation stage's output directory ---
  /** The rows kept (Parquet): the next stage's input. */
  public static final String DATA_DIR = "data";

  /** One {@link Schemas#REJECTS} row per row removed. */
  public static final String REJECTS_DIR = "rejects";

  /** Rows in, out and rejected per stage and reason. */
  public static final String SUMMARY_FILE = "_summary.json";

  /** The key of a summary's stage-specific fields. */
  public static final String SUMMARY_DETAILS = "details";

  /**
   * basic-filter's summary details: the numeric bound of each active check, keyed by the check's
   * reject reason ({@code image_too_small: 200}); the report marks them on its histograms.
   */
  public static final String SUMMARY_CHECK_BOUNDS = "bounds";

  /** basic-filter's summary details: the languages kept captions are in; absent if none asked. */
  public static final String SUMMARY_LANGUAGES = "languages";

  /** Per-query counts (match-queries, balance). */
  public static final String QUERY_COUNTS_DIR = "query_counts";

  // --- curate's output root ---
  /** Rows in/out and rejects of every stage of a curate run. */
  public static final String FUNNEL_FILE = "_funnel.json";

  /** Decisions measured against a generator ground truth (evaluate). */
  public static final String EVALUATION_FILE = "_evaluation.json";

  // --- embed's shard commit log ---
  public static final String EMBED_STAGING_DIR = "_staging";

  /**
   * Reliable checkpoints of a stage's intermediate frames on a cluster (dedup, semdedup), deleted
   * when the stage ends.
   */
  public static final String CHECKPOINT_DIR = "_checkpoints";

  public static final String EMBED_COMMITTED_DIR = "_committed";
  public static final String EMBED_MANIFEST_FILE = "_embed.json";

  /** download's resume manifest: the options that change the stored images. */
  public static final String DOWNLOAD_MANIFEST_FILE = "_download.json";

  // --- decontaminate's output, beside data/ and rejects/ ---
  /** Per evaluation set: items, items found in the pool, % of the set, pool rows matched. */
  public static final String EVAL_OVERLAP_FILE = "_eval_overlap.json";

  /**
   * Every matched pair (Parquet): pool uid, eval set, eval id, distance; what the overlap table
   * counts.
   */
  public static final String EVAL_OVERLAP_DIR = "eval_overlap";

  /** A bounded sample of matched pairs with both images (Parquet), for the report. */
  public static final String EVAL_OVERLAP_SAMPLES_DIR = "eval_overlap_samples";

  // --- generate's output ---
  /** The injected faults and their originals, beside the generated pairs. */
  public static final String GROUND_TRUTH_DIR = "_ground_truth";

  /**
   * What each picture shows ({@link Schemas#SCENES}), as JSON lines so that a training script reads
   * it without a Parquet library (tools/train_demo_heads.py).
   */
  public static final String SCENES_DIR = "_ground_truth_scenes";

  /**
   * The generator's held-out evaluation set (with {@code --eval-copies}): a folder of image files,
   * {@code {key}.jpg} and {@code {key}.txt}, some of which the pool holds copies of.
   */
  public static final String EVAL_SET_DIR = "_eval_set";

  public static final String QUERIES_FILE = "queries.txt";
  public static final String GENERATE_SUMMARY_FILE = "_sparkclip_generate.json";
  public static final String IMAGES_DIR = "images";
  public static final String CAPTIONS_FILE = "captions.tsv";
}
