package io.sparkclip.udfs.preprocess;

/**
 * The PIL image mode a decoded image corresponds to; it decides how open_clip's transform resizes
 * it (Pillow resizes "P" with NEAREST and "RGBA" in premultiplied alpha) and how {@code
 * convert("RGB")} maps it.
 */
public enum PilMode {
  /** 8-bit grayscale, 1 band. */
  L(1),
  /** 8-bit RGB, 3 bands. */
  RGB(3),
  /** RGB with straight alpha, 4 bands (LA images are stored here with replicated gray). */
  RGBA(4),
  /** A palette image already expanded through its palette to RGB, 3 bands; resized NEAREST. */
  P(3),
  /** CMYK (0 = no ink), 4 bands; converted with Pillow's cmyk2rgb. */
  CMYK(4);

  private final int bands;

  PilMode(int bands) {
    this.bands = bands;
  }

  public int bands() {
    return bands;
  }
}
