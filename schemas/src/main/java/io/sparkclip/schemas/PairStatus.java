package io.sparkclip.schemas;

import java.util.List;

/** Values of {@link Columns#PAIR_STATUS}. Rows are never dropped for these: they carry them. */
public final class PairStatus {
  private PairStatus() {}

  /** Caption present, and image bytes present (or the layout has no images). */
  public static final String OK = "ok";

  /** Image bytes null or empty (e.g. img2dataset {@code failed_to_download}). */
  public static final String MISSING_IMAGE = "missing_image";

  /** Caption null, empty or whitespace only. */
  public static final String MISSING_CAPTION = "missing_caption";

  /** Both of the above. */
  public static final String MISSING_IMAGE_AND_CAPTION = "missing_image_and_caption";

  /**
   * A WebDataset or files sample that cannot be used as read: its tar was truncated inside it, it
   * has no image member or two, its caption is not UTF-8 or its json not JSON ({@link
   * Columns#SAMPLE_ERROR} says which).
   */
  public static final String INVALID_SAMPLE = "invalid_sample";

  public static final List<String> ALL =
      List.of(OK, MISSING_IMAGE, MISSING_CAPTION, MISSING_IMAGE_AND_CAPTION, INVALID_SAMPLE);
}
