package io.sparkclip.jobs.stage;

/**
 * Option keys more than one stage reads, with their defaults. A command's flag is {@code --KEY};
 * curate's config takes the same key in the stage's section or at the top level.
 */
public final class StageKeys {
  private StageKeys() {}

  public static final String INPUT = "input";
  public static final String OUT = "out";
  public static final String OVERWRITE = "overwrite";
  public static final boolean OVERWRITE_DEFAULT = false;

  // --- column mapping (override layout detection) ---
  public static final String CAPTION_COL = "caption-col";
  public static final String IMAGE_COL = "image-col";
  public static final String URL_COL = "url-col";
  public static final String QUERY_COL = "query-col";
  public static final String ID_COL = "id-col";

  // --- the CLIP engine (embed, score) ---
  public static final String MODEL = "model";
  public static final String BATCH_SIZE = "batch-size";

  /** Images or captions per ONNX session run. */
  public static final int BATCH_SIZE_DEFAULT = 32;

  public static final String DEVICE = "device";

  /** The task's GPU when it holds one, else the CPU. */
  public static final String DEVICE_DEFAULT = "auto";

  // --- duplicate clusters (dedup, semdedup) ---
  public static final String KEEP = "keep";
  public static final String KEEP_DEFAULT = "largest";
  public static final String MARK_ONLY = "mark-only";
  public static final boolean MARK_ONLY_DEFAULT = false;
  public static final String MAX_ITERATIONS = "max-iterations";
  public static final int MAX_ITERATIONS_DEFAULT = 50;

  // --- copy detection (dedup's near-image step, decontaminate) ---
  public static final String PHASH_DISTANCE = "phash-distance";

  /**
   * Largest pHash Hamming distance of a near-duplicate candidate pair. Light crops (1–5 % per side)
   * move pHash by up to 14 bits on the generator's ground truth.
   */
  public static final int PHASH_DISTANCE_DEFAULT = 14;

  public static final String IMAGE_DISTANCE = "image-distance";

  /**
   * Largest {@link io.sparkclip.jobs.stage.copydetect.CropTolerantThumbnail} distance (0..255: mean
   * difference of the 5 % most different cells of the crop-aligned 48×48 RGB thumbnails) that
   * confirms a candidate pair as copies. Measured on the generator's ground truth: copies at most
   * 11.6, distinct images at least 17.0.
   */
  public static final double IMAGE_DISTANCE_DEFAULT = 14.0;
}
