package io.sparkclip.jobs.stage.copydetect;

import java.util.Arrays;

/**
 * A small RGB thumbnail and a distance between two of them that tolerates re-encoding, resizing and
 * light crops: the near-duplicate confirmation after pHash candidates.
 *
 * <p>pHash (64 bits of the 8×8 lowest frequencies of a 32×32 luma image) groups images whose coarse
 * layouts agree; many distinct images agree that coarsely (web banners, product shots on white, the
 * generator's one shape among grey clutter). A copy agrees cell by cell once its crop is undone,
 * and a distinct image differs somewhere, often in a small part only. So the distance:
 *
 * <ol>
 *   <li>estimates the crop (margins of up to {@link #MAX_CROP} per side) from the row and column
 *       mean profiles, then refines it on the luma thumbnail by coordinate descent, in both
 *       directions (a cut from b, b cut from a), keeping the better fit;
 *   <li>compares each cell with the aligned other thumbnail, allowing half a cell of residual
 *       misalignment (the smallest difference among 3×3 sub-cell offsets, mean over R, G, B);
 *   <li>returns the mean of the largest {@link #WORST_FRACTION} of these cell differences (0..255):
 *       a copy differs little everywhere, a distinct image a lot somewhere.
 * </ol>
 *
 * <p>On the generator's ground truth (3 seeds, 244 injected near duplicates, 2,587 distinct pairs
 * within pHash 14 and colour 12), copies stayed at or below 11.6 and distinct pairs at or above
 * 17.0 (dedup's and decontaminate's default image distance is 14). Pure Java, no Spark,
 * thread-safe.
 */
public final class CropTolerantThumbnail {
  /** Cells per side. */
  public static final int SIZE = 48;

  /** Channels per cell (R, G, B). */
  static final int CHANNELS = 3;

  /** Bytes of one thumbnail. */
  public static final int BYTES = SIZE * SIZE * CHANNELS;

  /** Largest crop searched per side, as a fraction of the side. */
  static final double MAX_CROP = 0.08;

  /** The share of most-different cells whose mean is the distance. */
  static final double WORST_FRACTION = 0.05;

  /**
   * {@link #within} refines the crop only for pairs whose distance at the profile-fitted crop is at
   * most this many times the limit in one direction.
   */
  static final double PROFILE_REJECT = 2.0;

  /** Residual misalignment allowed per cell, in cells. */
  private static final double SLACK = 0.5;

  /** Sub-cell offsets of the residual misalignment, per axis (declared before the tables). */
  private static final double[] OFFSETS = {-SLACK, 0, SLACK};

  /** Index of the zero offset in {@link #OFFSETS}. */
  private static final int CENTRE = 1;

  /** Grid step of the profile search; the descent refines down to a quarter of it. */
  private static final double STEP = 0.005;

  private CropTolerantThumbnail() {}

  /**
   * The thumbnail of packed {@code 0xRRGGBB} pixels ({@code w × h}, row-major): each cell the mean
   * of the source pixels it covers; {@link #BYTES} bytes, R, G, B per cell.
   */
  public static byte[] of(int[] rgb, int w, int h) {
    return gridMeans(rgb, w, h, SIZE);
  }

  /**
   * Box means of packed {@code 0xRRGGBB} pixels ({@code w × h}, row-major) on a {@code grid × grid}
   * grid: each cell the rounded mean of the source pixels it covers (at least one), R, G, B bytes
   * per cell, row-major.
   */
  static byte[] gridMeans(int[] rgb, int w, int h, int grid) {
    byte[] out = new byte[grid * grid * CHANNELS];
    for (int ty = 0; ty < grid; ty++) {
      int y0 = ty * h / grid;
      int y1 = Math.max(y0 + 1, (ty + 1) * h / grid);
      for (int tx = 0; tx < grid; tx++) {
        int x0 = tx * w / grid;
        int x1 = Math.max(x0 + 1, (tx + 1) * w / grid);
        long r = 0;
        long g = 0;
        long b = 0;
        for (int y = y0; y < y1; y++) {
          int row = y * w;
          for (int x = x0; x < x1; x++) {
            int p = rgb[row + x];
            r += (p >> 16) & 0xff;
            g += (p >> 8) & 0xff;
            b += p & 0xff;
          }
        }
        long n = (long) (y1 - y0) * (x1 - x0);
        int o = (ty * grid + tx) * CHANNELS;
        out[o] = (byte) Math.round((double) r / n);
        out[o + 1] = (byte) Math.round((double) g / n);
        out[o + 2] = (byte) Math.round((double) b / n);
      }
    }
    return out;
  }

  /** Crop-tolerant distance (0..255) of two thumbnails; symmetric. */
  public static double distance(byte[] a, byte[] b) {
    check(a);
    check(b);
    double[] la = luma(a);
    double[] lb = luma(b);
    double[] ab = align(la, lb);
    double[] ba = align(lb, la);
    return ab[4] <= ba[4] ? worstCells(a, b, ab) : worstCells(b, a, ba);
  }

  /**
   * Whether {@link #distance} is at most {@code limit}, trying the unshifted alignment first: a
   * re-encoded or resized copy passes there at a fraction of the crop search's cost, which keeps
   * clusters of thousands of copies of one image cheap to confirm.
   */
  public static boolean within(byte[] a, byte[] b, double limit) {
    check(a);
    check(b);
    if (!exceeds(a, b, new double[] {0, 0, 0, 0}, limit)) {
      return true;
    }
    // Most distinct pairs that pass the pHash and colour limits stop here, before the profile fit.
    if (everyAlignmentExceeds(a, b, limit) && everyAlignmentExceeds(b, a, limit)) {
      return false;
    }
    double[] la = luma(a);
    double[] lb = luma(b);
    double[] pab = profileMargins(la, lb);
    double[] pba = profileMargins(lb, la);
    // The crop the profiles suggest is within a quarter cell of the refined one, which the
    // half-cell slack of the cell comparison absorbs: a pair that is far off there in both
    // directions is not refined (the descent below costs about a hundred full-image errors).
    double coarse = PROFILE_REJECT * limit;
    if (exceeds(a, b, pab, coarse) && exceeds(b, a, pba, coarse)) {
      return false;
    }
    double[] ab = refine(la, lb, pab);
    double[] ba = refine(lb, la, pba);
    return ab[4] <= ba[4] ? !exceeds(a, b, ab, limit) : !exceeds(b, a, ba, limit);
  }

  /**
   * Whether {@link #worstExceeds} exceeds {@code limit} at every margins the crop search can reach
   * (each side in [0, {@link #MAX_CROP}]): a lower bound of every alignment's cell differences.
   * Whatever the margins, cell (x, y) of the crop is compared with bilinear samples of the full
   * thumbnail within half a cell of a position in a fixed range ({@link #REACH_LOW} to {@link
   * #REACH_HIGH}: about six cells per axis), so per channel its difference is at least the distance
   * of its value to the range of those cells; the mean of the largest {@link #WORST_FRACTION} of
   * these bounds is at most that of any alignment's differences. Pairs of distinct images whose
   * shapes or colours differ in more than a few percent of the cells stop here, before the profile
   * fit and the crop search.
   */
  static boolean everyAlignmentExceeds(byte[] crop, byte[] full, double limit) {
    int cells = SIZE * SIZE;
    // Per channel, the range of full over each cell's reach along its row, computed row by row as
    // the crop's rows need them (most distinct pairs stop within the first rows).
    int[] rowLo = new int[cells * CHANNELS];
    int[] rowHi = new int[cells * CHANNELS];
    int rowsDone = 0;
    int worst = (int) Math.ceil(cells * WORST_FRACTION);
    // Rounding of the sums in the other orders the exact checks use stays far below this margin.
    double bound = (limit + 1e-6) * worst;
    LargestSum largest = new LargestSum(worst);
    for (int y = 0; y < SIZE; y++) {
      for (; rowsDone <= REACH_HIGH[y]; rowsDone++) {
        rowRanges(full, rowsDone, rowLo, rowHi);
      }
      int first = REACH_LOW[y];
      int last = REACH_HIGH[y];
      for (int x = 0; x < SIZE; x++) {
        int o = (y * SIZE + x) * CHANNELS;
        double d = 0;
        for (int c = 0; c < CHANNELS; c++) {
          int min = 255;
          int max = 0;
          for (int r = first; r <= last; r++) {
            int i = (r * SIZE + x) * CHANNELS + c;
            min = Math.min(min, rowLo[i]);
            max = Math.max(max, rowHi[i]);
          }
          int v = crop[o + c] & 0xff;
          d += v < min ? min - v : v > max ? v - max : 0;
        }
        d /= CHANNELS;
        if (largest.addExceeds(d, bound)) {
          return true;
        }
      }
    }
    return largest.sum() > bound;
  }

  /**
   * The smallest and largest value of row {@code y} of {@code full}, per channel, over each cell's
   * reach along the row. A reach spans {@value #REACH_MIN_WIDTH} to {@value #REACH_MAX_WIDTH}
   * cells, so its extremes are those of two overlapping runs of four.
   */
  private static void rowRanges(byte[] full, int y, int[] lo, int[] hi) {
    int[] fourLo = new int[SIZE * CHANNELS];
    int[] fourHi = new int[SIZE * CHANNELS];
    int r = y * SIZE * CHANNELS;
    for (int i = 0; i + 3 * CHANNELS < SIZE * CHANNELS; i++) {
      int a = full[r + i] & 0xff;
      int b = full[r + i + CHANNELS] & 0xff;
      int c = full[r + i + 2 * CHANNELS] & 0xff;
      int d = full[r + i + 3 * CHANNELS] & 0xff;
      fourLo[i] = Math.min(Math.min(a, b), Math.min(c, d));
      fourHi[i] = Math.max(Math.max(a, b), Math.max(c, d));
    }
    for (int x = 0; x < SIZE; x++) {
      int a = REACH_LOW[x] * CHANNELS;
      int b = (REACH_HIGH[x] - 3) * CHANNELS;
      for (int c = 0; c < CHANNELS; c++) {
        lo[r + x * CHANNELS + c] = Math.min(fourLo[a + c], fourLo[b + c]);
        hi[r + x * CHANNELS + c] = Math.max(fourHi[a + c], fourHi[b + c]);
      }
    }
  }

  /** Narrowest and widest reach (checked when the class loads). */
  static final int REACH_MIN_WIDTH = 4;

  static final int REACH_MAX_WIDTH = 8;

  /**
   * First and last cell of the full thumbnail that cell {@code c} of a crop can be compared with
   * along one axis, over every margins in [0, {@link #MAX_CROP}] and offset within {@link #SLACK}:
   * the position is smallest with no margin before and the largest after, largest the other way
   * round; widened by a rounding margin.
   */
  private static final int[] REACH_LOW = new int[SIZE];

  private static final int[] REACH_HIGH = new int[SIZE];

  static {
    for (int c = 0; c < SIZE; c++) {
      REACH_LOW[c] = (int) clamp(position(0, 1 - MAX_CROP, c) - SLACK - 1e-6);
      REACH_HIGH[c] =
          Math.min(SIZE - 1, (int) clamp(position(MAX_CROP, 1 - MAX_CROP, c) + SLACK + 1e-6) + 1);
      int width = REACH_HIGH[c] - REACH_LOW[c] + 1;
      if (width < REACH_MIN_WIDTH || width > REACH_MAX_WIDTH) {
        throw new IllegalStateException("reach of cell " + c + " spans " + width + " cells");
      }
    }
  }

  /** {@link #worstExceeds}, decided by the cheaper lower bound where that suffices. */
  private static boolean exceeds(byte[] crop, byte[] full, double[] m, double limit) {
    return boundExceeds(crop, full, m, limit) || worstExceeds(crop, full, m, limit);
  }

  private static void check(byte[] t) {
    if (t == null || t.length != BYTES) {
      throw new IllegalArgumentException(
          "thumbnail must have " + BYTES + " bytes, got " + (t == null ? "null" : t.length));
    }
  }

  static double[] luma(byte[] t) {
    double[] l = new double[SIZE * SIZE];
    for (int i = 0; i < l.length; i++) {
      int o = i * CHANNELS;
      l[i] = 0.299 * (t[o] & 0xff) + 0.587 * (t[o + 1] & 0xff) + 0.114 * (t[o + 2] & 0xff);
    }
    return l;
  }

  /**
   * The margins (left, top, right, bottom) of {@code full} whose resampled content best matches
   * {@code crop}, and the mean absolute luma difference at them: {@code {l, t, r, b, error}}.
   */
  static double[] align(double[] crop, double[] full) {
    return refine(crop, full, profileMargins(crop, full));
  }

  /** The margins (left, top, right, bottom) fitted on the row and column mean profiles. */
  static double[] profileMargins(double[] crop, double[] full) {
    double[] lr = fitProfile(profile(crop, true), profile(full, true));
    double[] tb = fitProfile(profile(crop, false), profile(full, false));
    return new double[] {lr[0], tb[0], lr[1], tb[1]};
  }

  /** Coordinate descent on the luma error from margins {@code start}; as {@link #align}. */
  static double[] refine(double[] crop, double[] full, double[] start) {
    double[] m = start.clone();
    double best = error(crop, full, m, Double.MAX_VALUE);
    for (double step = 2 * STEP; step >= STEP / 4; step /= 2) {
      boolean improved = true;
      while (improved) {
        improved = false;
        for (int i = 0; i < 4; i++) {
          for (double delta : new double[] {-step, step}) {
            double old = m[i];
            double v = old + delta;
            if (v < 0 || v > MAX_CROP) {
              continue;
            }
            m[i] = v;
            double d = error(crop, full, m, best);
            if (d < best - 1e-9) {
              best = d;
              improved = true;
            } else {
              m[i] = old;
            }
          }
        }
      }
    }
    return new double[] {m[0], m[1], m[2], m[3], best};
  }

  /** Mean per column ({@code cols}) or per row. */
  static double[] profile(double[] l, boolean cols) {
    double[] p = new double[SIZE];
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        p[cols ? x : y] += l[y * SIZE + x];
      }
    }
    for (int i = 0; i < SIZE; i++) {
      p[i] /= SIZE;
    }
    return p;
  }

  /**
   * The margins (low, high) of {@code full} whose resampled profile best matches {@code crop}'s.
   */
  static double[] fitProfile(double[] crop, double[] full) {
    double best = Double.MAX_VALUE;
    double[] arg = {0, 0};
    for (int i = 0; i <= PROFILE_STEPS; i++) {
      for (int j = 0; j <= PROFILE_STEPS; j++) {
        Grid g = PROFILE_GRIDS[i * (PROFILE_STEPS + 1) + j];
        double s = 0;
        for (int x = 0; x < SIZE && s < best; x++) {
          int k = x * OFFSETS.length + CENTRE;
          double a = g.weight[k];
          s += Math.abs(crop[x] - (full[g.low[k]] * (1 - a) + full[g.high[k]] * a));
        }
        if (s < best) {
          best = s;
          arg[0] = i * STEP;
          arg[1] = j * STEP;
        }
      }
    }
    return arg;
  }

  /** Margins per side the profile search tries: 0, {@link #STEP}, … {@link #MAX_CROP}. */
  private static final int PROFILE_STEPS = (int) Math.round(MAX_CROP / STEP);

  /** The sampling grid of every (low, high) margins pair the profile search tries. */
  private static final Grid[] PROFILE_GRIDS = new Grid[(PROFILE_STEPS + 1) * (PROFILE_STEPS + 1)];

  static {
    for (int i = 0; i <= PROFILE_STEPS; i++) {
      for (int j = 0; j <= PROFILE_STEPS; j++) {
        double lo = i * STEP;
        double hi = j * STEP;
        PROFILE_GRIDS[i * (PROFILE_STEPS + 1) + j] = new Grid(lo, 1 - lo - hi);
      }
    }
  }

  /** Where cell {@code i} of the crop lies in the full thumbnail, in cell coordinates. */
  private static double position(double margin, double scale, double i) {
    return (margin + (i + 0.5) / SIZE * scale) * SIZE - 0.5;
  }

  /**
   * Mean absolute luma difference of {@code crop} against {@code full} cut by margins {@code m};
   * stops early (returning {@link Double#MAX_VALUE}) once above {@code bound}.
   */
  static double error(double[] crop, double[] full, double[] m, double bound) {
    Grid gx = new Grid(m[0], 1 - m[0] - m[2]);
    Grid gy = new Grid(m[1], 1 - m[1] - m[3]);
    double limit = bound * SIZE * SIZE;
    double[] rowsAtY = new double[SIZE];
    double s = 0;
    for (int y = 0; y < SIZE; y++) {
      int g = y * OFFSETS.length + CENTRE;
      int y0 = gy.low[g];
      int y1 = gy.high[g];
      double ay = gy.weight[g];
      for (int x = 0; x < SIZE; x++) {
        rowsAtY[x] = full[y0 * SIZE + x] * (1 - ay) + full[y1 * SIZE + x] * ay;
      }
      for (int x = 0; x < SIZE; x++) {
        int k = x * OFFSETS.length + CENTRE;
        double ax = gx.weight[k];
        s +=
            Math.abs(
                crop[y * SIZE + x] - (rowsAtY[gx.low[k]] * (1 - ax) + rowsAtY[gx.high[k]] * ax));
      }
      if (s > limit) {
        return Double.MAX_VALUE;
      }
    }
    return s / (SIZE * SIZE);
  }

  /**
   * Whether {@link #worstCells} exceeds {@code limit}, stopping as soon as the largest differences
   * seen so far do: their mean can only grow with more cells, so a distinct image usually stops at
   * its first clearly different region.
   */
  static boolean worstExceeds(byte[] crop, byte[] full, double[] m, double limit) {
    return worstExceeds(crop, full, m, limit, false);
  }

  /**
   * Whether the mean of the largest {@link #WORST_FRACTION} of the {@link #cellBound cell lower
   * bounds} exceeds {@code limit}: if so, {@link #worstExceeds} does too (each cell's difference is
   * at least its bound, so the largest differences' mean is at least the largest bounds' mean).
   * About seven times cheaper per cell, it rejects most distinct pairs that pass the pHash and
   * colour limits without computing a single offset's interpolation.
   */
  static boolean boundExceeds(byte[] crop, byte[] full, double[] m, double limit) {
    return worstExceeds(crop, full, m, limit, true);
  }

  private static boolean worstExceeds(
      byte[] crop, byte[] full, double[] m, double limit, boolean lowerBound) {
    Grid gx = new Grid(m[0], 1 - m[0] - m[2]);
    Grid gy = new Grid(m[1], 1 - m[1] - m[3]);
    int worst = (int) Math.ceil(SIZE * SIZE * WORST_FRACTION);
    double bound = limit * worst;
    LargestSum largest = new LargestSum(worst);
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        int o = (y * SIZE + x) * CHANNELS;
        double d =
            lowerBound ? cellBound(crop, full, o, gx, x, gy, y) : cell(crop, full, o, gx, x, gy, y);
        if (largest.addExceeds(d, bound)) {
          return true;
        }
      }
    }
    return largest.sum() > bound;
  }

  /** The sum of the largest {@code k} values added so far, over a min-heap of them. */
  private static final class LargestSum {
    private final double[] heap;
    private int size;
    private double sum;

    LargestSum(int k) {
      heap = new double[k];
    }

    /** Adds {@code d}; whether the heap is full and the sum of its values exceeds {@code bound}. */
    boolean addExceeds(double d, double bound) {
      if (size < heap.length) {
        heap[size] = d;
        siftUp(heap, size++);
        sum += d;
      } else if (d > heap[0]) {
        sum += d - heap[0];
        heap[0] = d;
        siftDown(heap, size);
      } else {
        // The sum did not change: if it exceeded the bound, the call before said so.
        return false;
      }
      return size == heap.length && sum > bound;
    }

    double sum() {
      return sum;
    }
  }

  private static void siftUp(double[] h, int i) {
    while (i > 0) {
      int p = (i - 1) / 2;
      if (h[p] <= h[i]) {
        return;
      }
      double t = h[p];
      h[p] = h[i];
      h[i] = t;
      i = p;
    }
  }

  private static void siftDown(double[] h, int n) {
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      if (l >= n) {
        return;
      }
      int c = l + 1 < n && h[l + 1] < h[l] ? l + 1 : l;
      if (h[i] <= h[c]) {
        return;
      }
      double t = h[c];
      h[c] = h[i];
      h[i] = t;
      i = c;
    }
  }

  /** Difference of one crop cell from the full thumbnail at (px, py), within the slack. */
  static double cell(byte[] crop, byte[] full, int o, double px, double py) {
    return cell(crop, full, o, new Grid(new double[] {px}), 0, new Grid(new double[] {py}), 0);
  }

  /** {@link #cell(byte[], byte[], int, double, double)} at cell ({@code x}, {@code y}) of grids. */
  private static double cell(byte[] crop, byte[] full, int o, Grid gx, int x, Grid gy, int y) {
    int cr = crop[o] & 0xff;
    int cg = crop[o + 1] & 0xff;
    int cb = crop[o + 2] & 0xff;
    double best = Double.MAX_VALUE;
    for (int ky = y * OFFSETS.length; ky < (y + 1) * OFFSETS.length; ky++) {
      // The bilinear weights of an offset are shared by the three channels (as sample() computes
      // them, so the result is the same to the last bit).
      int y0 = gy.low[ky];
      int y1 = gy.high[ky];
      double ay = gy.weight[ky];
      for (int kx = x * OFFSETS.length; kx < (x + 1) * OFFSETS.length; kx++) {
        int x0 = gx.low[kx];
        int x1 = gx.high[kx];
        double ax = gx.weight[kx];
        int i00 = (y0 * SIZE + x0) * CHANNELS;
        int i01 = (y0 * SIZE + x1) * CHANNELS;
        int i10 = (y1 * SIZE + x0) * CHANNELS;
        int i11 = (y1 * SIZE + x1) * CHANNELS;
        double d = Math.abs(cr - bilinear(full, i00, i01, i10, i11, ax, ay));
        d += Math.abs(cg - bilinear(full, i00 + 1, i01 + 1, i10 + 1, i11 + 1, ax, ay));
        d += Math.abs(cb - bilinear(full, i00 + 2, i01 + 2, i10 + 2, i11 + 2, ax, ay));
        best = Math.min(best, d / CHANNELS);
      }
    }
    return best;
  }

  /**
   * Where the offsets of each cell along one axis sample the full thumbnail: for cell {@code c} and
   * offset {@code k} (index {@code c * 3 + k}) the two cells a linear interpolation reads and the
   * weight of the second. Computed once per alignment instead of once per cell and row, with the
   * same arithmetic, so every sample is the same to the last bit.
   */
  private static final class Grid {
    final int[] low;
    final int[] high;
    final double[] weight;

    /** The grid of an alignment: cell {@code c} at {@code position(margin, scale, c)}. */
    Grid(double margin, double scale) {
      this(positions(margin, scale));
    }

    Grid(double[] positions) {
      int n = positions.length * OFFSETS.length;
      low = new int[n];
      high = new int[n];
      weight = new double[n];
      for (int c = 0; c < positions.length; c++) {
        for (int k = 0; k < OFFSETS.length; k++) {
          double f = clamp(positions[c] + OFFSETS[k]);
          int i = (int) f;
          int g = c * OFFSETS.length + k;
          low[g] = i;
          high[g] = Math.min(SIZE - 1, i + 1);
          weight[g] = f - i;
        }
      }
    }

    private static double[] positions(double margin, double scale) {
      double[] p = new double[SIZE];
      for (int c = 0; c < SIZE; c++) {
        p[c] = position(margin, scale, c);
      }
      return p;
    }
  }

  /**
   * A lower bound of {@link #cell}: every offset's bilinear sample lies between the smallest and
   * the largest value of the cells its interpolation reads (at most 3×3 around the position), so
   * per channel the difference is at least the distance of the crop's value to that range, and the
   * channels' mean at least the mean of those distances.
   */
  static double cellBound(byte[] crop, byte[] full, int o, double px, double py) {
    return cellBound(crop, full, o, new Grid(new double[] {px}), 0, new Grid(new double[] {py}), 0);
  }

  private static double cellBound(byte[] crop, byte[] full, int o, Grid gx, int x, Grid gy, int y) {
    // The cells the smallest offset's interpolation reads first to those the largest's reads last.
    int xa = gx.low[x * OFFSETS.length];
    int xb = gx.high[(x + 1) * OFFSETS.length - 1];
    int ya = gy.low[y * OFFSETS.length];
    int yb = gy.high[(y + 1) * OFFSETS.length - 1];
    double s = 0;
    for (int c = 0; c < CHANNELS; c++) {
      int v = crop[o + c] & 0xff;
      int lo = 255;
      int hi = 0;
      for (int yy = ya; yy <= yb; yy++) {
        for (int xx = xa; xx <= xb; xx++) {
          int f = full[(yy * SIZE + xx) * CHANNELS + c] & 0xff;
          lo = Math.min(lo, f);
          hi = Math.max(hi, f);
        }
      }
      s += v < lo ? lo - v : v > hi ? v - hi : 0;
    }
    // Below the rounding of the bilinear sums, so that the bound never exceeds the difference.
    return Math.max(0, s / CHANNELS - 1e-9);
  }

  private static double clamp(double pos) {
    return Math.min(SIZE - 1.0, Math.max(0, pos));
  }

  private static double bilinear(
      byte[] t, int i00, int i01, int i10, int i11, double ax, double ay) {
    double top = (t[i00] & 0xff) * (1 - ax);
    top += (t[i01] & 0xff) * ax;
    double bottom = (t[i10] & 0xff) * (1 - ax);
    bottom += (t[i11] & 0xff) * ax;
    return top * (1 - ay) + bottom * ay;
  }

  /**
   * Mean of the largest {@link #WORST_FRACTION} of the cell differences of {@code crop} against
   * {@code full} cut by margins {@code m}, each cell matched within {@link #SLACK} cells.
   */
  static double worstCells(byte[] crop, byte[] full, double[] m) {
    Grid gx = new Grid(m[0], 1 - m[0] - m[2]);
    Grid gy = new Grid(m[1], 1 - m[1] - m[3]);
    double[] cells = new double[SIZE * SIZE];
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        cells[y * SIZE + x] = cell(crop, full, (y * SIZE + x) * CHANNELS, gx, x, gy, y);
      }
    }
    Arrays.sort(cells);
    int worst = (int) Math.ceil(cells.length * WORST_FRACTION);
    double s = 0;
    for (int i = cells.length - worst; i < cells.length; i++) {
      s += cells[i];
    }
    return s / worst;
  }
}
