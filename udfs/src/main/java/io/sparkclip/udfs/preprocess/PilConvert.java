package io.sparkclip.udfs.preprocess;

/** Pillow's 8-bit mode conversions (libImaging/Convert.c) that open_clip's transform hits. */
public final class PilConvert {
  private PilConvert() {}

  private static int mulDiv255(int a, int b) {
    int tmp = a * b + 128;
    return ((tmp >> 8) + tmp) >> 8;
  }

  private static int clip8(int v) {
    return v < 0 ? 0 : (v > 255 ? 255 : v);
  }

  /** RGBA -> RGBa (rgbA2rgba): premultiply the colour bands by alpha. */
  public static byte[] premultiply(byte[] rgba) {
    byte[] out = new byte[rgba.length];
    for (int i = 0; i < rgba.length; i += 4) {
      int a = rgba[i + 3] & 0xff;
      out[i] = (byte) mulDiv255(rgba[i] & 0xff, a);
      out[i + 1] = (byte) mulDiv255(rgba[i + 1] & 0xff, a);
      out[i + 2] = (byte) mulDiv255(rgba[i + 2] & 0xff, a);
      out[i + 3] = (byte) a;
    }
    return out;
  }

  /** RGBa -> RGBA (rgba2rgbA): undo premultiplication; alpha 0 and 255 are copied. */
  public static byte[] unpremultiply(byte[] rgba) {
    byte[] out = new byte[rgba.length];
    for (int i = 0; i < rgba.length; i += 4) {
      int a = rgba[i + 3] & 0xff;
      for (int c = 0; c < 3; c++) {
        int v = rgba[i + c] & 0xff;
        out[i + c] = (byte) (a == 255 || a == 0 ? v : clip8((255 * v) / a));
      }
      out[i + 3] = (byte) a;
    }
    return out;
  }

  /** {@code convert("RGB")}: L replicates, RGBA drops alpha, CMYK uses cmyk2rgb, P is expanded. */
  public static byte[] toRgb(Raster8 r) {
    int n = r.width * r.height;
    byte[] d = r.data;
    switch (r.mode) {
      case RGB:
      case P:
        return d;
      case L:
        {
          byte[] out = new byte[n * 3];
          for (int i = 0, o = 0; i < n; i++, o += 3) {
            out[o] = d[i];
            out[o + 1] = d[i];
            out[o + 2] = d[i];
          }
          return out;
        }
      case RGBA:
        {
          byte[] out = new byte[n * 3];
          for (int i = 0, o = 0; i < n * 4; i += 4, o += 3) {
            out[o] = d[i];
            out[o + 1] = d[i + 1];
            out[o + 2] = d[i + 2];
          }
          return out;
        }
      case CMYK:
        {
          byte[] out = new byte[n * 3];
          for (int i = 0, o = 0; i < n * 4; i += 4, o += 3) {
            int nk = 255 - (d[i + 3] & 0xff);
            out[o] = (byte) clip8(nk - mulDiv255(d[i] & 0xff, nk));
            out[o + 1] = (byte) clip8(nk - mulDiv255(d[i + 1] & 0xff, nk));
            out[o + 2] = (byte) clip8(nk - mulDiv255(d[i + 2] & 0xff, nk));
          }
          return out;
        }
      default:
        throw new IllegalArgumentException("mode " + r.mode);
    }
  }
}
