package io.sparkclip.jobs.basicfilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.SparkclipException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Options resolve to DataComp's defaults, and a bad one fails before any Spark work, by id. */
class BasicFilterOptionsTest {
  static BasicFilterJob.Options options(Map<String, Object> keys) {
    StageConf c = StageConf.io("/in", "/out");
    for (Map.Entry<String, Object> e : keys.entrySet()) {
      c = c.with(e.getKey(), e.getValue());
    }
    return new BasicFilterStage().options(c);
  }

  static void fails(String what, Map<String, Object> keys, ErrorId id, String... message) {
    assertThatThrownBy(() -> options(keys))
        .as(what)
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).as(what + ": id").isEqualTo(id))
        .hasMessageContainingAll(message);
  }

  @Test
  void defaultsAreDataCompsBasicFilter() {
    BasicFilterJob.Options o = options(Map.of());
    assertThat(o.minCaptionWords()).as("more than 2 words").isEqualTo(3);
    assertThat(o.minCaptionChars()).as("more than 5 characters").isEqualTo(6);
    assertThat(o.minImageSide()).as("shortest side").isEqualTo(200);
    assertThat(o.maxAspectRatio()).as("aspect ratio").isEqualTo(3.0);
    assertThat(o.languages()).as("English").containsExactly("en");
    assertThat(o.minLanguageConfidence()).as("top-1 language, no threshold").isZero();
    assertThat(o.minImageBytes()).as("byte size check off (LAION's, not DataComp's)").isZero();
    assertThat(o.maxCaptionWords()).as("no upper word bound").isZero();
    assertThat(o.maxCaptionChars()).as("no upper character bound").isZero();
    assertThat(o.detectorLanguages())
        .as("Lingua loads the candidates")
        .containsExactlyElementsOf(
            BasicFilterJob.Options.LANGUAGE_CANDIDATES_DEFAULT.stream().sorted().toList());
  }

  @Test
  void theSummaryRecordsTheBoundOfEachActiveCheckByItsReason() {
    assertThat(options(Map.of()).bounds(BasicChecks.SizeSource.HEADER, true))
        .as("DataComp's defaults, in the order the checks apply")
        .containsExactly(
            Map.entry(RejectReason.CAPTION_TOO_FEW_WORDS, 3),
            Map.entry(RejectReason.CAPTION_TOO_SHORT, 6),
            Map.entry(RejectReason.IMAGE_TOO_SMALL, 200),
            Map.entry(RejectReason.EXTREME_ASPECT_RATIO, 3.0));
    BasicFilterJob.Options all =
        options(
            Map.of(
                BasicFilterJob.Options.MAX_CAPTION_WORDS, 40,
                BasicFilterJob.Options.MAX_CAPTION_CHARS, 300,
                BasicFilterJob.Options.MIN_IMAGE_BYTES, 5120,
                BasicFilterJob.Options.MIN_LANGUAGE_CONFIDENCE, 0.25));
    assertThat(all.bounds(BasicChecks.SizeSource.HEADER, true))
        .as("every bound on")
        .containsEntry(RejectReason.CAPTION_TOO_MANY_WORDS, 40)
        .containsEntry(RejectReason.CAPTION_TOO_LONG, 300)
        .containsEntry(RejectReason.IMAGE_FILE_TOO_SMALL, 5120L)
        .containsEntry(RejectReason.LOW_LANGUAGE_CONFIDENCE, 0.25)
        .hasSize(8);
    assertThat(all.bounds(BasicChecks.SizeSource.NONE, false))
        .as("no image bytes and no size: the image checks did not run")
        .doesNotContainKeys(
            RejectReason.IMAGE_FILE_TOO_SMALL,
            RejectReason.IMAGE_TOO_SMALL,
            RejectReason.EXTREME_ASPECT_RATIO)
        .hasSize(5);
    assertThat(
            options(
                    Map.of(
                        BasicFilterJob.Options.LANGUAGES,
                        List.of("any"),
                        BasicFilterJob.Options.MIN_LANGUAGE_CONFIDENCE,
                        0.25))
                .bounds(BasicChecks.SizeSource.HEADER, true))
        .as("no language check: its confidence bound is not recorded")
        .doesNotContainKey(RejectReason.LOW_LANGUAGE_CONFIDENCE);
  }

  @Test
  void anyLanguageTurnsTheLanguageCheckOffAndKeptLanguagesAreAlwaysCandidates() {
    assertThat(options(Map.of(BasicFilterJob.Options.LANGUAGES, List.of("any"))).languages())
        .as("[any]")
        .isEmpty();
    assertThat(options(Map.of(BasicFilterJob.Options.LANGUAGES, List.of())).languages())
        .as("[]")
        .isEmpty();
    BasicFilterJob.Options o =
        options(
            Map.of(
                BasicFilterJob.Options.LANGUAGES,
                List.of("JA", "en"),
                BasicFilterJob.Options.LANGUAGE_CANDIDATES,
                List.of("de")));
    assertThat(o.detectorLanguages()).as("kept + candidates").containsExactly("de", "en", "ja");
  }

  @Test
  void badOptionsFailWithTheirIds() {
    fails(
        "negative word bound",
        Map.of(BasicFilterJob.Options.MIN_CAPTION_WORDS, -1),
        ErrorId.OPTION_OUT_OF_RANGE,
        "--min-caption-words must be ≥ 0");
    fails(
        "upper bound below the lower",
        Map.of(BasicFilterJob.Options.MAX_CAPTION_CHARS, 4),
        ErrorId.OPTION_OUT_OF_RANGE,
        "--max-caption-chars must be ≥ --min-caption-chars");
    fails(
        "aspect ratio below 1",
        Map.of(BasicFilterJob.Options.MAX_ASPECT_RATIO, 0.5),
        ErrorId.OPTION_OUT_OF_RANGE,
        "--max-aspect-ratio");
    fails(
        "negative side",
        Map.of(BasicFilterJob.Options.MIN_IMAGE_SIDE, -200),
        ErrorId.OPTION_OUT_OF_RANGE,
        "--min-image-side");
    fails(
        "negative byte bound",
        Map.of(BasicFilterJob.Options.MIN_IMAGE_BYTES, -1),
        ErrorId.OPTION_OUT_OF_RANGE,
        "--min-image-bytes");
    fails(
        "confidence above 1",
        Map.of(BasicFilterJob.Options.MIN_LANGUAGE_CONFIDENCE, 1.5),
        ErrorId.OPTION_OUT_OF_RANGE,
        "--min-language-confidence");
    fails(
        "a language Lingua does not know",
        Map.of(BasicFilterJob.Options.LANGUAGES, List.of("en", "xx")),
        ErrorId.OPTION_UNKNOWN_VALUE,
        "'xx'",
        "--languages",
        "de");
    fails(
        "an unknown candidate",
        Map.of(BasicFilterJob.Options.LANGUAGE_CANDIDATES, List.of("klingon")),
        ErrorId.OPTION_UNKNOWN_VALUE,
        "--language-candidates");
    fails(
        "one language only: Lingua chooses among two or more",
        Map.of(BasicFilterJob.Options.LANGUAGE_CANDIDATES, List.of("en")),
        ErrorId.OPTION_OUT_OF_RANGE,
        "--language-candidates must name a language besides");
    fails(
        "every check off",
        Map.of(
            BasicFilterJob.Options.MIN_CAPTION_WORDS, 0,
            BasicFilterJob.Options.MIN_CAPTION_CHARS, 0,
            BasicFilterJob.Options.MIN_IMAGE_SIDE, 0,
            BasicFilterJob.Options.MAX_ASPECT_RATIO, 0,
            BasicFilterJob.Options.LANGUAGES, List.of("any")),
        ErrorId.OPTION_CONFLICT,
        "at least one check must be on");
    fails(
        "a word where a number belongs",
        Map.of(BasicFilterJob.Options.MIN_IMAGE_SIDE, "large"),
        ErrorId.OPTION_WRONG_TYPE,
        "min-image-side");
    assertThatThrownBy(() -> new BasicFilterStage().options(StageConf.io("/in", "/in")))
        .as("out = input")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.OUTPUT_IS_INPUT));
    assertThatThrownBy(
            () ->
                new BasicFilterStage()
                    .options(StageConf.empty().with(io.sparkclip.jobs.stage.StageKeys.INPUT, "/i")))
        .as("no out")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.OPTION_MISSING));
  }
}
