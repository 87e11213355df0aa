package io.sparkclip.jobs.stage;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The caption normal form that query matching and caption dedup share, so that a caption matches a
 * query and duplicates another caption under the same rules.
 */
public final class TextNormalizer {
  private static final Pattern NON_WORD = Pattern.compile("[^\\p{L}\\p{N}]+");

  private TextNormalizer() {}

  /** NFKC, lower case (locale-independent), non-letter/digit runs to one space, trimmed. */
  public static String normalize(String s) {
    String n = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
    return NON_WORD.matcher(n).replaceAll(" ").trim();
  }
}
