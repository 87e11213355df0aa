package io.sparkclip.udfs.preprocess;

/**
 * A port of Pillow's {@code ImagingResample} (libImaging/Resample.c, 8 bits per channel): a
 * separable convolution, horizontal pass first, whose support is scaled by the downscale factor
 * (antialiasing); coefficients in 22-bit fixed point; each pass rounds and clips to 8 bits. Plus
 * Pillow's NEAREST resize ({@code ImagingScaleAffine}). Bit-exact with Pillow 9.x for 8-bit modes.
 *
 * <p>{@link #resize} can compute just a window of the output (a center crop); output pixels do not
 * depend on the window, so this equals resizing the whole image and cropping.
 */
public final class PillowResample {
  private PillowResample() {}

  /** Pillow's filters. */
  public enum Filter {
    BILINEAR(1.0),
    BICUBIC(2.0);

    final double support;

    Filter(double support) {
      this.support = support;
    }

    double weight(double x) {
      if (x < 0.0) {
        x = -x;
      }
      if (this == BILINEAR) {
        return x < 1.0 ? 1.0 - x : 0.0;
      }
      final double a = -0.5;
      if (x < 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      }
      if (x < 2.0) {
        return (((x - 5) * x + 8) * x - 4) * a;
      }
      return 0.0;
    }
  }

  static final int PRECISION_BITS = 32 - 8 - 2;
  private static final int HALF = 1 << (PRECISION_BITS - 1);

  /** Filter coefficients of one axis, as Pillow's precompute_coeffs + normalize_coeffs_8bpc. */
  static final class Coeffs {
    final int ksize;
    final int[] bounds; // [xmin, count] per output pixel
    final int[] kk; // fixed-point weights, ksize per output pixel

    Coeffs(int ksize, int[] bounds, int[] kk) {
      this.ksize = ksize;
      this.bounds = bounds;
      this.kk = kk;
    }
  }

  static Coeffs coeffs(int inSize, int outSize, Filter filter) {
    float in0 = 0f;
    float in1 = inSize;
    double scale = (double) (in1 - in0) / outSize;
    double filterscale = Math.max(scale, 1.0);
    double support = filter.support * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] bounds = new int[outSize * 2];
    int[] kk = new int[outSize * ksize];
    double[] k = new double[ksize];
    for (int xx = 0; xx < outSize; xx++) {
      double center = in0 + (xx + 0.5) * scale;
      double ww = 0.0;
      double ss = 1.0 / filterscale;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0) {
        xmin = 0;
      }
      int xmax = (int) (center + support + 0.5);
      if (xmax > inSize) {
        xmax = inSize;
      }
      xmax -= xmin;
      for (int x = 0; x < xmax; x++) {
        double w = filter.weight((x + xmin - center + 0.5) * ss);
        k[x] = w;
        ww += w;
      }
      for (int x = 0; x < ksize; x++) {
        double v = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
        kk[xx * ksize + x] =
            v < 0
                ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                : (int) (0.5 + v * (1 << PRECISION_BITS));
      }
      bounds[xx * 2] = xmin;
      bounds[xx * 2 + 1] = xmax;
    }
    return new Coeffs(ksize, bounds, kk);
  }

  private static int clip8(int v) {
    int s = v >> PRECISION_BITS;
    return s < 0 ? 0 : (s > 255 ? 255 : s);
  }

  /**
   * Resizes {@code src} to {@code outW x outH} with {@code filter} and returns the window {@code
   * [x0, x0+w) x [y0, y0+h)} of the result.
   */
  public static Raster8 resize(
      Raster8 src, int outW, int outH, Filter filter, int x0, int y0, int w, int h) {
    int bands = src.bands();
    if (outW == src.width && outH == src.height) {
      return crop(src, x0, y0, w, h);
    }
    boolean needH = outW != src.width;
    boolean needV = outH != src.height;
    byte[] in = src.data;
    int inW = src.width;
    int rowFirst = y0;
    int rows = h;
    Coeffs cv = null;
    if (needV) {
      cv = coeffs(src.height, outH, filter);
      rowFirst = cv.bounds[y0 * 2];
      int last = cv.bounds[(y0 + h - 1) * 2] + cv.bounds[(y0 + h - 1) * 2 + 1];
      rows = last - rowFirst;
    }
    // Horizontal pass over the source rows the vertical pass needs, output columns x0..x0+w.
    byte[] tmp;
    int tmpW;
    if (needH) {
      Coeffs ch = coeffs(inW, outW, filter);
      tmpW = w;
      tmp = new byte[rows * w * bands];
      int ksize = ch.ksize;
      for (int y = 0; y < rows; y++) {
        int inRow = (rowFirst + y) * inW * bands;
        int outRow = y * w * bands;
        for (int xx = 0; xx < w; xx++) {
          int ox = x0 + xx;
          int xmin = ch.bounds[ox * 2];
          int xmax = ch.bounds[ox * 2 + 1];
          int kOff = ox * ksize;
          int p = inRow + xmin * bands;
          int o = outRow + xx * bands;
          if (bands == 3) {
            int s0 = HALF;
            int s1 = HALF;
            int s2 = HALF;
            for (int x = 0; x < xmax; x++, p += 3) {
              int k = ch.kk[kOff + x];
              s0 += (in[p] & 0xff) * k;
              s1 += (in[p + 1] & 0xff) * k;
              s2 += (in[p + 2] & 0xff) * k;
            }
            tmp[o] = (byte) clip8(s0);
            tmp[o + 1] = (byte) clip8(s1);
            tmp[o + 2] = (byte) clip8(s2);
          } else {
            for (int b = 0; b < bands; b++) {
              int ss = HALF;
              int q = p + b;
              for (int x = 0; x < xmax; x++, q += bands) {
                ss += (in[q] & 0xff) * ch.kk[kOff + x];
              }
              tmp[o + b] = (byte) clip8(ss);
            }
          }
        }
      }
    } else {
      tmpW = w;
      tmp = new byte[rows * w * bands];
      for (int y = 0; y < rows; y++) {
        System.arraycopy(in, ((rowFirst + y) * inW + x0) * bands, tmp, y * w * bands, w * bands);
      }
    }
    if (!needV) {
      return new Raster8(w, h, src.mode, tmp);
    }
    byte[] out = new byte[w * h * bands];
    int ksize = cv.ksize;
    int rowLen = tmpW * bands;
    int[] acc = new int[rowLen];
    for (int yy = 0; yy < h; yy++) {
      int oy = y0 + yy;
      int ymin = cv.bounds[oy * 2] - rowFirst;
      int ymax = cv.bounds[oy * 2 + 1];
      int kOff = oy * ksize;
      java.util.Arrays.fill(acc, HALF);
      // Row-wise accumulation (exact integer sums, so the order does not change the result).
      for (int y = 0; y < ymax; y++) {
        int k = cv.kk[kOff + y];
        int p = (ymin + y) * rowLen;
        for (int i = 0; i < rowLen; i++) {
          acc[i] += (tmp[p + i] & 0xff) * k;
        }
      }
      int outRow = yy * rowLen;
      for (int i = 0; i < rowLen; i++) {
        out[outRow + i] = (byte) clip8(acc[i]);
      }
    }
    return new Raster8(w, h, src.mode, out);
  }

  /** Pillow's NEAREST resize (ImagingScaleAffine, incremental double stepping), then a window. */
  public static Raster8 resizeNearest(
      Raster8 src, int outW, int outH, int x0, int y0, int w, int h) {
    if (outW == src.width && outH == src.height) {
      return crop(src, x0, y0, w, h);
    }
    int bands = src.bands();
    int[] xin = nearestTable(src.width, outW);
    int[] yin = nearestTable(src.height, outH);
    byte[] out = new byte[w * h * bands];
    for (int yy = 0; yy < h; yy++) {
      int sy = yin[y0 + yy];
      for (int xx = 0; xx < w; xx++) {
        int sx = xin[x0 + xx];
        System.arraycopy(
            src.data, (sy * src.width + sx) * bands, out, (yy * w + xx) * bands, bands);
      }
    }
    return new Raster8(w, h, src.mode, out);
  }

  static int[] nearestTable(int inSize, int outSize) {
    double a = (double) inSize / outSize;
    double xo = a * 0.5;
    int[] t = new int[outSize];
    for (int x = 0; x < outSize; x++) {
      int v = xo < 0.0 ? -1 : (int) xo;
      t[x] = Math.min(Math.max(v, 0), inSize - 1);
      xo += a;
    }
    return t;
  }

  public static Raster8 crop(Raster8 src, int x0, int y0, int w, int h) {
    if (x0 == 0 && y0 == 0 && w == src.width && h == src.height) {
      return src;
    }
    int bands = src.bands();
    byte[] out = new byte[w * h * bands];
    for (int y = 0; y < h; y++) {
      System.arraycopy(
          src.data, ((y0 + y) * src.width + x0) * bands, out, y * w * bands, w * bands);
    }
    return new Raster8(w, h, src.mode, out);
  }
}
