package io.sparkclip.jobs.generate;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generator's query list, in rank order (rank 0 is the most frequent), and a Zipf sampler over
 * it. Entries are colour×shape phrases ("red circle"), colours, shapes, and pseudo-word "tags"
 * (e.g. "kobarime") that fill the list up to its size, so that a 500,000-query list like WIT's can
 * be produced. The list depends only on its size, never on the data seed.
 */
public final class QueryList {
  /** What a query constrains in the generated image. */
  public enum Kind {
    COMBO,
    COLOUR,
    SHAPE,
    TAG
  }

  public record Query(String text, Kind kind, int colour, int shape) {}

  private static final long RANK_ORDER_SEED = 0x5EED_C11FL;
  private static final String CONSONANTS = "bdfgklmnprstvz";
  private static final String VOWELS = "aeiou";
  private static final ConcurrentHashMap<Integer, QueryList> CACHE = new ConcurrentHashMap<>();

  private final List<Query> queries;
  private final double[] cdf;

  private QueryList(int size, double exponent) {
    List<Query> all = new ArrayList<>(size);
    for (int c = 0; c < Vocabulary.COLOURS.size(); c++) {
      for (int s = 0; s < Vocabulary.SHAPES.size(); s++) {
        all.add(
            new Query(
                Vocabulary.COLOURS.get(c).name() + " " + Vocabulary.SHAPES.get(s),
                Kind.COMBO,
                c,
                s));
      }
    }
    for (int c = 0; c < Vocabulary.COLOURS.size(); c++) {
      all.add(new Query(Vocabulary.COLOURS.get(c).name(), Kind.COLOUR, c, -1));
    }
    for (int s = 0; s < Vocabulary.SHAPES.size(); s++) {
      all.add(new Query(Vocabulary.SHAPES.get(s), Kind.SHAPE, -1, s));
    }
    for (int n = 0; all.size() < size; n++) {
      all.add(new Query(pseudoWord(n), Kind.TAG, -1, -1));
    }
    List<Query> chosen = new ArrayList<>(all.subList(0, size));
    Collections.shuffle(chosen, new Random(RANK_ORDER_SEED));
    this.queries = List.copyOf(chosen);
    this.cdf = zipfCdf(size, exponent);
  }

  /** The list of {@code size} queries with Zipf exponent {@code exponent}; cached per JVM. */
  public static QueryList of(int size, double exponent) {
    if (size < 1) {
      throw new IllegalArgumentException("query list size must be ≥ 1, got " + size);
    }
    int key = 31 * size + Double.hashCode(exponent);
    QueryList cached = CACHE.get(key);
    if (cached != null && cached.size() == size) {
      return cached;
    }
    QueryList fresh = new QueryList(size, exponent);
    CACHE.put(key, fresh);
    return fresh;
  }

  public int size() {
    return queries.size();
  }

  public Query get(int rank) {
    return queries.get(rank);
  }

  public List<Query> all() {
    return queries;
  }

  /** Draws a rank with probability proportional to 1 / (rank + 1)^exponent. */
  public int sampleRank(SplittableRandom rng) {
    double u = rng.nextDouble();
    int lo = 0;
    int hi = cdf.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The expected share of the most frequent query, for documentation and tests. */
  public double topShare() {
    return cdf[0];
  }

  static double[] zipfCdf(int n, double s) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int k = 0; k < n; k++) {
      sum += 1.0 / Math.pow(k + 1, s);
      cdf[k] = sum;
    }
    for (int k = 0; k < n; k++) {
      cdf[k] /= sum;
    }
    cdf[n - 1] = 1.0;
    return cdf;
  }

  /**
   * The n-th pseudo-word: consonant-vowel syllables, 3 of them for the first 70³ words, then 4.
   * Unique for every n below 70³ + 70⁴.
   */
  static String pseudoWord(int n) {
    int syllables = CONSONANTS.length() * VOWELS.length(); // 70
    int three = syllables * syllables * syllables;
    int count = n < three ? 3 : 4;
    int v = n < three ? n : n - three;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < count; i++) {
      int syl = v % syllables;
      v /= syllables;
      sb.append(CONSONANTS.charAt(syl / VOWELS.length()))
          .append(VOWELS.charAt(syl % VOWELS.length()));
    }
    return sb.toString();
  }
}
