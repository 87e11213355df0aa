package io.sparkclip.jobs.download;

import java.util.Locale;

/** img2dataset's resize modes (its {@code resize_mode} values). */
enum ResizeMode {
  /** Keep the downloaded bytes as they are. */
  NO,
  /** Scale so that the short side is {@code image_size}. */
  KEEP_RATIO,
  /** {@link #KEEP_RATIO}, then the centred {@code image_size} square. */
  CENTER_CROP,
  /** Scale so that the long side is {@code image_size}, then pad with white to a square. */
  BORDER;

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The mode a label names ({@code keep_ratio}, also {@code keep-ratio}), or null. */
  static ResizeMode parse(String s) {
    for (ResizeMode m : values()) {
      if (m.label().equals(s.trim().toLowerCase(Locale.ROOT).replace('-', '_'))) {
        return m;
      }
    }
    return null;
  }
}
