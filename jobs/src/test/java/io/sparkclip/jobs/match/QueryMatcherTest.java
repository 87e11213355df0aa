package io.sparkclip.jobs.match;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class QueryMatcherTest {
  private final QueryMatcher m =
      QueryMatcher.of(List.of("red", "red circle", "Circle", "New York", "c++", "naïve"));

  @Test
  void matchesWholeWordsCaseAndPunctuationInsensitive() {
    assertThat(m.match("A RED, circle!"))
        .as("overlapping queries all match, case and punctuation ignored")
        .containsExactly("red", "red circle", "Circle");
    assertThat(m.match("a redder circles")).as("no match inside a longer word").isEmpty();
    assertThat(m.match("new   york\tskyline"))
        .as("whitespace runs are normalised")
        .containsExactly("New York");
    assertThat(m.match("I love NEW-YORK")).as("punctuation is a word break").contains("New York");
    assertThat(m.match("naïve art")).as("unicode letters are word characters").contains("naïve");
  }

  @Test
  void reportsEachQueryOnceAndHandlesBlankInput() {
    assertThat(m.match("red red red")).as("each query once").containsExactly("red");
    assertThat(m.match(null)).as("null caption").isEmpty();
    assertThat(m.match(" ... ")).as("punctuation-only caption").isEmpty();
  }

  @Test
  void queriesNormalisingToTheSameTextAreOnePattern() {
    QueryMatcher dup = QueryMatcher.of(List.of("Red Circle", "red-circle", " ", "blue"));
    assertThat(dup.size()).as("patterns after normalisation and blank removal").isEqualTo(2);
    assertThat(dup.duplicates()).as("duplicates counted").isEqualTo(1);
    assertThat(dup.match("red circle")).as("first spelling reported").containsExactly("Red Circle");
  }
}
