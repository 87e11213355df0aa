package io.sparkclip.jobs.report;

import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ResolvedLayout;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;

/**
 * One pair as the report shows it: a figure with a 128 px thumbnail (a JPEG data URI, so the page
 * needs no network) and a caption. Shared by the sample grids, the basic-filter rejects and the
 * duplicate gallery.
 */
final class Figures {
  private Figures() {}

  /**
   * A figure: its classes, the pair's uid (as {@code data-uid}, null for none), further attributes
   * (raw HTML, may be empty), the image bytes (null: "no image") and the caption's HTML.
   */
  static String figure(String cls, String uid, String attributes, byte[] image, String caption) {
    StringBuilder g = new StringBuilder("<figure class=\"").append(cls).append('"');
    if (uid != null) {
      g.append(" data-uid=\"").append(ReportJob.esc(uid)).append('"');
    }
    g.append(attributes).append('>');
    String thumb = thumbnail(image);
    if (thumb != null) {
      g.append("<img class=\"thumb\" alt=\"sample\" src=\"").append(thumb).append("\">");
    } else {
      g.append("<div class=\"thumb missing\">no image</div>");
    }
    return g.append("<figcaption>").append(caption).append("</figcaption></figure>").toString();
  }

  /** The image bytes of a row read in {@code layout} (a binary column or a struct's bytes). */
  static byte[] imageBytes(Row r, ResolvedLayout layout) {
    if (layout.imageCol().isEmpty()) {
      return null;
    }
    Object v = r.getAs(layout.imageCol().get());
    if (v instanceof Row s) {
      v = s.getAs(Columns.IMAGE_BYTES_FIELD);
    }
    return (byte[]) v;
  }

  /** A 128 px JPEG data URI, or null when the bytes do not decode. */
  static String thumbnail(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return null;
    }
    try {
      BufferedImage in = ImageIO.read(new ByteArrayInputStream(bytes));
      if (in == null) {
        return null;
      }
      double s = 128.0 / Math.max(in.getWidth(), in.getHeight());
      int w = Math.max(1, (int) Math.round(in.getWidth() * s));
      int hgt = Math.max(1, (int) Math.round(in.getHeight() * s));
      BufferedImage t = new BufferedImage(w, hgt, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = t.createGraphics();
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, w, hgt);
      g.drawImage(in, 0, 0, w, hgt, null);
      g.dispose();
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      ImageIO.write(t, "jpg", o);
      return "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(o.toByteArray());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
