package io.sparkclip.udfs.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Words and characters as Python's {@code len(s.split())} and {@code len(s)} give them. */
class CaptionCountsTest {
  @Test
  void wordsAreRunsOfNonWhitespaceAsPythonSplits() {
    assertThat(CaptionCounts.words("a photo of a cat")).as("spaces").isEqualTo(5);
    assertThat(CaptionCounts.words("  leading and trailing  ")).as("padding").isEqualTo(3);
    assertThat(CaptionCounts.words("tab\tnew\nline\r\nx")).as("tab, newlines").isEqualTo(4);
    // Python: 'red\xa0car'.split() == ['red', 'car']; Java's isWhitespace alone says one word.
    assertThat(CaptionCounts.words("red\u00a0car")).as("no-break space").isEqualTo(2);
    assertThat(CaptionCounts.words("a\u3000b\u2009c")).as("ideographic, thin space").isEqualTo(3);
    assertThat(CaptionCounts.words("a\u0085b")).as("NEL, whitespace in Python").isEqualTo(2);
    assertThat(CaptionCounts.words("a\u200bb")).as("zero-width space is not").isEqualTo(1);
    assertThat(CaptionCounts.words("猫の写真")).as("no spaces: one word, as in Python").isEqualTo(1);
    assertThat(CaptionCounts.words("")).as("empty").isZero();
  }

  @Test
  void charactersAreCodePoints() {
    assertThat(CaptionCounts.characters("cat")).as("ASCII").isEqualTo(3);
    assertThat(CaptionCounts.characters("\uD83D\uDC31 cat")).as("emoji counts once").isEqualTo(5);
    assertThat(CaptionCounts.characters("  ab  ")).as("padding counts").isEqualTo(6);
  }
}
