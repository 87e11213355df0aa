package io.sparkclip.jobs.basicfilter;

import static io.sparkclip.schemas.Errors.optionConflict;
import static io.sparkclip.schemas.Errors.optionOutOfRange;
import static io.sparkclip.schemas.Errors.require;

import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.ResolvedLayout;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import io.sparkclip.udfs.language.LanguageIdentifier;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code sparkclip basic-filter}: the cheap caption and image checks DataComp's basic filter and
 * LAION used, run before embed so that nothing is embedded only to be dropped. Every check has its
 * own key and reject reason; the defaults are DataComp's basic filter: more than 2 words and more
 * than 5 characters, shortest side at least 200 px, aspect ratio at most 3, English (DataComp takes
 * fastText's top label; here Lingua's, without a confidence threshold). The image byte size check
 * (LAION-400M dropped images under 5 KB) and the upper bounds are off by default. See {@link
 * BasicChecks} for the order.
 *
 * <p>The image size is read from the image bytes' header without decoding them ({@link
 * io.sparkclip.udfs.preprocess.ImageDimensions}): the bytes are what embed decodes, whatever an
 * img2dataset {@code width}/{@code height} column says. Only metadata-only input (DataComp's or
 * LAION's) is checked on its {@code original_width}/{@code original_height} columns (else {@code
 * width}/{@code height}), as DataComp's filter does.
 *
 * <p>One map over the rows, no shuffle: the cost is linear in the rows. Kept rows get {@code
 * language} and {@code language_confidence} when the language check is on.
 */
public final class BasicFilterJob {

  /** A bound of 0 turns its check off; {@code languages = []} (or {@code [any]}) the language's. */
  public record Options(
      String input,
      String out,
      ColumnMapping mapping,
      boolean overwrite,
      int minCaptionWords,
      int maxCaptionWords,
      int minCaptionChars,
      int maxCaptionChars,
      long minImageBytes,
      int minImageSide,
      double maxAspectRatio,
      List<String> languages,
      List<String> languageCandidates,
      double minLanguageConfidence) {

    /** Fewest words (runs of non-whitespace, Python's split()) a kept caption has. */
    public static final String MIN_CAPTION_WORDS = "min-caption-words";

    /** DataComp: more than 2 words. */
    public static final int MIN_CAPTION_WORDS_DEFAULT = 3;

    public static final String MAX_CAPTION_WORDS = "max-caption-words";
    public static final int MAX_CAPTION_WORDS_DEFAULT = 0;

    /** Fewest characters (Unicode code points, Python's len()) a kept caption has. */
    public static final String MIN_CAPTION_CHARS = "min-caption-chars";

    /** DataComp: more than 5 characters. */
    public static final int MIN_CAPTION_CHARS_DEFAULT = 6;

    public static final String MAX_CAPTION_CHARS = "max-caption-chars";
    public static final int MAX_CAPTION_CHARS_DEFAULT = 0;

    /** Fewest bytes a kept image file has. LAION-400M dropped images under 5 KB (5120). */
    public static final String MIN_IMAGE_BYTES = "min-image-bytes";

    public static final long MIN_IMAGE_BYTES_DEFAULT = 0;

    /** Shortest side, in pixels, a kept image has at least. */
    public static final String MIN_IMAGE_SIDE = "min-image-side";

    /** DataComp: min(width, height) ≥ 200. */
    public static final int MIN_IMAGE_SIDE_DEFAULT = 200;

    /** Largest longest-over-shortest side ratio kept. */
    public static final String MAX_ASPECT_RATIO = "max-aspect-ratio";

    /** DataComp: max / min ≤ 3. */
    public static final double MAX_ASPECT_RATIO_DEFAULT = 3.0;

    /** Languages a kept caption is in (ISO 639-1); empty or [any]: no language check. */
    public static final String LANGUAGES = "languages";

    /** DataComp's basic filter keeps English captions (as a flag's text; the list below). */
    public static final String LANGUAGES_DEFAULT_TEXT = "en";

    public static final List<String> LANGUAGES_DEFAULT = List.of(LANGUAGES_DEFAULT_TEXT.split(","));

    /** The value of {@link #LANGUAGES} that turns the check off. */
    public static final String ANY_LANGUAGE = "any";

    /**
     * The languages Lingua chooses among (the kept ones are always added); only these are loaded. A
     * caption in a language that is not a candidate is given the closest candidate, so the list is
     * what the filter can tell English from.
     */
    public static final String LANGUAGE_CANDIDATES = "language-candidates";

    /**
     * English and eleven widely used Latin-script languages of the web. Captions in other scripts
     * need no model: no candidate's alphabet fits them, so they are "unknown" and fail an English
     * filter. These 12 hold about 340 MB of executor heap once loaded (measured after GC).
     */
    public static final String LANGUAGE_CANDIDATES_DEFAULT_TEXT =
        "en,de,fr,es,it,pt,nl,pl,sv,tr,id,vi";

    public static final List<String> LANGUAGE_CANDIDATES_DEFAULT =
        List.of(LANGUAGE_CANDIDATES_DEFAULT_TEXT.split(","));

    /** Lowest Lingua confidence (relative distance to the runner-up language) kept. */
    public static final String MIN_LANGUAGE_CONFIDENCE = "min-language-confidence";

    /** DataComp takes the top language without a threshold. */
    public static final double MIN_LANGUAGE_CONFIDENCE_DEFAULT = 0.0;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.mapping(),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT),
          c.integer(MIN_CAPTION_WORDS, MIN_CAPTION_WORDS_DEFAULT),
          c.integer(MAX_CAPTION_WORDS, MAX_CAPTION_WORDS_DEFAULT),
          c.integer(MIN_CAPTION_CHARS, MIN_CAPTION_CHARS_DEFAULT),
          c.integer(MAX_CAPTION_CHARS, MAX_CAPTION_CHARS_DEFAULT),
          c.longValue(MIN_IMAGE_BYTES, MIN_IMAGE_BYTES_DEFAULT),
          c.integer(MIN_IMAGE_SIDE, MIN_IMAGE_SIDE_DEFAULT),
          c.decimal(MAX_ASPECT_RATIO, MAX_ASPECT_RATIO_DEFAULT),
          languages(c.strings(LANGUAGES, LANGUAGES_DEFAULT)),
          codes(c.strings(LANGUAGE_CANDIDATES, LANGUAGE_CANDIDATES_DEFAULT)),
          c.decimal(MIN_LANGUAGE_CONFIDENCE, MIN_LANGUAGE_CONFIDENCE_DEFAULT));
    }

    private static List<String> languages(List<String> given) {
      List<String> l = codes(given);
      return l.equals(List.of(ANY_LANGUAGE)) ? List.of() : l;
    }

    private static List<String> codes(List<String> given) {
      return given.stream()
          .map(s -> s.trim().toLowerCase(Locale.ROOT))
          .filter(s -> !s.isEmpty())
          .distinct()
          .toList();
    }

    /** The languages Lingua loads: the candidates and the kept languages, sorted. */
    public List<String> detectorLanguages() {
      TreeSet<String> s = new TreeSet<>(languageCandidates);
      s.addAll(languages);
      return List.copyOf(s);
    }

    void validate() {
      String cmd = Stages.BASIC_FILTER;
      Paths.requireInputAndOut(cmd, input, out);
      bounds(cmd, MIN_CAPTION_WORDS, minCaptionWords, MAX_CAPTION_WORDS, maxCaptionWords);
      bounds(cmd, MIN_CAPTION_CHARS, minCaptionChars, MAX_CAPTION_CHARS, maxCaptionChars);
      require(
          minImageBytes >= 0,
          () -> optionOutOfRange(cmd, "--" + MIN_IMAGE_BYTES + " must be ≥ 0", got(minImageBytes)));
      require(
          minImageSide >= 0,
          () -> optionOutOfRange(cmd, "--" + MIN_IMAGE_SIDE + " must be ≥ 0", got(minImageSide)));
      require(
          maxAspectRatio == 0 || maxAspectRatio >= 1,
          () ->
              optionOutOfRange(
                  cmd,
                  "--" + MAX_ASPECT_RATIO + " must be ≥ 1 (or 0: no aspect ratio check)",
                  got(maxAspectRatio)));
      require(
          minLanguageConfidence >= 0 && minLanguageConfidence <= 1,
          () ->
              optionOutOfRange(
                  cmd,
                  "--" + MIN_LANGUAGE_CONFIDENCE + " must be in [0, 1]",
                  got(minLanguageConfidence)));
      for (String code : languages) {
        require(
            LanguageIdentifier.supports(code),
            () -> Errors.unknownLanguage(LANGUAGES, code, LanguageIdentifier.supportedCodes()));
      }
      for (String code : languageCandidates) {
        require(
            LanguageIdentifier.supports(code),
            () ->
                Errors.unknownLanguage(
                    LANGUAGE_CANDIDATES, code, LanguageIdentifier.supportedCodes()));
      }
      require(
          languages.isEmpty() || detectorLanguages().size() >= 2,
          () ->
              optionOutOfRange(
                  cmd,
                  "--"
                      + LANGUAGE_CANDIDATES
                      + " must name a language besides those of --"
                      + LANGUAGES
                      + " (Lingua chooses among two or more)",
                  "got " + detectorLanguages()));
      require(
          minCaptionWords > 0
              || maxCaptionWords > 0
              || minCaptionChars > 0
              || maxCaptionChars > 0
              || minImageBytes > 0
              || minImageSide > 0
              || maxAspectRatio > 0
              || !languages.isEmpty(),
          () ->
              optionConflict(
                  cmd,
                  "at least one check must be on",
                  "every bound is 0 and --" + LANGUAGES + " is " + ANY_LANGUAGE));
    }

    private static void bounds(String cmd, String minKey, int min, String maxKey, int max) {
      require(min >= 0, () -> optionOutOfRange(cmd, "--" + minKey + " must be ≥ 0", got(min)));
      require(
          max == 0 || max >= min,
          () ->
              optionOutOfRange(
                  cmd,
                  "--" + maxKey + " must be ≥ --" + minKey + " (or 0: no upper bound)",
                  "got " + min + " and " + max));
    }

    private static String got(Object v) {
      return "got " + v;
    }

    /** A threshold as written in messages: 3 for 3.0, 0.25 for 0.25. */
    static String number(double v) {
      return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /**
     * The bound of each active numeric check, keyed by its reject reason, in the order the checks
     * apply: what the summary records for the report to mark on its histograms.
     */
    Map<String, Number> bounds(BasicChecks.SizeSource size, boolean hasImageBytes) {
      Map<String, Number> b = new LinkedHashMap<>();
      putIfOn(b, RejectReason.CAPTION_TOO_FEW_WORDS, minCaptionWords);
      putIfOn(b, RejectReason.CAPTION_TOO_MANY_WORDS, maxCaptionWords);
      putIfOn(b, RejectReason.CAPTION_TOO_SHORT, minCaptionChars);
      putIfOn(b, RejectReason.CAPTION_TOO_LONG, maxCaptionChars);
      if (hasImageBytes) {
        putIfOn(b, RejectReason.IMAGE_FILE_TOO_SMALL, minImageBytes);
      }
      if (size != BasicChecks.SizeSource.NONE) {
        putIfOn(b, RejectReason.IMAGE_TOO_SMALL, minImageSide);
        putIfOn(b, RejectReason.EXTREME_ASPECT_RATIO, maxAspectRatio);
      }
      if (!languages.isEmpty()) {
        putIfOn(b, RejectReason.LOW_LANGUAGE_CONFIDENCE, minLanguageConfidence);
      }
      return b;
    }

    private static void putIfOn(Map<String, Number> b, String reason, Number bound) {
      if (bound.doubleValue() > 0) {
        b.put(reason, bound);
      }
    }

    /** The active checks in the order they apply, for the summary. */
    List<String> describe(BasicChecks.SizeSource size, boolean hasImageBytes) {
      List<String> c = new ArrayList<>();
      if (minCaptionWords > 0) {
        c.add("caption words >= " + minCaptionWords);
      }
      if (maxCaptionWords > 0) {
        c.add("caption words <= " + maxCaptionWords);
      }
      if (minCaptionChars > 0) {
        c.add("caption characters >= " + minCaptionChars);
      }
      if (maxCaptionChars > 0) {
        c.add("caption characters <= " + maxCaptionChars);
      }
      if (hasImageBytes && minImageBytes > 0) {
        c.add("image bytes >= " + minImageBytes);
      }
      if (size != BasicChecks.SizeSource.NONE && minImageSide > 0) {
        c.add("image shortest side >= " + minImageSide);
      }
      if (size != BasicChecks.SizeSource.NONE && maxAspectRatio > 0) {
        c.add("image aspect ratio <= " + number(maxAspectRatio));
      }
      if (!languages.isEmpty()) {
        c.add("caption language in " + languages + " (Lingua among " + detectorLanguages() + ")");
      }
      if (!languages.isEmpty() && minLanguageConfidence > 0) {
        c.add("language confidence >= " + number(minLanguageConfidence));
      }
      return c;
    }
  }

  private final SparkSession spark;
  private final Options options;

  public BasicFilterJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public CurationSummary run() {
    long start = System.nanoTime();
    options.validate();
    CurationInput in = CurationInput.read(spark, options.input(), options.mapping());
    ResolvedLayout layout = in.layout();
    Paths.prepareOutput(spark, options.out(), options.overwrite());

    Dataset<Row> labelled = in.labelUnusable(Stages.REJECT_BASIC_FILTER);
    boolean language = !options.languages().isEmpty();
    if (language) {
      labelled = withoutLanguageColumns(labelled);
    }
    StructType schema = labelled.schema();
    Optional<String[]> sizeColumns = layout.hasImages() ? Optional.empty() : sizeColumns(schema);
    BasicChecks.SizeSource size =
        layout.hasImages()
            ? BasicChecks.SizeSource.HEADER
            : sizeColumns.isPresent()
                ? BasicChecks.SizeSource.COLUMNS
                : BasicChecks.SizeSource.NONE;
    BasicChecks checks = new BasicChecks(options, size, layout.hasImages());

    StructType outSchema = schema;
    if (language) {
      outSchema =
          outSchema
              .add(Columns.LANGUAGE, DataTypes.StringType, true /* nullable: not identified */)
              .add(Columns.LANGUAGE_CONFIDENCE, DataTypes.DoubleType, true /* nullable */);
    }
    BasicFilterRows fn =
        new BasicFilterRows(
            checks,
            schema,
            layout.captionCol(),
            layout.imageCol().orElse(null),
            layout.imageIsStruct(),
            sizeColumns.orElse(null),
            language);
    // Persisted: both writes (data, rejects) read it, and the checks, the language identification
    // above all, must run once per row, not once per write.
    Dataset<Row> checked =
        labelled.mapPartitions(fn, Encoders.row(outSchema)).persist(StorageLevel.MEMORY_AND_DISK());
    Sparks.describe(spark, Stages.BASIC_FILTER, "check captions and image headers");
    long rowsIn = checked.count();

    Map<String, Object> details = new LinkedHashMap<>();
    details.put("checks", options.describe(size, layout.hasImages()));
    details.put(StageFiles.SUMMARY_CHECK_BOUNDS, options.bounds(size, layout.hasImages()));
    if (language) {
      details.put(StageFiles.SUMMARY_LANGUAGES, options.languages());
    }
    details.put(
        "image_size_from",
        switch (size) {
          case HEADER -> "image header (" + layout.imageCol().orElseThrow() + ")";
          case COLUMNS -> sizeColumns.get()[0] + " x " + sizeColumns.get()[1] + " columns";
          case NONE -> "skipped: no image bytes and no width/height columns";
        });
    CurationSummary s =
        CurationOutput.write(
            spark,
            Stages.BASIC_FILTER,
            options.input(),
            options.out(),
            rowsIn,
            checked,
            details,
            start);
    checked.unpersist();
    return s;
  }

  /**
   * Drops the columns an earlier basic-filter wrote (they are computed again) and keeps another
   * spelling of them, such as LAION's {@code LANGUAGE}, as {@code source_language}: Parquet cannot
   * hold two columns whose names differ only in case.
   */
  static Dataset<Row> withoutLanguageColumns(Dataset<Row> df) {
    for (StructField f : df.schema().fields()) {
      for (String ours : List.of(Columns.LANGUAGE, Columns.LANGUAGE_CONFIDENCE)) {
        if (f.name().equals(ours)) {
          df = df.drop(ours);
        } else if (f.name().equalsIgnoreCase(ours)) {
          df = df.withColumnRenamed(f.name(), "source_" + ours);
        }
      }
    }
    return df;
  }

  /**
   * The width and height columns of metadata-only input: DataComp's original size, else the
   * generator's and LAION's width/height; both present and numeric, or none.
   */
  static Optional<String[]> sizeColumns(StructType schema) {
    for (String[] pair :
        List.of(
            new String[] {Columns.ORIGINAL_WIDTH, Columns.ORIGINAL_HEIGHT},
            new String[] {Columns.WIDTH, Columns.HEIGHT})) {
      String w = numericField(schema, pair[0]);
      String h = numericField(schema, pair[1]);
      if (w != null && h != null) {
        return Optional.of(new String[] {w, h});
      }
    }
    return Optional.empty();
  }

  /** The name of a numeric field called {@code name} in any case (LAION writes WIDTH), or null. */
  private static String numericField(StructType schema, String name) {
    for (StructField f : schema.fields()) {
      if (f.name().equalsIgnoreCase(name) && f.dataType() instanceof NumericType) {
        return f.name();
      }
    }
    return null;
  }
}
