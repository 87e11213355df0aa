package io.sparkclip.schemas;

/** The input layouts sparkclip recognises. */
public enum InputLayout {
  /** img2dataset Parquet: url, caption, binary image column (jpg/png/webp), key, status, … */
  IMG2DATASET("img2dataset"),
  /** Hugging Face datasets: {@code image} struct {bytes, path} plus text or caption. */
  HUGGING_FACE("huggingface"),
  /** LAION-style metadata: url plus caption/TEXT, no image bytes. */
  METADATA_ONLY("metadata-only");

  private final String label;

  InputLayout(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public boolean hasImages() {
    return this != METADATA_ONLY;
  }
}
