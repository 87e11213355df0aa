package io.sparkclip.jobs.download;

import io.sparkclip.udfs.RowStatus;
import io.sparkclip.udfs.preprocess.BadImageException;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.preprocess.ImageHeader;
import io.sparkclip.udfs.preprocess.PilConvert;
import io.sparkclip.udfs.preprocess.PilMode;
import io.sparkclip.udfs.preprocess.PillowResample;
import io.sparkclip.udfs.preprocess.Raster8;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * What the downloader makes of a fetched body: its format checked by magic bytes (an HTML error
 * page served as {@code .jpg} is not an image), decoded by the engine's decoder (the
 * decompression-bomb guard and the truncated-JPEG check included) so that every success is an image
 * sparkclip can embed, resized in img2dataset's modes with the engine's Pillow-exact resampler and
 * re-encoded as JPEG; {@code sha256} and {@code exif} are of the downloaded bytes, as img2dataset
 * computes them.
 */
final class ImageProcessor {
  /** A processed body: the fields of an output row. */
  record Processed(
      String status,
      String reason,
      String message,
      byte[] image,
      Integer width,
      Integer height,
      Integer originalWidth,
      Integer originalHeight,
      String sha256,
      String exif) {
    static Processed failed(String status, String reason, String message, String sha256) {
      return new Processed(status, reason, message, null, null, null, null, null, sha256, null);
    }
  }

  private final ImageDecoder decoder;
  private final ResizeMode mode;
  private final int size;
  private final boolean onlyIfBigger;
  private final float quality;

  ImageProcessor(long maxPixels, ResizeMode mode, int size, boolean onlyIfBigger, int quality) {
    this.decoder = new ImageDecoder(ImageDecoder.Backend.AUTO, maxPixels, 0);
    this.mode = mode;
    this.size = size;
    this.onlyIfBigger = onlyIfBigger;
    this.quality = quality / 100f;
  }

  Processed process(byte[] body, String contentType) {
    if (body.length == 0) {
      return Processed.failed(
          DownloadStatus.FAILED_TO_DOWNLOAD,
          DownloadStatus.REASON_EMPTY,
          "the response body is empty",
          null);
    }
    String sha = sha256(body);
    ImageHeader h = ImageHeader.sniff(body);
    if (h.format == ImageHeader.Format.UNKNOWN) {
      return Processed.failed(
          DownloadStatus.FAILED_TO_DOWNLOAD,
          DownloadStatus.REASON_NOT_IMAGE,
          "the content is not an image sparkclip reads (JPEG, PNG, GIF, BMP, WebP): "
              + describe(body, contentType),
          sha);
    }
    Raster8 r;
    try {
      r = decoder.decode(body);
    } catch (BadImageException e) {
      boolean big = e.status() == RowStatus.TOO_LARGE;
      return Processed.failed(
          DownloadStatus.FAILED_TO_RESIZE,
          big ? DownloadStatus.REASON_IMAGE_TOO_LARGE : DownloadStatus.REASON_DECODE,
          e.getMessage(),
          sha);
    }
    int ow = r.width;
    int oh = r.height;
    String exif = ExifJson.of(body);
    if (mode == ResizeMode.NO) {
      return new Processed(DownloadStatus.SUCCESS, null, null, body, ow, oh, ow, oh, sha, exif);
    }
    try {
      byte[] rgb = rgb(r);
      Raster8 out = resize(new Raster8(ow, oh, PilMode.RGB, rgb));
      return new Processed(
          DownloadStatus.SUCCESS, null, null, jpeg(out), out.width, out.height, ow, oh, sha, exif);
    } catch (IOException | RuntimeException e) {
      return Processed.failed(
          DownloadStatus.FAILED_TO_RESIZE,
          DownloadStatus.REASON_ENCODE,
          "resizing or encoding failed: " + e,
          sha);
    }
  }

  /** RGB pixels; transparency is composited on white, as img2dataset does. */
  private static byte[] rgb(Raster8 r) {
    if (r.mode != PilMode.RGBA) {
      return PilConvert.toRgb(r);
    }
    int n = r.width * r.height;
    byte[] d = r.data;
    byte[] out = new byte[n * 3];
    for (int i = 0, o = 0; i < n * 4; i += 4, o += 3) {
      int a = d[i + 3] & 0xff;
      for (int c = 0; c < 3; c++) {
        // alpha/255 * c + 255 - alpha, rounded half to even as numpy's rint.
        double v = a / 255.0 * (d[i + c] & 0xff) + 255 - a;
        out[o + c] = (byte) Math.max(0, Math.min(255, Math.rint(v)));
      }
    }
    return out;
  }

  /** img2dataset's geometry (albumentations' SmallestMaxSize / LongestMaxSize, CenterCrop, pad). */
  Raster8 resize(Raster8 src) {
    int w = src.width;
    int h = src.height;
    boolean longest = mode == ResizeMode.BORDER;
    int side = longest ? Math.max(w, h) : Math.min(w, h);
    boolean downscale = side > size;
    Raster8 scaled = src;
    if (!onlyIfBigger || downscale) {
      double scale = (double) size / side;
      int nw = Math.max(1, (int) Math.rint(w * scale));
      int nh = Math.max(1, (int) Math.rint(h * scale));
      if (nw != w || nh != h) {
        scaled = PillowResample.resize(src, nw, nh, PillowResample.Filter.BICUBIC, 0, 0, nw, nh);
      }
    }
    return switch (mode) {
      case CENTER_CROP -> centerCrop(scaled);
      case BORDER -> pad(scaled);
      default -> scaled;
    };
  }

  private Raster8 centerCrop(Raster8 r) {
    if (r.width < size || r.height < size) {
      // Smaller than the square (only with resize-only-if-bigger): pad it as albumentations does.
      return pad(r);
    }
    return PillowResample.crop(r, (r.width - size) / 2, (r.height - size) / 2, size, size);
  }

  private Raster8 pad(Raster8 r) {
    int w = Math.max(size, r.width);
    int h = Math.max(size, r.height);
    if (w == r.width && h == r.height) {
      return r;
    }
    byte[] out = new byte[w * h * 3];
    java.util.Arrays.fill(out, (byte) 255);
    int left = (w - r.width) / 2;
    int top = (h - r.height) / 2;
    for (int y = 0; y < r.height; y++) {
      System.arraycopy(r.data, y * r.width * 3, out, ((top + y) * w + left) * 3, r.width * 3);
    }
    return new Raster8(w, h, PilMode.RGB, out);
  }

  private byte[] jpeg(Raster8 r) throws IOException {
    BufferedImage img = new BufferedImage(r.width, r.height, BufferedImage.TYPE_3BYTE_BGR);
    byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    byte[] src = r.data;
    for (int i = 0; i < src.length; i += 3) {
      dst[i] = src[i + 2];
      dst[i + 1] = src[i + 1];
      dst[i + 2] = src[i];
    }
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(quality);
      writer.write(null, new IIOImage(img, null, null), p);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What a non-image body looks like, for the message: its type and first characters. */
  static String describe(byte[] body, String contentType) {
    int n = Math.min(body.length, 40);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int c = body[i] & 0xff;
      s.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
    }
    String start = s.toString();
    String lower = new String(body, 0, n, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
    String kind =
        lower.contains("<html") || lower.contains("<!doctype") ? "an HTML page" : "unknown bytes";
    return kind
        + " (Content-Type "
        + (contentType == null ? "absent" : contentType)
        + ", "
        + body.length
        + " bytes, starting '"
        + start
        + "')";
  }
}
