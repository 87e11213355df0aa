package io.sparkclip.udfs.preprocess;

import io.sparkclip.udfs.model.PreprocessConfig;
import java.io.Serializable;

/**
 * open_clip's eval image transform on a decoded image: {@code Resize(size, BICUBIC)} (shortest
 * side; {@code squash} resizes to size x size) then {@code CenterCrop(size)}, {@code
 * _convert_to_rgb}, {@code ToTensor}, {@code Normalize(mean, std)}. Resizing follows Pillow per
 * mode (palette NEAREST, RGBA premultiplied), so the output matches PIL + torchvision.
 */
public final class ClipImageTransform implements Serializable {
  private static final long serialVersionUID = 1L;

  private final PreprocessConfig cfg;
  private final float[] scale = new float[3];
  private final float[] shift = new float[3];

  public ClipImageTransform(PreprocessConfig cfg) {
    this.cfg = cfg;
    float[] mean = cfg.mean();
    float[] std = cfg.std();
    for (int c = 0; c < 3; c++) {
      // (v/255 - mean)/std, computed as torch does it step by step in float32 (see normalize)
      scale[c] = 1f / std[c];
      shift[c] = mean[c];
    }
  }

  public PreprocessConfig config() {
    return cfg;
  }

  /**
   * Output size of torchvision's {@code Resize(int)}: short side to size, long =
   * int(size*long/short).
   */
  static int[] resizedSize(int w, int h, int size) {
    if (w <= h) {
      return new int[] {size, (int) ((long) size * h / w)};
    }
    return new int[] {(int) ((long) size * w / h), size};
  }

  /** torchvision CenterCrop offset: int(round((in - out) / 2.0)) with Python's half-to-even. */
  static int cropOffset(int in, int out) {
    return (int) Math.rint((in - out) / 2.0);
  }

  /** Resize + center crop + convert("RGB"): the 8-bit RGB image ToTensor would see (HWC). */
  public byte[] toRgb8(Raster8 img) {
    int size = cfg.size();
    int outW;
    int outH;
    if (cfg.resizeMode() == PreprocessConfig.ResizeMode.SQUASH) {
      outW = size;
      outH = size;
    } else {
      int[] wh = resizedSize(img.width, img.height, size);
      outW = wh[0];
      outH = wh[1];
    }
    int x0 = cropOffset(outW, size);
    int y0 = cropOffset(outH, size);
    if (x0 < 0 || y0 < 0) {
      throw new IllegalStateException("resized image " + outW + "x" + outH + " smaller than crop");
    }
    Raster8 resized;
    if (img.mode == PilMode.P || cfg.interpolation() == PreprocessConfig.Interpolation.NEAREST) {
      resized = PillowResample.resizeNearest(img, outW, outH, x0, y0, size, size);
    } else {
      PillowResample.Filter f =
          cfg.interpolation() == PreprocessConfig.Interpolation.BILINEAR
              ? PillowResample.Filter.BILINEAR
              : PillowResample.Filter.BICUBIC;
      if (img.mode == PilMode.RGBA && (outW != img.width || outH != img.height)) {
        Raster8 pre = img.withMode(PilMode.RGBA, PilConvert.premultiply(img.data));
        Raster8 r = PillowResample.resize(pre, outW, outH, f, x0, y0, size, size);
        resized = r.withMode(PilMode.RGBA, PilConvert.unpremultiply(r.data));
      } else {
        resized = PillowResample.resize(img, outW, outH, f, x0, y0, size, size);
      }
    }
    return PilConvert.toRgb(resized);
  }

  /** ToTensor + Normalize into {@code out[offset ..]} as CHW float32. */
  public void normalize(byte[] rgb, float[] out, int offset) {
    int n = rgb.length / 3;
    for (int c = 0; c < 3; c++) {
      int base = offset + c * n;
      float m = shift[c];
      float s = scale[c];
      for (int i = 0; i < n; i++) {
        out[base + i] = ((rgb[i * 3 + c] & 0xff) / 255f - m) * s;
      }
    }
  }

  /** Floats per image: 3 * size * size. */
  public int tensorSize() {
    return 3 * cfg.size() * cfg.size();
  }
}
