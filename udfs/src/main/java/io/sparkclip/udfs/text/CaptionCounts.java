package io.sparkclip.udfs.text;

/**
 * Word and character counts of a caption as DataComp's basic filter takes them from Python: words
 * are {@code len(text.split())}, the runs of non-whitespace, and characters are {@code len(text)},
 * Unicode code points of the caption as it is (a padded caption is longer; the word rule is the one
 * padding cannot fool). Shared by basic-filter, which decides on them, and the report, which charts
 * them, so the two count alike.
 */
public final class CaptionCounts {
  private CaptionCounts() {}

  /** Maximal runs of non-whitespace code points; whitespace as Python's {@code str.isspace()}. */
  public static int words(String caption) {
    int words = 0;
    boolean inWord = false;
    for (int i = 0; i < caption.length(); ) {
      int cp = caption.codePointAt(i);
      boolean space = isSpace(cp);
      if (!space && !inWord) {
        words++;
      }
      inWord = !space;
      i += Character.charCount(cp);
    }
    return words;
  }

  /** Unicode code points (Python's {@code len}); a character outside the BMP counts once. */
  public static int characters(String caption) {
    return caption.codePointCount(0, caption.length());
  }

  /**
   * Python's whitespace: Java's whitespace (which leaves out the no-break spaces), the Unicode
   * space separators (which include them), and NEL (U+0085), which only Python counts.
   */
  static boolean isSpace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
  }
}
