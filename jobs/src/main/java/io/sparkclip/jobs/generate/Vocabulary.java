package io.sparkclip.jobs.generate;

import java.awt.Color;
import java.util.List;

/**
 * The visual world of the synthetic generator: colours, shapes, positions, backgrounds and caption
 * templates. Every caption names the colour and shape next to each other ("red circle"), so the
 * colour×shape queries match it on word boundaries.
 */
public final class Vocabulary {
  private Vocabulary() {}

  public record Named(String name, Color rgb) {}

  public static final List<Named> COLOURS =
      List.of(
          new Named("red", new Color(220, 30, 30)),
          new Named("orange", new Color(245, 140, 20)),
          new Named("yellow", new Color(240, 220, 30)),
          new Named("green", new Color(40, 170, 60)),
          new Named("blue", new Color(30, 70, 220)),
          new Named("purple", new Color(130, 50, 170)),
          new Named("pink", new Color(240, 120, 180)),
          new Named("brown", new Color(120, 70, 30)),
          new Named("black", new Color(15, 15, 15)),
          new Named("white", new Color(250, 250, 250)));

  public static final List<String> SHAPES =
      List.of("circle", "square", "triangle", "star", "hexagon", "cross", "diamond");

  public record Position(String name, String phrase, double cx, double cy) {}

  public static final List<Position> POSITIONS =
      List.of(
          new Position("left", "on the left", 0.27, 0.5),
          new Position("right", "on the right", 0.73, 0.5),
          new Position("top", "at the top", 0.5, 0.27),
          new Position("bottom", "at the bottom", 0.5, 0.73),
          new Position("center", "in the center", 0.5, 0.5));

  public static final List<Named> BACKGROUNDS =
      List.of(
          new Named("light gray", new Color(205, 205, 205)),
          new Named("beige", new Color(225, 215, 185)),
          new Named("dark slate", new Color(50, 60, 70)),
          new Named("pale green", new Color(190, 215, 190)),
          new Named("pale blue", new Color(185, 200, 220)),
          new Named("gray", new Color(130, 130, 130)));

  /** Background fill styles. */
  public static final List<String> STYLES = List.of("plain", "gradient", "stripes", "speckled");

  /**
   * Caption templates. Placeholders: {c} colour, {s} shape, {p} position phrase, {b} background.
   */
  public static final List<String> TEMPLATES =
      List.of(
          "a {c} {s} {p}",
          "a photo of a {c} {s}.",
          "{c} {s} {p}, digital art",
          "clipart of a {c} {s} {p}",
          "a {c} {s} on a {b} background",
          "simple {c} {s} icon",
          "an illustration of a {c} {s} {p}",
          "close-up of a {c} {s} {p} of the picture");

  /** Backgrounds whose colour is far enough from the shape colour to keep the shape visible. */
  static boolean contrasts(Color shape, Color background) {
    int dr = shape.getRed() - background.getRed();
    int dg = shape.getGreen() - background.getGreen();
    int db = shape.getBlue() - background.getBlue();
    return Math.sqrt(dr * dr + dg * dg + db * db) > 90;
  }

  public static String caption(
      String template, String colour, String shape, Position p, String bg) {
    return template
        .replace("{c}", colour)
        .replace("{s}", shape)
        .replace("{p}", p.phrase())
        .replace("{b}", bg);
  }
}
