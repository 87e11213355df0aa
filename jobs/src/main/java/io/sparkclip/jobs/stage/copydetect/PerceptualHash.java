package io.sparkclip.jobs.stage.copydetect;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * A 64-bit DCT perceptual hash (pHash): the image is decoded with ImageIO, reduced to 32×32 luma by
 * box averaging, transformed with a 2-D DCT-II, and the 8×8 lowest frequencies are compared with
 * their median (one bit each). Robust to re-encoding, rescaling and light crops; the Hamming
 * distance between two hashes measures how different two images look. Pure Java, no Spark.
 */
public final class PerceptualHash {
  static final int SIZE = 32;
  static final int LOW = 8;

  /** Refuse to decode larger images (decompression bombs): 100 megapixels. */
  static final long MAX_PIXELS = 100_000_000L;

  private static final double[][] COS = new double[LOW][SIZE];

  static {
    for (int u = 0; u < LOW; u++) {
      for (int x = 0; x < SIZE; x++) {
        COS[u][x] = Math.cos((2 * x + 1) * u * Math.PI / (2.0 * SIZE));
      }
    }
  }

  private PerceptualHash() {}

  /** Why an image could not be hashed. */
  public static final class UndecodableImageException extends Exception {
    private static final long serialVersionUID = 1L;

    UndecodableImageException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The pHash of encoded image bytes; decoder warnings (e.g. truncated JPEG) count as errors. */
  public static long of(byte[] bytes) throws UndecodableImageException {
    return of(decode(bytes));
  }

  public static long of(BufferedImage img) {
    return of(Pixels.of(img));
  }

  static long of(Pixels px) {
    double[][] f = luma32(px);
    double[][] tmp = new double[LOW][SIZE];
    for (int u = 0; u < LOW; u++) {
      for (int y = 0; y < SIZE; y++) {
        double s = 0;
        for (int x = 0; x < SIZE; x++) {
          s += f[y][x] * COS[u][x];
        }
        tmp[u][y] = s;
      }
    }
    double[] coeffs = new double[LOW * LOW];
    for (int v = 0; v < LOW; v++) {
      for (int u = 0; u < LOW; u++) {
        double s = 0;
        for (int y = 0; y < SIZE; y++) {
          s += tmp[u][y] * COS[v][y];
        }
        coeffs[v * LOW + u] = s;
      }
    }
    double[] ac = Arrays.copyOfRange(coeffs, 1, coeffs.length);
    Arrays.sort(ac);
    double median = (ac[ac.length / 2 - 1] + ac[ac.length / 2]) / 2;
    long h = 0;
    for (int i = 0; i < coeffs.length; i++) {
      if (coeffs[i] > median) {
        h |= 1L << i;
      }
    }
    return h;
  }

  public static int distance(long a, long b) {
    return Long.bitCount(a ^ b);
  }

  /** Cells per side of the colour signature. */
  static final int COLOUR_GRID = 4;

  /**
   * Cheap pre-filter before the thumbnail comparison: largest {@link #colourDistance} (mean
   * absolute difference, 0..255, of the 4×4 RGB colour grids) of a candidate pair. Loose on purpose
   * (crops shift the grid); it only spares thumbnail comparisons of pairs whose colours plainly
   * differ.
   */
  public static final double COLOUR_PREFILTER = 12.0;

  /**
   * A colour layout signature: the mean R, G, B of each cell of a 4×4 grid (48 bytes). pHash sees
   * luma only, so a red and a green shape of equal brightness hash alike; near-duplicate
   * confirmation also compares this signature.
   */
  public static byte[] colourSignature(BufferedImage img) {
    return colourSignature(Pixels.of(img));
  }

  static byte[] colourSignature(Pixels px) {
    return CropTolerantThumbnail.gridMeans(px.rgb(), px.width(), px.height(), COLOUR_GRID);
  }

  /** Mean absolute difference of two colour signatures, 0..255. */
  public static double colourDistance(byte[] a, byte[] b) {
    long s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs((a[i] & 0xff) - (b[i] & 0xff));
    }
    return (double) s / a.length;
  }

  /** Packed {@code 0xRRGGBB} pixels of a decoded image, read once for all signatures. */
  record Pixels(int[] rgb, int width, int height) {
    static Pixels of(BufferedImage img) {
      int w = img.getWidth();
      int h = img.getHeight();
      Raster ras = img.getRaster();
      // A decoded JPEG (sRGB, 8-bit B, G, R bytes): read the bytes as getRGB would convert them,
      // without its per-pixel colour model calls (a fifth of the hashing time otherwise).
      if (img.getType() == BufferedImage.TYPE_3BYTE_BGR
          && ras.getDataBuffer() instanceof DataBufferByte buffer
          && ras.getSampleModelTranslateX() == 0
          && ras.getSampleModelTranslateY() == 0
          && buffer.getData().length == 3 * w * h) {
        byte[] bgr = buffer.getData();
        int[] rgb = new int[w * h];
        for (int i = 0; i < rgb.length; i++) {
          int o = 3 * i;
          rgb[i] =
              0xff000000 | (bgr[o + 2] & 0xff) << 16 | (bgr[o + 1] & 0xff) << 8 | (bgr[o] & 0xff);
        }
        return new Pixels(rgb, w, h);
      }
      return new Pixels(img.getRGB(0, 0, w, h, null, 0, w), w, h);
    }
  }

  /**
   * pHash, colour signature and {@link CropTolerantThumbnail} from one decode. Arrays are shared,
   * not copied: callers must not modify them.
   */
  public record Signature(long phash, byte[] colour, byte[] thumbnail) {}

  public static Signature signature(byte[] bytes) throws UndecodableImageException {
    Pixels px = Pixels.of(decode(bytes));
    return new Signature(
        of(px), colourSignature(px), CropTolerantThumbnail.of(px.rgb(), px.width(), px.height()));
  }

  /**
   * A coarse layout hash of a region of a {@link CropTolerantThumbnail#luma thumbnail's luma}: the
   * signs, against their median, of the {@code low × low} lowest DCT coefficients but the DC term
   * of the region's 32×32 luma ({@code low² − 1} bits). The lowest frequencies move least under the
   * light crops that move pHash by up to 14 bits, so a crop and a matching region of its original
   * often hash equal: near-duplicate candidates under an exact key (measured on the generator's
   * crops: with low = 5, 61 % of crops equal one of the symmetric 0/2/4 % regions of their
   * original, against 26 % for the whole image). The margins are fractions of the side: left, top,
   * right, bottom.
   */
  static long layoutHash(double[] luma, int low, double l, double t, double r, double b) {
    int n = CropTolerantThumbnail.SIZE;
    double[][] f = new double[SIZE][SIZE];
    double sx = (1 - l - r) * n / SIZE;
    double sy = (1 - t - b) * n / SIZE;
    for (int y = 0; y < SIZE; y++) {
      double py = Math.min(n - 1.0, Math.max(0, t * n + (y + 0.5) * sy - 0.5));
      int y0 = (int) py;
      int y1 = Math.min(n - 1, y0 + 1);
      double ay = py - y0;
      for (int x = 0; x < SIZE; x++) {
        double px = Math.min(n - 1.0, Math.max(0, l * n + (x + 0.5) * sx - 0.5));
        int x0 = (int) px;
        int x1 = Math.min(n - 1, x0 + 1);
        double ax = px - x0;
        double top = luma[y0 * n + x0] * (1 - ax) + luma[y0 * n + x1] * ax;
        double bottom = luma[y1 * n + x0] * (1 - ax) + luma[y1 * n + x1] * ax;
        f[y][x] = top * (1 - ay) + bottom * ay;
      }
    }
    // Row sums first (they do not depend on v), then the columns: the same sums in the same order.
    double[][] rows = new double[SIZE][low];
    for (int y = 0; y < SIZE; y++) {
      for (int u = 0; u < low; u++) {
        double row = 0;
        for (int x = 0; x < SIZE; x++) {
          row += f[y][x] * COS[u][x];
        }
        rows[y][u] = row;
      }
    }
    double[] coeffs = new double[low * low];
    for (int v = 0; v < low; v++) {
      for (int u = 0; u < low; u++) {
        double s = 0;
        for (int y = 0; y < SIZE; y++) {
          s += rows[y][u] * COS[v][y];
        }
        coeffs[v * low + u] = s;
      }
    }
    double[] ac = Arrays.copyOfRange(coeffs, 1, coeffs.length);
    Arrays.sort(ac);
    double median =
        ac.length % 2 == 0 ? (ac[ac.length / 2 - 1] + ac[ac.length / 2]) / 2 : ac[ac.length / 2];
    long h = 0;
    for (int i = 1; i < coeffs.length; i++) {
      if (coeffs[i] > median) {
        h |= 1L << (i - 1);
      }
    }
    return h;
  }

  static BufferedImage decode(byte[] bytes) throws UndecodableImageException {
    if (bytes == null || bytes.length == 0) {
      throw new UndecodableImageException("no image bytes", null);
    }
    // The bytes are in memory: ImageIO's default stream would copy them to a temporary file.
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new UndecodableImageException(
            "no ImageIO reader recognises these " + bytes.length + " bytes", null);
      }
      ImageReader reader = readers.next();
      List<String> warnings = new ArrayList<>();
      try {
        reader.setInput(in, true, true);
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
        if (pixels > MAX_PIXELS) {
          throw new UndecodableImageException(
              "image of " + pixels + " pixels exceeds the " + MAX_PIXELS + " limit", null);
        }
        BufferedImage img = reader.read(0);
        if (!warnings.isEmpty()) {
          throw new UndecodableImageException(
              reader.getFormatName() + " decoder: " + String.join("; ", warnings), null);
        }
        return img;
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      throw new UndecodableImageException(
          "decoding failed: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /** 32×32 luma (Rec. 601), each cell the mean of the source pixels it covers. */
  static double[][] luma32(Pixels px) {
    int w = px.width();
    int h = px.height();
    int[] rgb = px.rgb();
    double[][] out = new double[SIZE][SIZE];
    for (int ty = 0; ty < SIZE; ty++) {
      int y0 = ty * h / SIZE;
      int y1 = Math.max(y0 + 1, (ty + 1) * h / SIZE);
      for (int tx = 0; tx < SIZE; tx++) {
        int x0 = tx * w / SIZE;
        int x1 = Math.max(x0 + 1, (tx + 1) * w / SIZE);
        double s = 0;
        for (int y = y0; y < y1; y++) {
          int row = y * w;
          for (int x = x0; x < x1; x++) {
            int p = rgb[row + x];
            s += 0.299 * ((p >> 16) & 0xff) + 0.587 * ((p >> 8) & 0xff) + 0.114 * (p & 0xff);
          }
        }
        out[ty][tx] = s / ((double) (y1 - y0) * (x1 - x0));
      }
    }
    return out;
  }
}
