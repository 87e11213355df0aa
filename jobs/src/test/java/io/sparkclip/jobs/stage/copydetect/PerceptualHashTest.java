package io.sparkclip.jobs.stage.copydetect;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.generate.ShapeRenderer;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PerceptualHashTest {

  private static BufferedImage noise(int type, int w, int h, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    BufferedImage img = new BufferedImage(w, h, type);
    Graphics2D g = img.createGraphics();
    for (int i = 0; i < 200; i++) {
      g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
      g.fillRect(r.nextInt(w), r.nextInt(h), 1 + r.nextInt(w / 4), 1 + r.nextInt(h / 4));
    }
    g.dispose();
    return img;
  }

  @Test
  void pixelsAreWhatGetRgbReturnsForDecodedJpegsAndEveryOtherLayout() throws Exception {
    BufferedImage jpeg =
        PerceptualHash.decode(
            ShapeRenderer.jpeg(noise(BufferedImage.TYPE_INT_RGB, 173, 91, 1), 85));
    assertThat(jpeg.getType())
        .as("a decoded colour JPEG (the layout read without getRGB)")
        .isEqualTo(BufferedImage.TYPE_3BYTE_BGR);
    BufferedImage[] images = {
      jpeg,
      PerceptualHash.decode(ShapeRenderer.png(noise(BufferedImage.TYPE_INT_ARGB, 64, 48, 2))),
      PerceptualHash.decode(ShapeRenderer.png(noise(BufferedImage.TYPE_BYTE_GRAY, 50, 70, 3))),
      noise(BufferedImage.TYPE_3BYTE_BGR, 40, 30, 4),
      // A view into a larger raster: same type, bytes not its own.
      noise(BufferedImage.TYPE_3BYTE_BGR, 80, 60, 5).getSubimage(7, 9, 40, 30)
    };
    for (BufferedImage img : images) {
      int w = img.getWidth();
      int h = img.getHeight();
      assertThat(PerceptualHash.Pixels.of(img).rgb())
          .as("pixels of a %dx%d image of type %d", w, h, img.getType())
          .containsExactly(img.getRGB(0, 0, w, h, null, 0, w));
    }
  }
}
