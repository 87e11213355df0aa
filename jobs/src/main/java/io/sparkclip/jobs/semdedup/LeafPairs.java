package io.sparkclip.jobs.semdedup;

import io.sparkclip.udfs.embed.Vectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * All pairs of one leaf with cosine ≥ a bound, in memory: the leaf's unit vectors as a matrix, the
 * dot products of one row with all later rows as a sum of scaled columns (a loop the JIT
 * vectorises), so n rows cost n²/2 × d multiply-adds in float. A pair within {@value #SLACK} of the
 * bound in float is confirmed by {@link Vectors#cosine} in double on the original vectors, so the
 * decision is the one {@code clip_cosine} makes.
 */
final class LeafPairs {
  /** Far above the float rounding of a 1,024-term dot product of unit vectors (≈ 1e-5). */
  static final double SLACK = 1e-3;

  private LeafPairs() {}

  /** (src, dst) with src &lt; dst, for every pair of {@code points} with cosine ≥ {@code min}. */
  static List<long[]> pairs(List<ClusterTree.Point> points, double min) {
    int n = points.size();
    List<long[]> out = new ArrayList<>();
    if (n < 2) {
      return out;
    }
    List<ClusterTree.Point> pts = new ArrayList<>(points);
    pts.sort(Comparator.comparingLong(ClusterTree.Point::id));
    int d = pts.get(0).vec().length;
    float[][] u = new float[n][];
    float[][] t = new float[d][n];
    for (int j = 0; j < n; j++) {
      u[j] = SphericalKMeans.unit(pts.get(j).vec());
      for (int k = 0; k < d; k++) {
        t[k][j] = u[j][k];
      }
    }
    float bound = (float) (min - SLACK);
    float[] acc = new float[n];
    for (int i = 0; i < n - 1; i++) {
      int from = i + 1;
      Arrays.fill(acc, from, n, 0f);
      float[] ui = u[i];
      for (int k = 0; k < d; k++) {
        float s = ui[k];
        if (s == 0f) {
          continue;
        }
        float[] col = t[k];
        for (int j = from; j < n; j++) {
          acc[j] += s * col[j];
        }
      }
      float[] a = pts.get(i).vec();
      for (int j = from; j < n; j++) {
        if (acc[j] >= bound
            && pts.get(i).id() != pts.get(j).id()
            && Vectors.cosine(a, pts.get(j).vec()) >= min) {
          out.add(new long[] {pts.get(i).id(), pts.get(j).id()});
        }
      }
    }
    return out;
  }
}
