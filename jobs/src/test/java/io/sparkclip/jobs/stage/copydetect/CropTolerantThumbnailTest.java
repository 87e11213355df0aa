package io.sparkclip.jobs.stage.copydetect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.generate.ShapeRenderer;
import io.sparkclip.jobs.stage.StageKeys;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CropTolerantThumbnailTest {

  /** A busy scene: a large shape among many small grey rectangles, like web photos' texture. */
  private static BufferedImage scene(long seed, int w, int h) {
    SplittableRandom r = new SplittableRandom(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(new Color(230, 230, 225));
    g.fillRect(0, 0, w, h);
    for (int i = 0; i < 60; i++) {
      int v = 60 + r.nextInt(150);
      g.setColor(new Color(v, v, v));
      g.fillRect(r.nextInt(w), r.nextInt(h), 4 + r.nextInt(w / 8), 4 + r.nextInt(h / 8));
    }
    g.setColor(new Color(200, 40, 40));
    g.fillOval(w / 4, h / 4, w / 2, h / 2);
    g.dispose();
    return img;
  }

  private static byte[] thumb(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    return CropTolerantThumbnail.of(img.getRGB(0, 0, w, h, null, 0, w), w, h);
  }

  private static BufferedImage reencoded(BufferedImage img, int quality) throws Exception {
    return PerceptualHash.decode(ShapeRenderer.jpeg(img, quality));
  }

  @Test
  void identicalImagesHaveDistanceZero() {
    byte[] t = thumb(scene(1, 300, 200));
    assertThat(CropTolerantThumbnail.distance(t, t)).as("distance to itself").isZero();
  }

  @Test
  void reencodedResizedAndCroppedCopiesStayCloseDistinctScenesDoNot() throws Exception {
    BufferedImage img = scene(7, 400, 300);
    byte[] original = thumb(img);
    double reencoded = CropTolerantThumbnail.distance(original, thumb(reencoded(img, 55)));
    double resized =
        CropTolerantThumbnail.distance(
            original, thumb(reencoded(ShapeRenderer.resize(img, 220, 165), 85)));
    // 5 % off the left and top, 2 % off the right and bottom, then JPEG.
    BufferedImage cropped = ShapeRenderer.crop(img, 20, 15, 400 - 20 - 8, 300 - 15 - 6);
    double crop = CropTolerantThumbnail.distance(original, thumb(reencoded(cropped, 88)));
    double cropReversed = CropTolerantThumbnail.distance(thumb(reencoded(cropped, 88)), original);
    double plainCrop =
        PerceptualHash.colourDistance(
            PerceptualHash.colourSignature(img), PerceptualHash.colourSignature(cropped));

    double closestDistinct = Double.MAX_VALUE;
    for (long seed = 100; seed < 110; seed++) {
      closestDistinct =
          Math.min(
              closestDistinct,
              CropTolerantThumbnail.distance(original, thumb(scene(seed, 400, 300))));
    }
    double limit = StageKeys.IMAGE_DISTANCE_DEFAULT;
    assertThat(reencoded).as("JPEG q55 re-encode").isLessThan(limit);
    assertThat(resized).as("resized to 55 %% + JPEG").isLessThan(limit);
    assertThat(crop)
        .as("5/5/2/2 %% crop + JPEG (colour-grid distance without alignment %.2f)", plainCrop)
        .isLessThan(limit);
    assertThat(cropReversed).as("symmetric").isEqualTo(crop);
    assertThat(closestDistinct)
        .as("closest of 10 distinct scenes with the same shape and clutter density")
        .isGreaterThan(limit);
    assertThat(closestDistinct)
        .as("margin: closest distinct scene vs farthest copy")
        .isGreaterThan(1.5 * Math.max(crop, Math.max(resized, reencoded)));
  }

  @Test
  void aDistinctObjectInAFewCellsIsNotADuplicate() {
    BufferedImage img = scene(3, 400, 300);
    BufferedImage edited = new BufferedImage(400, 300, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = edited.createGraphics();
    g.drawImage(img, 0, 0, null);
    // A yellow 40×30 px logo: 1 % of the area, which a whole-image mean barely notices.
    g.setColor(new Color(250, 210, 0));
    g.fillRect(340, 250, 40, 30);
    g.dispose();
    assertThat(CropTolerantThumbnail.distance(thumb(img), thumb(edited)))
        .as("distance of an image and the same with a small added object")
        .isGreaterThan(StageKeys.IMAGE_DISTANCE_DEFAULT);
  }

  @Test
  void theShortcutsDecideAsTheFullDistanceDoes() throws Exception {
    BufferedImage img = scene(11, 400, 300);
    byte[] original = thumb(img);
    java.util.List<byte[]> others = new java.util.ArrayList<>();
    others.add(thumb(reencoded(img, 60)));
    others.add(thumb(reencoded(ShapeRenderer.resize(img, 250, 190), 80)));
    others.add(thumb(reencoded(ShapeRenderer.crop(img, 16, 12, 400 - 16 - 12, 300 - 12 - 9), 85)));
    for (long seed = 200; seed < 206; seed++) {
      others.add(thumb(scene(seed, 400, 300)));
    }
    int agreed = 0;
    for (byte[] other : others) {
      double unshifted = CropTolerantThumbnail.worstCells(original, other, new double[4]);
      double full = CropTolerantThumbnail.distance(original, other);
      for (double limit : new double[] {3, 8, 14, 20, 40}) {
        assertThat(CropTolerantThumbnail.worstExceeds(original, other, new double[4], limit))
            .as("early exit at limit %.0f, unshifted distance %.3f", limit, unshifted)
            .isEqualTo(unshifted > limit);
        assertThat(CropTolerantThumbnail.within(original, other, limit))
            .as("within at limit %.0f (unshifted %.3f, full %.3f)", limit, unshifted, full)
            .isEqualTo(unshifted <= limit || full <= limit);
        agreed++;
      }
    }
    assertThat(agreed).as("decisions compared").isEqualTo(45);
  }

  @Test
  void theCellBoundNeverExceedsTheCellDifferenceAndOnlyRejectsWhatTheDifferenceRejects()
      throws Exception {
    BufferedImage img = scene(21, 400, 300);
    byte[] original = thumb(img);
    java.util.List<byte[]> others = new java.util.ArrayList<>();
    others.add(thumb(reencoded(img, 50)));
    others.add(thumb(reencoded(ShapeRenderer.crop(img, 20, 6, 400 - 20 - 4, 300 - 6 - 15), 80)));
    for (long seed = 300; seed < 306; seed++) {
      others.add(thumb(scene(seed, 400, 300)));
    }
    SplittableRandom r = new SplittableRandom(5);
    int n = CropTolerantThumbnail.SIZE;
    long cells = 0;
    long tight = 0;
    int rejectedByBound = 0;
    for (byte[] other : others) {
      for (int trial = 0; trial < 6; trial++) {
        double[] m = new double[4];
        for (int i = 0; i < 4; i++) {
          m[i] = trial == 0 ? 0 : r.nextDouble() * CropTolerantThumbnail.MAX_CROP;
        }
        // Positions as worstExceeds walks them, fractional and clamped at the borders.
        for (int y = 0; y < n; y++) {
          double py = (m[1] + (y + 0.5) / n * (1 - m[1] - m[3])) * n - 0.5;
          for (int x = 0; x < n; x++) {
            double px = (m[0] + (x + 0.5) / n * (1 - m[0] - m[2])) * n - 0.5;
            int o = (y * n + x) * 3;
            double bound = CropTolerantThumbnail.cellBound(original, other, o, px, py);
            double cell = CropTolerantThumbnail.cell(original, other, o, px, py);
            assertThat(bound)
                .as("bound of cell (%d, %d) at margins %s", x, y, m)
                .isLessThanOrEqualTo(cell);
            cells++;
            if (cell - bound < 2) {
              tight++;
            }
          }
        }
        for (double limit : new double[] {8, 14, 28}) {
          boolean bound = CropTolerantThumbnail.boundExceeds(original, other, m, limit);
          boolean exact = CropTolerantThumbnail.worstExceeds(original, other, m, limit);
          if (bound) {
            rejectedByBound++;
            assertThat(exact).as("the bound rejects only what the difference rejects").isTrue();
          }
        }
      }
    }
    assertThat(cells).as("cells compared").isEqualTo(8L * 6 * n * n);
    assertThat((double) tight / cells)
        .as("share of cells whose bound is within 2 of the difference")
        .isGreaterThan(0.5);
    assertThat(rejectedByBound).as("decisions the bound made alone").isGreaterThan(20);
  }

  /** Where cell {@code i} of a crop cut by {@code margin} (scale = 1 − both margins) lies. */
  private static double position(double margin, double scale, int i) {
    int n = CropTolerantThumbnail.SIZE;
    return (margin + (i + 0.5) / n * scale) * n - 0.5;
  }

  /** Linear interpolation of {@code v} at {@code pos}, clamped to the line: the definition. */
  private static double lerp(double[] v, double pos) {
    int n = CropTolerantThumbnail.SIZE;
    double f = Math.min(n - 1.0, Math.max(0, pos));
    int i = (int) f;
    int j = Math.min(n - 1, i + 1);
    double a = f - i;
    return v[i] * (1 - a) + v[j] * a;
  }

  /** The mean absolute luma difference at margins {@code m}, computed cell by cell. */
  private static double referenceError(double[] crop, double[] full, double[] m) {
    int n = CropTolerantThumbnail.SIZE;
    double s = 0;
    for (int y = 0; y < n; y++) {
      double[] rows = new double[n];
      double fy = Math.min(n - 1.0, Math.max(0, position(m[1], 1 - m[1] - m[3], y)));
      int y0 = (int) fy;
      int y1 = Math.min(n - 1, y0 + 1);
      double ay = fy - y0;
      for (int x = 0; x < n; x++) {
        rows[x] = full[y0 * n + x] * (1 - ay) + full[y1 * n + x] * ay;
      }
      for (int x = 0; x < n; x++) {
        s += Math.abs(crop[y * n + x] - lerp(rows, position(m[0], 1 - m[0] - m[2], x)));
      }
    }
    return s / (n * n);
  }

  /** One cell's difference at (px, py) within half a cell, computed offset by offset. */
  private static double referenceCell(byte[] crop, byte[] full, int o, double px, double py) {
    int n = CropTolerantThumbnail.SIZE;
    double best = Double.MAX_VALUE;
    for (double oy : new double[] {-0.5, 0, 0.5}) {
      for (double ox : new double[] {-0.5, 0, 0.5}) {
        double fy = Math.min(n - 1.0, Math.max(0, py + oy));
        double fx = Math.min(n - 1.0, Math.max(0, px + ox));
        int y0 = (int) fy;
        int x0 = (int) fx;
        int y1 = Math.min(n - 1, y0 + 1);
        int x1 = Math.min(n - 1, x0 + 1);
        double ay = fy - y0;
        double ax = fx - x0;
        double d = 0;
        for (int c = 0; c < 3; c++) {
          double top = (full[(y0 * n + x0) * 3 + c] & 0xff) * (1 - ax);
          top += (full[(y0 * n + x1) * 3 + c] & 0xff) * ax;
          double bottom = (full[(y1 * n + x0) * 3 + c] & 0xff) * (1 - ax);
          bottom += (full[(y1 * n + x1) * 3 + c] & 0xff) * ax;
          d += Math.abs((crop[o + c] & 0xff) - (top * (1 - ay) + bottom * ay));
        }
        best = Math.min(best, d / 3);
      }
    }
    return best;
  }

  /** The (low, high) margins whose resampled profile is closest, searched exhaustively. */
  private static double[] referenceFit(double[] crop, double[] full) {
    double best = Double.MAX_VALUE;
    double[] arg = {0, 0};
    for (int i = 0; i <= 16; i++) {
      for (int j = 0; j <= 16; j++) {
        double s = 0;
        for (int x = 0; x < crop.length; x++) {
          s += Math.abs(crop[x] - lerp(full, position(i * 0.005, 1 - i * 0.005 - j * 0.005, x)));
        }
        if (s < best) {
          best = s;
          arg = new double[] {i * 0.005, j * 0.005};
        }
      }
    }
    return arg;
  }

  @Test
  void theAlignmentTablesSampleExactlyAsTheCellByCellDefinition() throws Exception {
    BufferedImage img = scene(33, 400, 300);
    byte[] original = thumb(img);
    byte[][] others = {
      thumb(reencoded(ShapeRenderer.crop(img, 12, 18, 400 - 12 - 10, 300 - 18 - 4), 70)),
      thumb(scene(77, 320, 240))
    };
    SplittableRandom r = new SplittableRandom(9);
    int n = CropTolerantThumbnail.SIZE;
    for (byte[] other : others) {
      double[] la = CropTolerantThumbnail.luma(original);
      double[] lb = CropTolerantThumbnail.luma(other);
      for (boolean cols : new boolean[] {true, false}) {
        double[] pa = CropTolerantThumbnail.profile(la, cols);
        double[] pb = CropTolerantThumbnail.profile(lb, cols);
        assertThat(CropTolerantThumbnail.fitProfile(pa, pb))
            .as("profile fit, %s", cols ? "columns" : "rows")
            .containsExactly(referenceFit(pa, pb));
      }
      for (int trial = 0; trial < 8; trial++) {
        double[] m = new double[4];
        for (int i = 0; i < 4; i++) {
          // Both ends of the search range and values between (the borders clamp).
          m[i] = trial < 2 ? trial * CropTolerantThumbnail.MAX_CROP : r.nextDouble() * 0.08;
        }
        assertThat(CropTolerantThumbnail.error(la, lb, m, Double.MAX_VALUE))
            .as("luma error at margins %s", java.util.Arrays.toString(m))
            .isEqualTo(referenceError(la, lb, m));
        double[] cells = new double[n * n];
        for (int y = 0; y < n; y++) {
          for (int x = 0; x < n; x++) {
            int o = (y * n + x) * 3;
            double px = position(m[0], 1 - m[0] - m[2], x);
            double py = position(m[1], 1 - m[1] - m[3], y);
            cells[y * n + x] = referenceCell(original, other, o, px, py);
            assertThat(CropTolerantThumbnail.cell(original, other, o, px, py))
                .as("cell (%d, %d) at margins %s", x, y, java.util.Arrays.toString(m))
                .isEqualTo(cells[y * n + x]);
          }
        }
        java.util.Arrays.sort(cells);
        int worst = (int) Math.ceil(n * n * CropTolerantThumbnail.WORST_FRACTION);
        double sum = 0;
        for (int i = cells.length - worst; i < cells.length; i++) {
          sum += cells[i];
        }
        double expected = sum / worst;
        assertThat(CropTolerantThumbnail.worstCells(original, other, m))
            .as("worst cells at margins %s", java.util.Arrays.toString(m))
            .isEqualTo(expected);
        for (double limit : new double[] {expected - 1e-6, expected + 1e-6}) {
          assertThat(CropTolerantThumbnail.worstExceeds(original, other, m, limit))
              .as("worstExceeds at %s, limit %s", java.util.Arrays.toString(m), limit)
              .isEqualTo(expected > limit);
        }
      }
    }
  }

  @Test
  void theBoundOverEveryAlignmentNeverExceedsAnAlignmentsDistanceAndRejectsDistinctScenes()
      throws Exception {
    BufferedImage img = scene(41, 400, 300);
    byte[] original = thumb(img);
    java.util.List<byte[]> copies = new java.util.ArrayList<>();
    copies.add(thumb(reencoded(img, 50)));
    copies.add(thumb(reencoded(ShapeRenderer.crop(img, 28, 3, 400 - 28 - 8, 300 - 3 - 20), 80)));
    copies.add(thumb(reencoded(ShapeRenderer.resize(img, 200, 150), 85)));
    java.util.List<byte[]> distinct = new java.util.ArrayList<>();
    for (long seed = 500; seed < 520; seed++) {
      distinct.add(thumb(scene(seed, 400, 300)));
    }
    SplittableRandom r = new SplittableRandom(13);
    double limit = StageKeys.IMAGE_DISTANCE_DEFAULT;
    int rejected = 0;
    java.util.List<byte[]> all = new java.util.ArrayList<>(copies);
    all.addAll(distinct);
    for (byte[] other : all) {
      for (byte[][] pair : new byte[][][] {{original, other}, {other, original}}) {
        // The smallest distance over the margins tried, the corners of the range among them.
        double smallest = Double.MAX_VALUE;
        for (int trial = 0; trial < 40; trial++) {
          double[] m = new double[4];
          for (int i = 0; i < 4; i++) {
            double max = CropTolerantThumbnail.MAX_CROP;
            m[i] = trial < 16 ? ((trial >> i) & 1) * max : r.nextDouble() * max;
          }
          smallest = Math.min(smallest, CropTolerantThumbnail.worstCells(pair[0], pair[1], m));
        }
        double[] aligned =
            CropTolerantThumbnail.align(
                CropTolerantThumbnail.luma(pair[0]), CropTolerantThumbnail.luma(pair[1]));
        smallest = Math.min(smallest, CropTolerantThumbnail.worstCells(pair[0], pair[1], aligned));
        // At the smallest distance found, some alignment is within: the bound must not exceed it.
        assertThat(CropTolerantThumbnail.everyAlignmentExceeds(pair[0], pair[1], smallest))
            .as("the bound over every alignment at an alignment's own distance %s", smallest)
            .isFalse();
      }
      // within() rejects by the bound when it exceeds in both directions.
      boolean both =
          CropTolerantThumbnail.everyAlignmentExceeds(original, other, limit)
              && CropTolerantThumbnail.everyAlignmentExceeds(other, original, limit);
      if (copies.contains(other)) {
        assertThat(both).as("a copy rejected by the bound over every alignment").isFalse();
        assertThat(CropTolerantThumbnail.within(original, other, limit)).as("a copy").isTrue();
      } else if (both) {
        rejected++;
        assertThat(CropTolerantThumbnail.within(original, other, limit)).as("distinct").isFalse();
      }
    }
    assertThat(rejected)
        .as("distinct scenes (of %d) the bound alone rejects", distinct.size())
        .isGreaterThan(distinct.size() / 2);
  }

  @Test
  void refusesThumbnailsOfTheWrongSize() {
    byte[] t = thumb(scene(1, 64, 64));
    assertThatThrownBy(() -> CropTolerantThumbnail.distance(t, new byte[12]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 12");
  }
}
