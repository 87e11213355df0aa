package io.sparkclip.jobs.semdedup;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Spherical k-means (cosine distance) on a small in-memory sample: k-means++ seeding, then Lloyd
 * rounds of "nearest centre by dot product, centre = normalised mean" until no point moves or
 * {@code maxIter} rounds. Cost {@code n × k × d} per round; one node of {@link ClusterTree} trains
 * on at most a few thousand rows, so this runs inside one task.
 */
final class SphericalKMeans {
  private SphericalKMeans() {}

  /**
   * @param x unit vectors, in a fixed order (the result depends on it and on {@code seed} only)
   * @return at most {@code k} unit centres (fewer if the sample has fewer distinct points); every
   *     centre has at least one sample point nearest to it
   */
  static float[][] train(float[][] x, int k, int maxIter, long seed) {
    int n = x.length;
    if (n == 0) {
      return new float[0][];
    }
    float[][] c = seed(x, Math.min(k, n), new SplittableRandom(seed));
    int[] assign = new int[n];
    Arrays.fill(assign, -1);
    double[] best = new double[n];
    int d = x[0].length;
    for (int it = 0; it < maxIter; it++) {
      boolean moved = assignAll(x, c, assign, best);
      if (!moved) {
        break;
      }
      double[][] sum = new double[c.length][d];
      int[] size = new int[c.length];
      for (int i = 0; i < n; i++) {
        double[] s = sum[assign[i]];
        float[] v = x[i];
        for (int j = 0; j < d; j++) {
          s[j] += v[j];
        }
        size[assign[i]]++;
      }
      for (int j = 0; j < c.length; j++) {
        if (size[j] == 0) {
          // An empty centre restarts at the point farthest from its own centre.
          int far = 0;
          for (int i = 1; i < n; i++) {
            if (best[i] < best[far]) {
              far = i;
            }
          }
          c[j] = x[far].clone();
          best[far] = 1;
        } else {
          c[j] = unit(sum[j]);
        }
      }
    }
    assignAll(x, c, assign, best);
    int[] size = new int[c.length];
    for (int a : assign) {
      size[a]++;
    }
    java.util.List<float[]> used = new java.util.ArrayList<>();
    for (int j = 0; j < c.length; j++) {
      if (size[j] > 0) {
        used.add(c[j]);
      }
    }
    return used.toArray(float[][]::new);
  }

  /** Index of the centre with the largest dot product with {@code v} (the first on a tie). */
  static int nearest(float[][] c, float[] v) {
    int arg = 0;
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < c.length; j++) {
      double s = dot(c[j], v);
      if (s > max) {
        max = s;
        arg = j;
      }
    }
    return arg;
  }

  static double dot(float[] a, float[] b) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int n = a.length;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += a[i] * b[i];
      s1 += a[i + 1] * b[i + 1];
      s2 += a[i + 2] * b[i + 2];
      s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
      s0 += a[i] * b[i];
    }
    return (double) s0 + s1 + s2 + s3;
  }

  static float[] unit(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    float[] out = new float[v.length];
    if (s > 0) {
      double inv = 1 / Math.sqrt(s);
      for (int i = 0; i < v.length; i++) {
        out[i] = (float) (v[i] * inv);
      }
    }
    return out;
  }

  private static float[] unit(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    float[] out = new float[v.length];
    double inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] * inv);
    }
    return out;
  }

  private static boolean assignAll(float[][] x, float[][] c, int[] assign, double[] best) {
    boolean moved = false;
    for (int i = 0; i < x.length; i++) {
      int a = nearest(c, x[i]);
      best[i] = dot(c[a], x[i]);
      if (a != assign[i]) {
        assign[i] = a;
        moved = true;
      }
    }
    return moved;
  }

  /** k-means++: each next centre drawn with probability ∝ (cosine distance to the nearest)². */
  private static float[][] seed(float[][] x, int k, SplittableRandom r) {
    int n = x.length;
    float[][] c = new float[k][];
    c[0] = x[r.nextInt(n)];
    double[] dist = new double[n];
    for (int i = 0; i < n; i++) {
      dist[i] = sq(1 - dot(c[0], x[i]));
    }
    int m = 1;
    while (m < k) {
      double total = 0;
      for (double v : dist) {
        total += v;
      }
      if (!(total > 1e-12)) {
        break; // fewer distinct points than k
      }
      double t = r.nextDouble() * total;
      int pick = n - 1;
      for (int i = 0; i < n; i++) {
        t -= dist[i];
        if (t < 0) {
          pick = i;
          break;
        }
      }
      c[m++] = x[pick];
      for (int i = 0; i < n; i++) {
        dist[i] = Math.min(dist[i], sq(1 - dot(x[pick], x[i])));
      }
    }
    float[][] out = new float[m][];
    for (int j = 0; j < m; j++) {
      out[j] = c[j].clone();
    }
    return out;
  }

  private static double sq(double v) {
    double p = Math.max(0, v);
    return p * p;
  }
}
