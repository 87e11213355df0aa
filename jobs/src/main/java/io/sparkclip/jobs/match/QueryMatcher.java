package io.sparkclip.jobs.match;

import io.sparkclip.jobs.stage.TextNormalizer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ahocorasick.trie.PayloadEmit;
import org.ahocorasick.trie.PayloadTrie;

/**
 * Finds every query of a list in a caption with one Aho-Corasick automaton ({@code
 * org.ahocorasick}). Matching is case-insensitive, whitespace- and punctuation-normalised and on
 * word boundaries: both sides go through {@link #normalize} (NFKC, lower case, every run of
 * non-letters/digits becomes one space) and are padded with a space, so " red circle " matches in "
 * a red circle on the left " but " red " does not match in " redder ". Overlapping matches are all
 * reported ("red" and "red circle" both match "a red circle"). Pure Java; no Spark.
 */
public final class QueryMatcher {

  private final PayloadTrie<Integer> trie;
  private final String[] queries;
  private final int duplicates;

  private QueryMatcher(PayloadTrie<Integer> trie, String[] queries, int duplicates) {
    this.trie = trie;
    this.queries = queries;
    this.duplicates = duplicates;
  }

  /**
   * Builds the automaton. Blank queries are skipped; queries that normalise to the same text are
   * one pattern, reported as the first of them.
   */
  public static QueryMatcher of(List<String> queryList) {
    PayloadTrie.PayloadTrieBuilder<Integer> b = PayloadTrie.builder();
    Map<String, Integer> seen = new HashMap<>();
    List<String> kept = new ArrayList<>();
    int dup = 0;
    for (String q : queryList) {
      if (q == null) {
        continue;
      }
      String n = TextNormalizer.normalize(q);
      if (n.isEmpty()) {
        continue;
      }
      if (seen.putIfAbsent(n, kept.size()) != null) {
        dup++;
        continue;
      }
      b.addKeyword(" " + n + " ", kept.size());
      kept.add(q);
    }
    return new QueryMatcher(b.build(), kept.toArray(String[]::new), dup);
  }

  /**
   * The queries found in the caption, each once, in the order they start in it (a shorter query
   * before a longer one starting at the same word).
   */
  public String[] match(String caption) {
    if (caption == null) {
      return new String[0];
    }
    String n = TextNormalizer.normalize(caption);
    if (n.isEmpty()) {
      return new String[0];
    }
    Collection<PayloadEmit<Integer>> emits = trie.parseText(" " + n + " ");
    if (emits.isEmpty()) {
      return new String[0];
    }
    // The automaton emits by end position; report by start (then shorter first) instead.
    List<PayloadEmit<Integer>> ordered = new ArrayList<>(emits);
    ordered.sort(
        java.util.Comparator.<PayloadEmit<Integer>>comparingInt(PayloadEmit::getStart)
            .thenComparingInt(PayloadEmit::getEnd));
    Set<Integer> found = new LinkedHashSet<>();
    for (PayloadEmit<Integer> e : ordered) {
      found.add(e.getPayload());
    }
    String[] out = new String[found.size()];
    int i = 0;
    for (int idx : found) {
      out[i++] = queries[idx];
    }
    return out;
  }

  /** Distinct patterns in the automaton. */
  public int size() {
    return queries.length;
  }

  /** Queries dropped because they normalise to the same text as an earlier one. */
  public int duplicates() {
    return duplicates;
  }
}
