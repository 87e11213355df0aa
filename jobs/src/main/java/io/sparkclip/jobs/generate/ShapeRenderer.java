package io.sparkclip.jobs.generate;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Draws one coloured shape on a textured background with Java2D, and encodes JPEG or PNG. */
public final class ShapeRenderer {
  private ShapeRenderer() {}

  /** Everything that determines the pixels. Rendering the same scene twice gives equal pixels. */
  public record Scene(
      int width,
      int height,
      int colour,
      int shape,
      int position,
      int background,
      int style,
      double sizeFactor,
      double rotation,
      int noiseAmplitude,
      long noiseSeed) {}

  public static BufferedImage render(Scene s) {
    BufferedImage img = new BufferedImage(s.width(), s.height(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      paintBackground(g, s);
      paintClutter(g, s);
      Color fill = Vocabulary.COLOURS.get(s.colour()).rgb();
      double side = Math.min(s.width(), s.height());
      double r = side * 0.19 * s.sizeFactor();
      Vocabulary.Position p = Vocabulary.POSITIONS.get(s.position());
      double cx = p.cx() * s.width();
      double cy = p.cy() * s.height();
      Shape shape = outline(Vocabulary.SHAPES.get(s.shape()), r);
      AffineTransform at = new AffineTransform();
      at.translate(cx, cy);
      at.rotate(s.rotation());
      Shape placed = at.createTransformedShape(shape);
      g.setColor(fill);
      g.fill(placed);
      g.setColor(fill.darker());
      g.setStroke(new BasicStroke((float) Math.max(1, side / 160)));
      g.draw(placed);
    } finally {
      g.dispose();
    }
    addNoise(img, s.noiseAmplitude(), s.noiseSeed());
    return img;
  }

  private static void paintBackground(Graphics2D g, Scene s) {
    Color base = Vocabulary.BACKGROUNDS.get(s.background()).rgb();
    int w = s.width();
    int h = s.height();
    switch (Vocabulary.STYLES.get(s.style())) {
      case "gradient" -> {
        g.setPaint(new GradientPaint(0, 0, base.brighter(), w, h, base.darker()));
        g.fillRect(0, 0, w, h);
      }
      case "stripes" -> {
        g.setColor(base);
        g.fillRect(0, 0, w, h);
        g.setColor(blend(base, Color.WHITE, 0.18));
        int stripe = Math.max(4, Math.min(w, h) / 12);
        for (int x = -h; x < w; x += 2 * stripe) {
          Path2D band = new Path2D.Double();
          band.moveTo(x, 0);
          band.lineTo(x + stripe, 0);
          band.lineTo(x + stripe + h, h);
          band.lineTo(x + h, h);
          band.closePath();
          g.fill(band);
        }
      }
      case "speckled" -> {
        g.setColor(base);
        g.fillRect(0, 0, w, h);
        SplittableRandom rng = new SplittableRandom(s.noiseSeed() ^ 0x9E3779B97F4A7C15L);
        g.setColor(blend(base, Color.BLACK, 0.15));
        int dots = (w * h) / 400;
        for (int i = 0; i < dots; i++) {
          int d = 1 + rng.nextInt(3);
          g.fillOval(rng.nextInt(w), rng.nextInt(h), d, d);
        }
      }
      default -> {
        g.setColor(base);
        g.fillRect(0, 0, w, h);
      }
    }
  }

  /**
   * Background clutter, as real photos have: a few soft grey blobs and strokes at random places,
   * unique per image (seeded by the noise seed). Without it two distinct pairs with the same
   * colour, shape, position and background would be near-identical pictures, and a near-duplicate
   * detector could not tell them from a real near-duplicate. Grey only, under the shape: captions
   * stay true.
   */
  private static void paintClutter(Graphics2D g, Scene s) {
    SplittableRandom rng = new SplittableRandom(s.noiseSeed() ^ 0x5DEECE66DL);
    Color base = Vocabulary.BACKGROUNDS.get(s.background()).rgb();
    double side = Math.min(s.width(), s.height());
    int blobs = 2 + rng.nextInt(3);
    for (int i = 0; i < blobs; i++) {
      g.setColor(
          blend(
              base, rng.nextBoolean() ? Color.BLACK : Color.WHITE, 0.25 + 0.2 * rng.nextDouble()));
      double rx = side * (0.06 + 0.08 * rng.nextDouble());
      double ry = rx * (0.5 + rng.nextDouble());
      g.fill(
          new Ellipse2D.Double(
              rng.nextDouble() * s.width() - rx,
              rng.nextDouble() * s.height() - ry,
              2 * rx,
              2 * ry));
    }
    int strokes = 1 + rng.nextInt(3);
    for (int i = 0; i < strokes; i++) {
      g.setColor(blend(base, rng.nextBoolean() ? Color.BLACK : Color.WHITE, 0.3));
      g.setStroke(new BasicStroke((float) (side * (0.015 + 0.02 * rng.nextDouble()))));
      g.drawLine(
          rng.nextInt(s.width()),
          rng.nextInt(s.height()),
          rng.nextInt(s.width()),
          rng.nextInt(s.height()));
    }
  }

  private static Color blend(Color a, Color b, double t) {
    return new Color(
        (int) Math.round(a.getRed() * (1 - t) + b.getRed() * t),
        (int) Math.round(a.getGreen() * (1 - t) + b.getGreen() * t),
        (int) Math.round(a.getBlue() * (1 - t) + b.getBlue() * t));
  }

  static Shape outline(String name, double r) {
    return switch (name) {
      case "circle" -> new Ellipse2D.Double(-r, -r, 2 * r, 2 * r);
      case "square" -> new Rectangle2D.Double(-r * 0.9, -r * 0.9, 1.8 * r, 1.8 * r);
      case "triangle" -> polygon(3, r, -Math.PI / 2);
      case "hexagon" -> polygon(6, r, 0);
      case "diamond" -> {
        Path2D d = new Path2D.Double();
        d.moveTo(0, -r);
        d.lineTo(r * 0.65, 0);
        d.lineTo(0, r);
        d.lineTo(-r * 0.65, 0);
        d.closePath();
        yield d;
      }
      case "star" -> {
        Path2D st = new Path2D.Double();
        for (int i = 0; i < 10; i++) {
          double rr = i % 2 == 0 ? r : r * 0.42;
          double a = -Math.PI / 2 + i * Math.PI / 5;
          if (i == 0) {
            st.moveTo(rr * Math.cos(a), rr * Math.sin(a));
          } else {
            st.lineTo(rr * Math.cos(a), rr * Math.sin(a));
          }
        }
        st.closePath();
        yield st;
      }
      case "cross" -> {
        double t = r * 0.33;
        Path2D c = new Path2D.Double();
        c.append(new Rectangle2D.Double(-t, -r, 2 * t, 2 * r), false);
        c.append(new Rectangle2D.Double(-r, -t, 2 * r, 2 * t), false);
        c.setWindingRule(Path2D.WIND_NON_ZERO);
        yield c;
      }
      default -> throw new IllegalArgumentException("unknown shape " + name);
    };
  }

  private static Shape polygon(int n, double r, double start) {
    Path2D p = new Path2D.Double();
    for (int i = 0; i < n; i++) {
      double a = start + 2 * Math.PI * i / n;
      if (i == 0) {
        p.moveTo(r * Math.cos(a), r * Math.sin(a));
      } else {
        p.lineTo(r * Math.cos(a), r * Math.sin(a));
      }
    }
    p.closePath();
    return p;
  }

  /** Adds uniform per-channel noise in [-amplitude, amplitude], deterministic from the seed. */
  static void addNoise(BufferedImage img, int amplitude, long seed) {
    if (amplitude <= 0) {
      return;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
    int span = 2 * amplitude + 1;
    for (int k = 0; k < px.length; k++) {
      long bits = rng.nextLong(); // one draw, three channels
      int p = px[k];
      int r = clamp(((p >> 16) & 0xff) + (int) ((bits & 0xffff) % span) - amplitude);
      int g = clamp(((p >> 8) & 0xff) + (int) (((bits >>> 16) & 0xffff) % span) - amplitude);
      int b = clamp((p & 0xff) + (int) (((bits >>> 32) & 0xffff) % span) - amplitude);
      px[k] = (r << 16) | (g << 8) | b;
    }
  }

  private static int clamp(int v) {
    return v < 0 ? 0 : Math.min(255, v);
  }

  /** JPEG at the given quality (0–100), baseline, no metadata: byte-identical for equal pixels. */
  public static byte[] jpeg(BufferedImage img, int quality) {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 * 1024);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality / 100f);
      writer.write(null, new IIOImage(img, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("JPEG encoding failed", e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  public static byte[] png(BufferedImage img) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
    try {
      if (!ImageIO.write(img, "png", bytes)) {
        throw new IllegalStateException("no PNG writer in this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("PNG encoding failed", e);
    }
    return bytes.toByteArray();
  }

  /** Scales with bicubic interpolation (near-duplicate "resized"). */
  public static BufferedImage resize(BufferedImage src, int w, int h) {
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    try {
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
      g.drawImage(src, 0, 0, w, h, null);
    } finally {
      g.dispose();
    }
    return dst;
  }

  /** A copy of a sub-rectangle (near-duplicate "cropped"). */
  public static BufferedImage crop(BufferedImage src, int x, int y, int w, int h) {
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    try {
      g.drawImage(src.getSubimage(x, y, w, h), 0, 0, null);
    } finally {
      g.dispose();
    }
    return dst;
  }

  public static boolean isPng(byte[] bytes) {
    return bytes != null
        && bytes.length >= 8
        && (bytes[0] & 0xff) == 0x89
        && bytes[1] == 'P'
        && bytes[2] == 'N'
        && bytes[3] == 'G';
  }
}
