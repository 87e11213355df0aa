package io.sparkclip.jobs.stage.copydetect;

import java.util.Arrays;

/**
 * The exact keys under which two images become near-duplicate candidates: an image is a candidate
 * of every image that shares one of its keys. Each key carries its table in the top byte.
 *
 * <ul>
 *   <li>Tables 0–3: the four 16-bit bands of the 64-bit pHash. Re-encodes and resizes keep most of
 *       their pHash (any pair within 3 bits shares a band, by pigeonhole; on the generator's ground
 *       truth 98 % of re-encodes and 85 % of resizes are within 2 bits).
 *   <li>Table 4: {@link PerceptualHash#layoutHash} (24 bits) of the whole image and of regions cut
 *       by 2 % and 4 % per side and by asymmetric 1 %/4 % margins: a light crop of an image hashes
 *       like the region of the original it shows, although its pHash moves by up to 14 bits.
 *   <li>Table 5: the same with 15 bits (coarser, more crop-tolerant, more random collisions).
 * </ul>
 *
 * <p>Random collisions grow with the number of images sharing a coarse look; near-duplicate search
 * caps every key's bucket, so they cost bounded work, never recall of small buckets.
 */
public final class CandidateKeys {
  private CandidateKeys() {}

  /** Regions of table 4: left, top, right, bottom margins. */
  public static final double[][] FINE_REGIONS = {
    {0, 0, 0, 0},
    {0.02, 0.02, 0.02, 0.02},
    {0.04, 0.04, 0.04, 0.04},
    {0.01, 0.01, 0.04, 0.04},
    {0.04, 0.04, 0.01, 0.01},
    {0.01, 0.04, 0.04, 0.01},
    {0.04, 0.01, 0.01, 0.04}
  };

  /** Regions of table 5. */
  public static final double[][] COARSE_REGIONS = {
    {0, 0, 0, 0}, {0.02, 0.02, 0.02, 0.02}, {0.04, 0.04, 0.04, 0.04}
  };

  /** Most keys of one image ({@link #of}). */
  public static final int MAX_KEYS = 4 + FINE_REGIONS.length + COARSE_REGIONS.length;

  static final int FINE_LOW = 5;
  static final int COARSE_LOW = 4;

  /** Distinct keys of one image. */
  public static long[] of(long phash, byte[] thumbnail) {
    long[] keys = new long[4 + FINE_REGIONS.length + COARSE_REGIONS.length];
    int k = 0;
    for (int band = 0; band < 4; band++) {
      keys[k++] = key(band, (phash >>> (16 * band)) & 0xFFFFL);
    }
    double[] luma = CropTolerantThumbnail.luma(thumbnail);
    for (double[] m : FINE_REGIONS) {
      keys[k++] = key(4, PerceptualHash.layoutHash(luma, FINE_LOW, m[0], m[1], m[2], m[3]));
    }
    for (double[] m : COARSE_REGIONS) {
      keys[k++] = key(5, PerceptualHash.layoutHash(luma, COARSE_LOW, m[0], m[1], m[2], m[3]));
    }
    return Arrays.stream(keys).distinct().toArray();
  }

  /** The key of {@code value} in {@code table} (0-3: the pHash bands). */
  public static long key(int table, long value) {
    return ((long) table << 56) | value;
  }
}
