package io.sparkclip.schemas;

import java.util.Arrays;
import java.util.List;

/** Values of the ground truth's {@link Columns#FAULT}: what the generator injected into a row. */
public enum FaultKind {
  /** Same bytes and caption as another pair, different URL. */
  EXACT_DUPLICATE("exact_duplicate"),
  /** Same bytes and caption, the same URL written differently (case, fragment, tracking query). */
  URL_DUPLICATE("url_duplicate"),
  /** Another pair's image re-encoded, resized or slightly cropped, with its own caption. */
  NEAR_DUPLICATE("near_duplicate"),
  /** Caption taken from a pair whose colour or shape differs: it does not describe the image. */
  SHUFFLED_CAPTION("shuffled_caption"),
  /** Image bytes truncated, random, or zero-length. */
  CORRUPT_IMAGE("corrupt_image"),
  /** Caption null, empty or whitespace only. */
  MISSING_CAPTION("missing_caption"),
  /** img2dataset {@code failed_to_download}: null bytes. */
  FAILED_DOWNLOAD("failed_download"),
  /**
   * An image of the held-out evaluation set ({@link StageFiles#EVAL_SET_DIR}) re-encoded, resized
   * or slightly cropped, with a caption of its own: what decontaminate must find. The ground
   * truth's {@code original_uid} is the eval item's key.
   */
  EVAL_COPY("eval_copy");

  private final String label;

  FaultKind(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public boolean isDuplicate() {
    return this == EXACT_DUPLICATE || this == URL_DUPLICATE || this == NEAR_DUPLICATE;
  }

  /** Faults that need image bytes; metadata-only data cannot have them. */
  public boolean needsImages() {
    return this == NEAR_DUPLICATE
        || this == CORRUPT_IMAGE
        || this == FAILED_DOWNLOAD
        || this == EVAL_COPY;
  }

  public static FaultKind fromLabel(String label) {
    return Arrays.stream(values())
        .filter(f -> f.label.equals(label))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown fault kind '" + label + "'; known: " + labels()));
  }

  public static List<String> labels() {
    return Arrays.stream(values()).map(FaultKind::label).toList();
  }
}
