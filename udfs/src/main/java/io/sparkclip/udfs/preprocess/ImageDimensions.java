package io.sparkclip.udfs.preprocess;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The width and height of an encoded image, read from its header without decoding a pixel.
 *
 * <p>ImageIO's reader for the format parses only the header for {@link ImageReader#getWidth} and
 * {@link ImageReader#getHeight} (JPEG: the frame header; PNG: IHDR; GIF, BMP, TIFF likewise), so
 * this costs microseconds and allocates no raster, whatever the image's size. The JDK has no WebP
 * reader; for WebP (when no ImageIO plugin on the classpath reads it) the dimensions come from the
 * VP8/VP8L/VP8X header fields {@link ImageHeader} reads, the ones embed's decompression-bomb guard
 * already trusts. The stream is in memory: {@code ImageIO.createImageInputStream} would spool every
 * image through a temporary file.
 */
public final class ImageDimensions {
  private ImageDimensions() {}

  /**
   * What the header says: the format (ImageIO's name, lower case) and size, or why they cannot be
   * read ({@code error} set, width and height 0).
   */
  public record Result(String format, int width, int height, String error) implements Serializable {
    public boolean readable() {
      return error == null;
    }

    public int shortestSide() {
      return Math.min(width, height);
    }

    /** Longest over shortest side (≥ 1); only for a readable result. */
    public double aspectRatio() {
      return (double) Math.max(width, height) / Math.min(width, height);
    }

    static Result of(String format, int width, int height) {
      if (width <= 0 || height <= 0) {
        return failed(format + " header gives a size of " + width + "x" + height);
      }
      return new Result(format, width, height, null);
    }

    static Result failed(String why) {
      return new Result(null, 0, 0, why);
    }
  }

  /** Reads the header of {@code bytes}; never throws for bad bytes, it says why instead. */
  public static Result read(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return Result.failed("no image bytes");
    }
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        return withoutImageIoReader(bytes);
      }
      ImageReader reader = readers.next();
      String format = reader.getFormatName().toLowerCase(Locale.ROOT);
      try {
        reader.setInput(in, true, true);
        return Result.of(format, reader.getWidth(0), reader.getHeight(0));
      } catch (IOException | RuntimeException e) {
        // A header cut short (EOF inside it) or not valid for the format its magic bytes claim.
        return Result.failed(
            format + " header unreadable: " + e.getClass().getSimpleName() + ": " + e.getMessage());
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      return Result.failed("reading the header failed: " + e);
    }
  }

  private static Result withoutImageIoReader(byte[] bytes) {
    ImageHeader h = ImageHeader.sniff(bytes);
    if (h.format == ImageHeader.Format.WEBP) {
      return h.hasDimensions()
          ? Result.of("webp", h.width, h.height)
          : Result.failed("webp header is truncated or invalid (" + bytes.length + " bytes)");
    }
    StringBuilder magic = new StringBuilder();
    for (int i = 0; i < Math.min(4, bytes.length); i++) {
      magic.append(String.format(Locale.ROOT, "%02x", bytes[i] & 0xff));
    }
    return Result.failed(
        "no image reader recognises these " + bytes.length + " bytes (magic " + magic + ")");
  }
}
