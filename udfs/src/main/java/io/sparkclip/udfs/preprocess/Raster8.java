package io.sparkclip.udfs.preprocess;

/** An 8-bit image with interleaved bands, row-major, in a given {@link PilMode}. */
public final class Raster8 {
  public final int width;
  public final int height;
  public final PilMode mode;
  public final byte[] data;

  public Raster8(int width, int height, PilMode mode, byte[] data) {
    if ((long) width * height * mode.bands() != data.length) {
      throw new IllegalArgumentException(
          "raster " + width + "x" + height + "x" + mode.bands() + " but " + data.length + " bytes");
    }
    this.width = width;
    this.height = height;
    this.mode = mode;
    this.data = data;
  }

  public int bands() {
    return mode.bands();
  }

  public Raster8 withMode(PilMode newMode, byte[] newData) {
    return new Raster8(width, height, newMode, newData);
  }
}
