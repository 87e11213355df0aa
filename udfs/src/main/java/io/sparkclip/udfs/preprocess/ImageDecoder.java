package io.sparkclip.udfs.preprocess;

import io.sparkclip.udfs.RowStatus;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

/**
 * Decodes JPEG/PNG/GIF/BMP/WebP bytes into a {@link Raster8} in the mode PIL would open them in,
 * refusing images whose header declares more than {@code maxPixels} before any raster is allocated.
 *
 * <p>Backends: the JDK's ImageIO (libjpeg 6b; keeps palette/alpha/CMYK semantics) and OpenCV
 * (libjpeg-turbo, libwebp). {@link Backend#AUTO} picks by measurement (bench/README.md): ImageIO
 * for JPEG, PNG, GIF and BMP (on the benchmark JPEGs it decodes 1.3x faster than the bundled
 * OpenCV, whose per-image copies through {@code Mat} cost more than libjpeg-turbo saves), OpenCV
 * for WebP (ImageIO has no WebP reader) and for the opt-in {@code reducedJpegTarget} mode, which
 * decodes large JPEGs at 1/2, 1/4 or 1/8 scale in the DCT (approximate; only libjpeg-turbo can).
 */
public final class ImageDecoder implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);

  /** PIL's Image.MAX_IMAGE_PIXELS. */
  public static final long DEFAULT_MAX_PIXELS = 89_478_485L;

  /** Which library decodes. */
  public enum Backend {
    AUTO,
    IMAGEIO,
    OPENCV
  }

  private final Backend backend;
  private final long maxPixels;
  private final int reducedJpegTarget;

  /**
   * @param reducedJpegTarget 0 for exact decoding; otherwise decode JPEGs at the smallest DCT scale
   *     whose short side is still at least this many pixels (approximate, opt-in)
   */
  public ImageDecoder(Backend backend, long maxPixels, int reducedJpegTarget) {
    this.backend = backend;
    this.maxPixels = maxPixels;
    this.reducedJpegTarget = reducedJpegTarget;
  }

  public static ImageDecoder defaults() {
    return new ImageDecoder(Backend.AUTO, DEFAULT_MAX_PIXELS, 0);
  }

  public static Backend parseBackend(String s) {
    return Backend.valueOf(s.toUpperCase(Locale.ROOT));
  }

  public Raster8 decode(byte[] bytes) throws BadImageException {
    if (bytes == null) {
      throw new BadImageException(RowStatus.NULL_INPUT, "image bytes are null");
    }
    if (bytes.length == 0) {
      throw new BadImageException(RowStatus.EMPTY_IMAGE, "image bytes are empty (0 bytes)");
    }
    ImageHeader h = ImageHeader.sniff(bytes);
    if (h.hasDimensions()) {
      checkSize(h.width, h.height);
    }
    boolean useOpenCv =
        OpenCvHolder.AVAILABLE
            && (backend == Backend.OPENCV
                || (backend == Backend.AUTO
                    && ((h.format == ImageHeader.Format.JPEG
                            && h.components != 4
                            && reducedJpegTarget > 0)
                        || h.format == ImageHeader.Format.WEBP)));
    if (backend == Backend.OPENCV && !OpenCvHolder.AVAILABLE) {
      LOG.warn("OpenCV is unavailable ({}); decoding with ImageIO", OpenCvHolder.ERROR);
    }
    if (!h.hasDimensions() && h.format != ImageHeader.Format.UNKNOWN) {
      throw new BadImageException(
          RowStatus.DECODE_ERROR, h.format + " header is truncated or invalid");
    }
    if (h.format == ImageHeader.Format.JPEG && ImageHeader.truncatedJpeg(bytes)) {
      throw new BadImageException(
          RowStatus.DECODE_ERROR,
          "JPEG is truncated: no end-of-image marker after the scan data ("
              + bytes.length
              + " bytes; the download was probably cut short)");
    }
    try {
      if (useOpenCv && h.hasDimensions()) {
        return decodeOpenCv(bytes, h);
      }
      return decodeImageIo(bytes, h);
    } catch (BadImageException e) {
      throw e;
    } catch (IOException | RuntimeException | LinkageError e) {
      throw new BadImageException(
          RowStatus.DECODE_ERROR,
          h.format + " decode failed: " + e.getClass().getSimpleName() + ": " + e.getMessage(),
          e);
    }
  }

  private void checkSize(long w, long h) throws BadImageException {
    if (w * h > maxPixels) {
      throw new BadImageException(
          RowStatus.TOO_LARGE,
          "image is "
              + w
              + "x"
              + h
              + " = "
              + (w * h)
              + " pixels, above the limit of "
              + maxPixels
              + " (decompression-bomb guard; raise maxPixels to accept it)");
    }
  }

  // ---------------------------------------------------------------------------------- OpenCV

  private static final class OpenCvHolder {
    static final boolean AVAILABLE;
    static final String ERROR;

    static {
      boolean ok = false;
      String err = null;
      try {
        nu.pattern.OpenCV.loadLocally();
        Core.getVersionString();
        ok = true;
      } catch (Throwable t) {
        err = t.toString();
        LOG.warn("OpenCV native library failed to load; ImageIO decodes everything: {}", err);
      }
      AVAILABLE = ok;
      ERROR = err;
    }
  }

  /** True when OpenCV's native library loaded in this JVM. */
  public static boolean openCvAvailable() {
    return OpenCvHolder.AVAILABLE;
  }

  private Raster8 decodeOpenCv(byte[] bytes, ImageHeader h) throws BadImageException {
    int flags = Imgcodecs.IMREAD_UNCHANGED;
    if (reducedJpegTarget > 0 && h.format == ImageHeader.Format.JPEG) {
      int shortSide = Math.min(h.width, h.height);
      int[][] options = {
        {8, Imgcodecs.IMREAD_REDUCED_COLOR_8},
        {4, Imgcodecs.IMREAD_REDUCED_COLOR_4},
        {2, Imgcodecs.IMREAD_REDUCED_COLOR_2}
      };
      for (int[] o : options) {
        if (shortSide / o[0] >= reducedJpegTarget) {
          flags = o[1] | Imgcodecs.IMREAD_IGNORE_ORIENTATION;
          break;
        }
      }
    }
    MatOfByte buf = new MatOfByte(bytes);
    Mat m = Imgcodecs.imdecode(buf, flags);
    buf.release();
    try {
      if (m.empty()) {
        throw new BadImageException(RowStatus.DECODE_ERROR, "OpenCV could not decode the bytes");
      }
      if (m.depth() != CvType.CV_8U) {
        Mat m8 = new Mat();
        m.convertTo(m8, CvType.CV_8U, 1.0 / 257.0);
        m.release();
        m = m8;
      }
      int w = m.cols();
      int hgt = m.rows();
      int ch = m.channels();
      byte[] data = new byte[w * hgt * ch];
      m.get(0, 0, data);
      switch (ch) {
        case 1:
          return new Raster8(w, hgt, PilMode.L, data);
        case 3:
          swapRB(data, 3);
          return new Raster8(w, hgt, PilMode.RGB, data);
        case 4:
          swapRB(data, 4);
          return new Raster8(w, hgt, PilMode.RGBA, data);
        default:
          throw new BadImageException(RowStatus.DECODE_ERROR, "OpenCV decoded " + ch + " channels");
      }
    } finally {
      m.release();
    }
  }

  private static void swapRB(byte[] d, int stride) {
    for (int i = 0; i < d.length; i += stride) {
      byte t = d[i];
      d[i] = d[i + 2];
      d[i + 2] = t;
    }
  }

  // ---------------------------------------------------------------------------------- ImageIO

  private Raster8 decodeImageIo(byte[] bytes, ImageHeader h) throws IOException, BadImageException {
    // The bytes are in memory: ImageIO's default stream would copy them to a temporary file first.
    try (ImageInputStream iis = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> it = ImageIO.getImageReaders(iis);
      if (!it.hasNext()) {
        throw new BadImageException(
            RowStatus.DECODE_ERROR,
            h.format == ImageHeader.Format.UNKNOWN
                ? "unrecognized image format (magic bytes "
                    + String.format(
                        "%02x%02x%02x%02x",
                        bytes[0],
                        bytes.length > 1 ? bytes[1] : 0,
                        bytes.length > 2 ? bytes[2] : 0,
                        bytes.length > 3 ? bytes[3] : 0)
                    + ")"
                : "no ImageIO decoder for " + h.format + " (OpenCV unavailable)");
      }
      ImageReader reader = it.next();
      try {
        reader.setInput(iis, true, true);
        // Header only: the raster is not allocated before this check.
        checkSize(reader.getWidth(0), reader.getHeight(0));
        if (h.format == ImageHeader.Format.JPEG && h.components == 4) {
          return cmykJpeg(reader);
        }
        BufferedImage bi;
        try {
          bi = reader.read(0);
        } catch (IIOException e) {
          if (h.format == ImageHeader.Format.JPEG) {
            return cmykJpeg(reader);
          }
          throw e;
        }
        return fromBufferedImage(bi);
      } finally {
        reader.dispose();
      }
    }
  }

  /** A 4-component JPEG read as a raw raster (ImageIO cannot convert it), then as PIL does. */
  private static Raster8 cmykJpeg(ImageReader reader) throws IOException, BadImageException {
    IIOMetadata md = reader.getImageMetadata(0);
    int transform = adobeTransform(md);
    Raster ras = reader.readRaster(0, null);
    int w = ras.getWidth();
    int h = ras.getHeight();
    if (ras.getNumBands() != 4) {
      throw new BadImageException(
          RowStatus.DECODE_ERROR, "JPEG with " + ras.getNumBands() + " components");
    }
    int[] px = ras.getPixels(0, 0, w, h, (int[]) null);
    byte[] out = new byte[w * h * 4];
    boolean inverted = transform >= 0; // Adobe APP14: Photoshop/PIL store inverted CMYK
    for (int i = 0; i < px.length; i += 4) {
      int c0 = px[i];
      int c1 = px[i + 1];
      int c2 = px[i + 2];
      int k = px[i + 3];
      if (transform == 2) { // YCCK -> CMYK as libjpeg's ycck_cmyk_convert
        int[] rgb = YccTables.toRgb(c0, c1, c2);
        c0 = 255 - rgb[0];
        c1 = 255 - rgb[1];
        c2 = 255 - rgb[2];
      }
      if (inverted) {
        c0 = 255 - c0;
        c1 = 255 - c1;
        c2 = 255 - c2;
        k = 255 - k;
      }
      out[i] = (byte) c0;
      out[i + 1] = (byte) c1;
      out[i + 2] = (byte) c2;
      out[i + 3] = (byte) k;
    }
    return new Raster8(w, h, PilMode.CMYK, out);
  }

  private static int adobeTransform(IIOMetadata md) {
    if (md == null) {
      return -1;
    }
    Node root = md.getAsTree("javax_imageio_jpeg_image_1.0");
    Node adobe = find(root, "app14Adobe");
    if (adobe == null) {
      return -1;
    }
    NamedNodeMap attrs = adobe.getAttributes();
    Node t = attrs.getNamedItem("transform");
    return t == null ? 0 : Integer.parseInt(t.getNodeValue());
  }

  private static Node find(Node n, String name) {
    if (name.equals(n.getNodeName())) {
      return n;
    }
    for (Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
      Node f = find(c, name);
      if (f != null) {
        return f;
      }
    }
    return null;
  }

  /** libjpeg's fixed-point YCbCr -> RGB (jdcolor.c). */
  static final class YccTables {
    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    private static int fix(double x) {
      return (int) (x * (1L << SCALEBITS) + 0.5);
    }

    static {
      for (int i = 0; i < 256; i++) {
        int x = i - 128;
        CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
        CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
        CR_G[i] = -fix(0.71414) * x;
        CB_G[i] = -fix(0.34414) * x + ONE_HALF;
      }
    }

    static int[] toRgb(int y, int cb, int cr) {
      return new int[] {
        clamp(y + CR_R[cr]), clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS)), clamp(y + CB_B[cb])
      };
    }

    private static int clamp(int v) {
      return v < 0 ? 0 : (v > 255 ? 255 : v);
    }
  }

  static Raster8 fromBufferedImage(BufferedImage bi) throws BadImageException {
    int w = bi.getWidth();
    int h = bi.getHeight();
    if (w <= 0 || h <= 0) {
      throw new BadImageException(RowStatus.DECODE_ERROR, "decoded image is " + w + "x" + h);
    }
    Raster ras = bi.getRaster();
    if (bi.getColorModel() instanceof IndexColorModel icm) {
      byte[] out = new byte[w * h * 3];
      int[] idx = new int[w];
      for (int y = 0; y < h; y++) {
        ras.getSamples(0, y, w, 1, 0, idx);
        for (int x = 0; x < w; x++) {
          int rgb = icm.getRGB(idx[x]);
          int o = (y * w + x) * 3;
          out[o] = (byte) (rgb >> 16);
          out[o + 1] = (byte) (rgb >> 8);
          out[o + 2] = (byte) rgb;
        }
      }
      return new Raster8(w, h, PilMode.P, out);
    }
    int type = bi.getType();
    if (type == BufferedImage.TYPE_3BYTE_BGR && isPacked(ras, w * 3)) {
      byte[] src = ((DataBufferByte) ras.getDataBuffer()).getData();
      byte[] out = new byte[w * h * 3];
      for (int i = 0; i < out.length; i += 3) {
        out[i] = src[i + 2];
        out[i + 1] = src[i + 1];
        out[i + 2] = src[i];
      }
      return new Raster8(w, h, PilMode.RGB, out);
    }
    if (type == BufferedImage.TYPE_BYTE_GRAY && isPacked(ras, w)) {
      byte[] src = ((DataBufferByte) ras.getDataBuffer()).getData();
      return new Raster8(w, h, PilMode.L, src.length == w * h ? src : src.clone());
    }
    if (type == BufferedImage.TYPE_4BYTE_ABGR && isPacked(ras, w * 4)) {
      byte[] src = ((DataBufferByte) ras.getDataBuffer()).getData();
      byte[] out = new byte[w * h * 4];
      for (int i = 0; i < out.length; i += 4) {
        out[i] = src[i + 3];
        out[i + 1] = src[i + 2];
        out[i + 2] = src[i + 1];
        out[i + 3] = src[i];
      }
      return new Raster8(w, h, PilMode.RGBA, out);
    }
    int bands = ras.getNumBands();
    boolean eightBit = true;
    for (int s : ras.getSampleModel().getSampleSize()) {
      eightBit &= s == 8;
    }
    if (eightBit && bands >= 1 && bands <= 4) {
      // Raw samples (no ICC conversion, like PIL): 1 L, 2 LA, 3 RGB, 4 RGBA.
      int[] row = new int[w * bands];
      int outBands = bands == 1 ? 1 : (bands == 3 ? 3 : 4);
      byte[] out = new byte[w * h * outBands];
      for (int y = 0; y < h; y++) {
        ras.getPixels(0, y, w, 1, row);
        for (int x = 0; x < w; x++) {
          int o = (y * w + x) * outBands;
          int i = x * bands;
          if (bands == 2) {
            out[o] = out[o + 1] = out[o + 2] = (byte) row[i];
            out[o + 3] = (byte) row[i + 1];
          } else {
            for (int b = 0; b < bands; b++) {
              out[o + b] = (byte) row[i + b];
            }
          }
        }
      }
      PilMode mode = bands == 1 ? PilMode.L : (bands == 3 ? PilMode.RGB : PilMode.RGBA);
      return new Raster8(w, h, mode, out);
    }
    // Anything else (16-bit, packed ints, ...): let Java2D convert to 8-bit sRGB.
    boolean alpha = bi.getColorModel().hasAlpha();
    int[] argb = bi.getRGB(0, 0, w, h, null, 0, w);
    int nb = alpha ? 4 : 3;
    byte[] out = new byte[w * h * nb];
    for (int i = 0; i < argb.length; i++) {
      int p = argb[i];
      out[i * nb] = (byte) (p >> 16);
      out[i * nb + 1] = (byte) (p >> 8);
      out[i * nb + 2] = (byte) p;
      if (alpha) {
        out[i * nb + 3] = (byte) (p >>> 24);
      }
    }
    return new Raster8(w, h, alpha ? PilMode.RGBA : PilMode.RGB, out);
  }

  private static boolean isPacked(Raster ras, int rowBytes) {
    return ras.getDataBuffer() instanceof DataBufferByte
        && ras.getSampleModelTranslateX() == 0
        && ras.getSampleModelTranslateY() == 0
        && ((DataBufferByte) ras.getDataBuffer()).getData().length == rowBytes * ras.getHeight();
  }
}
