package io.sparkclip.udfs.preprocess;

/**
 * Format and dimensions read from the first bytes of an encoded image, without decoding it (the
 * decompression-bomb guard runs on these before any raster is allocated).
 */
public final class ImageHeader {
  /** Container formats the engine recognizes by magic bytes. */
  public enum Format {
    JPEG,
    PNG,
    GIF,
    BMP,
    WEBP,
    UNKNOWN
  }

  public final Format format;
  public final int width;
  public final int height;

  /** JPEG: number of colour components in the frame (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK); else 0. */
  public final int components;

  ImageHeader(Format format, int width, int height, int components) {
    this.format = format;
    this.width = width;
    this.height = height;
    this.components = components;
  }

  public long pixels() {
    return (long) width * height;
  }

  public boolean hasDimensions() {
    return width > 0 && height > 0;
  }

  private static int u8(byte[] b, int i) {
    return b[i] & 0xff;
  }

  private static int be16(byte[] b, int i) {
    return (u8(b, i) << 8) | u8(b, i + 1);
  }

  private static int le16(byte[] b, int i) {
    return u8(b, i) | (u8(b, i + 1) << 8);
  }

  private static long be32(byte[] b, int i) {
    return ((long) be16(b, i) << 16) | be16(b, i + 2);
  }

  private static long le32(byte[] b, int i) {
    return le16(b, i) | ((long) le16(b, i + 2) << 16);
  }

  private static int clampInt(long v) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(0, v));
  }

  /** Sniffs {@code bytes}; dimensions are 0 when the header is truncated or not understood. */
  public static ImageHeader sniff(byte[] b) {
    int n = b.length;
    try {
      if (n >= 3 && u8(b, 0) == 0xFF && u8(b, 1) == 0xD8) {
        return jpeg(b);
      }
      if (n >= 24 && u8(b, 0) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
        return new ImageHeader(Format.PNG, clampInt(be32(b, 16)), clampInt(be32(b, 20)), 0); // IHDR
      }
      if (n >= 10 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F') {
        return new ImageHeader(Format.GIF, le16(b, 6), le16(b, 8), 0);
      }
      if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
        long w = (int) le32(b, 18);
        long h = Math.abs((int) le32(b, 22));
        return new ImageHeader(Format.BMP, clampInt(w), clampInt(h), 0);
      }
      if (n >= 30
          && b[0] == 'R'
          && b[1] == 'I'
          && b[2] == 'F'
          && b[3] == 'F'
          && b[8] == 'W'
          && b[9] == 'E'
          && b[10] == 'B'
          && b[11] == 'P') {
        return webp(b);
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      // truncated header: fall through to UNKNOWN dimensions of the detected format below
    }
    return new ImageHeader(Format.UNKNOWN, 0, 0, 0);
  }

  /**
   * True when a JPEG has no end-of-image marker (FF D9) after its first start-of-scan: the file was
   * cut short. libjpeg (ImageIO, OpenCV) then pads the missing scan lines with grey and only warns;
   * PIL refuses it ("image file is truncated"), so sparkclip does too rather than embed half an
   * image. Entropy-coded data byte-stuffs 0xFF, so FF D9 after the scan start can only be the EOI.
   */
  public static boolean truncatedJpeg(byte[] b) {
    int sos = -1;
    int i = 2;
    while (i + 3 < b.length) {
      if (u8(b, i) != 0xFF) {
        i++;
        continue;
      }
      int marker = u8(b, i + 1);
      if (marker == 0xFF) {
        i++;
        continue;
      }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        i += 2;
        continue;
      }
      if (marker == 0xDA) {
        sos = i;
        break;
      }
      i += 2 + be16(b, i + 2);
    }
    if (sos < 0) {
      return true;
    }
    for (int j = b.length - 2; j > sos; j--) {
      if (b[j] == (byte) 0xFF && b[j + 1] == (byte) 0xD9) {
        return false;
      }
    }
    return true;
  }

  private static ImageHeader jpeg(byte[] b) {
    int i = 2;
    while (i + 9 < b.length) {
      if (u8(b, i) != 0xFF) {
        i++;
        continue;
      }
      int marker = u8(b, i + 1);
      if (marker == 0xFF) {
        i++;
        continue;
      }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        i += 2;
        continue;
      }
      int len = be16(b, i + 2);
      boolean sof =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        return new ImageHeader(Format.JPEG, be16(b, i + 7), be16(b, i + 5), u8(b, i + 9));
      }
      i += 2 + len;
    }
    return new ImageHeader(Format.JPEG, 0, 0, 0);
  }

  private static ImageHeader webp(byte[] b) {
    String chunk = new String(b, 12, 4, java.nio.charset.StandardCharsets.US_ASCII);
    switch (chunk) {
      case "VP8 ":
        return new ImageHeader(Format.WEBP, le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF, 0);
      case "VP8L":
        {
          long bits = le32(b, 21);
          return new ImageHeader(
              Format.WEBP, (int) (bits & 0x3FFF) + 1, (int) ((bits >> 14) & 0x3FFF) + 1, 0);
        }
      case "VP8X":
        {
          int w = 1 + (u8(b, 24) | (u8(b, 25) << 8) | (u8(b, 26) << 16));
          int h = 1 + (u8(b, 27) | (u8(b, 28) << 8) | (u8(b, 29) << 16));
          return new ImageHeader(Format.WEBP, w, h, 0);
        }
      default:
        return new ImageHeader(Format.WEBP, 0, 0, 0);
    }
  }
}
