package io.sparkclip.jobs.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.generate.ShapeRenderer;
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
    double limit = DedupJob.Options.IMAGE_DISTANCE_DEFAULT;
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
        .isGreaterThan(DedupJob.Options.IMAGE_DISTANCE_DEFAULT);
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

  @Test
  void refusesThumbnailsOfTheWrongSize() {
    byte[] t = thumb(scene(1, 64, 64));
    assertThatThrownBy(() -> CropTolerantThumbnail.distance(t, new byte[12]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 12");
  }
}
