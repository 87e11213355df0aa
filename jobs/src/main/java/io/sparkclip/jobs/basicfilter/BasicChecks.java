package io.sparkclip.jobs.basicfilter;

import io.sparkclip.schemas.RejectReason;
import io.sparkclip.udfs.language.LanguageIdentifier;
import io.sparkclip.udfs.preprocess.ImageDimensions;
import io.sparkclip.udfs.text.CaptionCounts;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * The basic filter's checks of one pair, cheapest first; the first that fails names the reject
 * reason, and the checks after it are not run (the language identification, by far the dearest,
 * only sees pairs that passed every other check). A bound of 0 turns its check off. Holds options
 * only: shipped to the executors, where the language detector comes from the JVM's cache.
 *
 * <ol>
 *   <li>{@code caption_too_few_words} / {@code caption_too_many_words}: words outside [min, max];
 *   <li>{@code caption_too_short} / {@code caption_too_long}: characters outside [min, max];
 *   <li>{@code image_file_too_small}: fewer image bytes than the minimum;
 *   <li>{@code image_size_unreadable}: width and height not readable (from the header, or from the
 *       width/height columns of metadata-only input);
 *   <li>{@code image_too_small}: shortest side below the minimum;
 *   <li>{@code extreme_aspect_ratio}: longest over shortest side above the maximum;
 *   <li>{@code caption_language}: the identified language is not one of those kept;
 *   <li>{@code low_language_confidence}: kept language, confidence below the minimum.
 * </ol>
 */
final class BasicChecks implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Where a pair's image size comes from. */
  enum SizeSource {
    /** The image bytes' header: what embed will decode. */
    HEADER,
    /** Width and height columns of metadata-only input (DataComp's original_width/height). */
    COLUMNS,
    /** Neither: the size checks are skipped. */
    NONE
  }

  /** The outcome for one pair: a reason (null = kept), its detail, and the language if asked. */
  record Verdict(String reason, String detail, String language, Double confidence) {
    static final Verdict KEPT = new Verdict(null, null, null, null);

    boolean kept() {
      return reason == null;
    }
  }

  private final int minWords;
  private final int maxWords;
  private final int minChars;
  private final int maxChars;
  private final long minImageBytes;
  private final int minSide;
  private final double maxAspectRatio;
  private final List<String> languages;
  private final List<String> candidates;
  private final double minConfidence;
  private final SizeSource sizeSource;
  private final boolean hasImageBytes;

  BasicChecks(BasicFilterJob.Options o, SizeSource sizeSource, boolean hasImageBytes) {
    this.minWords = o.minCaptionWords();
    this.maxWords = o.maxCaptionWords();
    this.minChars = o.minCaptionChars();
    this.maxChars = o.maxCaptionChars();
    this.minImageBytes = o.minImageBytes();
    this.minSide = o.minImageSide();
    this.maxAspectRatio = o.maxAspectRatio();
    this.languages = List.copyOf(o.languages());
    this.candidates = o.detectorLanguages();
    this.minConfidence = o.minLanguageConfidence();
    this.sizeSource = sizeSource;
    this.hasImageBytes = hasImageBytes;
  }

  boolean languageOn() {
    return !languages.isEmpty();
  }

  /** True if any check needs the image's width and height. */
  boolean sizeOn() {
    return sizeSource != SizeSource.NONE && (minSide > 0 || maxAspectRatio > 0);
  }

  boolean bytesOn() {
    return hasImageBytes && minImageBytes > 0;
  }

  /**
   * Checks one usable pair (caption not blank, image bytes present when the layout has images).
   *
   * @param image the image bytes, null for metadata-only input
   * @param width the width column of metadata-only input (null if absent or null)
   * @param height likewise
   */
  Verdict check(String caption, byte[] image, Long width, Long height) {
    int words = CaptionCounts.words(caption);
    if (words < minWords) {
      return reject(RejectReason.CAPTION_TOO_FEW_WORDS, words + " words < " + minWords);
    }
    if (maxWords > 0 && words > maxWords) {
      return reject(RejectReason.CAPTION_TOO_MANY_WORDS, words + " words > " + maxWords);
    }
    int chars = CaptionCounts.characters(caption);
    if (chars < minChars) {
      return reject(RejectReason.CAPTION_TOO_SHORT, chars + " characters < " + minChars);
    }
    if (maxChars > 0 && chars > maxChars) {
      return reject(RejectReason.CAPTION_TOO_LONG, chars + " characters > " + maxChars);
    }
    int bytes = image == null ? 0 : image.length;
    if (bytesOn() && bytes < minImageBytes) {
      return reject(
          RejectReason.IMAGE_FILE_TOO_SMALL,
          String.format(Locale.ROOT, "%,d bytes < %,d", bytes, minImageBytes));
    }
    if (sizeOn()) {
      ImageDimensions.Result size =
          sizeSource == SizeSource.HEADER
              ? ImageDimensions.read(image)
              : fromColumns(width, height);
      if (!size.readable()) {
        return reject(RejectReason.IMAGE_SIZE_UNREADABLE, size.error());
      }
      String dims = size.format() + " " + size.width() + "x" + size.height();
      if (size.shortestSide() < minSide) {
        return reject(
            RejectReason.IMAGE_TOO_SMALL,
            dims + ": shortest side " + size.shortestSide() + " < " + minSide);
      }
      if (maxAspectRatio > 0 && size.aspectRatio() > maxAspectRatio) {
        return reject(
            RejectReason.EXTREME_ASPECT_RATIO,
            String.format(
                Locale.ROOT,
                "%s: aspect ratio %.3f > %s",
                dims,
                size.aspectRatio(),
                BasicFilterJob.Options.number(maxAspectRatio)));
      }
    }
    if (!languageOn()) {
      return Verdict.KEPT;
    }
    LanguageIdentifier.Identified id = LanguageIdentifier.get(candidates).identify(caption);
    if (id.language() == null || !languages.contains(id.language())) {
      return new Verdict(
          RejectReason.CAPTION_LANGUAGE,
          String.format(
              Locale.ROOT,
              "%s (confidence %.3f), kept: %s",
              id.language() == null ? "unknown" : id.language(),
              id.confidence(),
              String.join(",", languages)),
          id.language(),
          id.confidence());
    }
    if (id.confidence() < minConfidence) {
      return new Verdict(
          RejectReason.LOW_LANGUAGE_CONFIDENCE,
          String.format(
              Locale.ROOT,
              "%s confidence %.3f < %s",
              id.language(),
              id.confidence(),
              BasicFilterJob.Options.number(minConfidence)),
          id.language(),
          id.confidence());
    }
    return new Verdict(null, null, id.language(), id.confidence());
  }

  private static Verdict reject(String reason, String detail) {
    return new Verdict(reason, detail, null, null);
  }

  private static ImageDimensions.Result fromColumns(Long width, Long height) {
    if (width == null || height == null || width <= 0 || height <= 0) {
      return new ImageDimensions.Result(
          null, 0, 0, "width/height columns are " + width + "x" + height);
    }
    return new ImageDimensions.Result(
        "metadata",
        (int) Math.min(Integer.MAX_VALUE, width),
        (int) Math.min(Integer.MAX_VALUE, height),
        null);
  }
}
