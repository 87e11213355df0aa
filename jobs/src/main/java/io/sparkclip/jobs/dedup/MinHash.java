package io.sparkclip.jobs.dedup;

import java.util.HashSet;
import java.util.Set;

/**
 * MinHash over character shingles, with LSH banding, for near-duplicate captions. Written here
 * rather than taken from Spark MLlib: {@code spark-mllib} is not published for Spark 4.2, and its
 * {@code MinHashLSH} needs vectorised sparse features anyway. Pure Java, no Spark.
 */
public final class MinHash {
  private MinHash() {}

  /** Character k-shingles of a normalised text; a text shorter than k is one shingle. */
  public static Set<String> shingles(String text, int k) {
    Set<String> s = new HashSet<>();
    if (text == null || text.isEmpty()) {
      return s;
    }
    if (text.length() <= k) {
      s.add(text);
      return s;
    }
    for (int i = 0; i + k <= text.length(); i++) {
      s.add(text.substring(i, i + k));
    }
    return s;
  }

  public static double jaccard(Set<String> a, Set<String> b) {
    if (a.isEmpty() && b.isEmpty()) {
      return 1.0;
    }
    int inter = 0;
    for (String x : a) {
      if (b.contains(x)) {
        inter++;
      }
    }
    return inter / (double) (a.size() + b.size() - inter);
  }

  /**
   * {@code bands} band signatures of {@code rows} min-hashes each. Two texts share a band with
   * probability 1 − (1 − J^rows)^bands, J their shingle Jaccard similarity.
   */
  public static long[] bands(String text, int k, int bands, int rows) {
    Set<String> sh = shingles(text, k);
    int n = bands * rows;
    long[] min = new long[n];
    java.util.Arrays.fill(min, Long.MAX_VALUE);
    for (String s : sh) {
      long base = fnv1a(s);
      for (int i = 0; i < n; i++) {
        long h = mix(base ^ (0x9E3779B97F4A7C15L * (i + 1)));
        if (h < min[i]) {
          min[i] = h;
        }
      }
    }
    long[] out = new long[bands];
    for (int b = 0; b < bands; b++) {
      long h = 0x632BE59BD9B4E019L * (b + 1);
      for (int r = 0; r < rows; r++) {
        h = mix(h ^ min[b * rows + r]);
      }
      out[b] = h;
    }
    return out;
  }

  static long fnv1a(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
