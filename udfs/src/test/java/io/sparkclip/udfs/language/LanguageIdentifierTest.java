package io.sparkclip.udfs.language;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.pemistahl.lingua.api.IsoCode639_1;
import com.github.pemistahl.lingua.api.Language;
import com.github.pemistahl.lingua.api.LanguageDetectorBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * The Lingua wrapper: codes, the per-JVM cache, and the confidence's definition (Lingua's relative
 * distance between the two most likely candidates), checked against Lingua's own API. The captions
 * are written for this test. Accuracy on a multilingual caption set is measured through the
 * basic-filter stage (jobs' BasicFilterLanguageTest).
 */
class LanguageIdentifierTest {
  static final List<String> LATIN = List.of("en", "de", "fr", "es");

  @Test
  void codesAreLinguasIsoCodes() {
    assertThat(LanguageIdentifier.supportedCodes())
        .as("ISO 639-1 codes Lingua knows")
        .contains("en", "de", "fr", "ja", "ru", "zh")
        .doesNotContain("none")
        .isSorted();
    assertThat(LanguageIdentifier.supports("EN")).as("case does not matter").isTrue();
    assertThat(LanguageIdentifier.supports("xx")).as("no such language").isFalse();
  }

  @Test
  void oneDetectorPerCandidateSetAndJvm() {
    LanguageIdentifier a = LanguageIdentifier.get(List.of("fr", "en"));
    assertThat(LanguageIdentifier.get(List.of("en", "FR", "en")))
        .as("same set in another order and case: the cached detector")
        .isSameAs(a);
    assertThat(LanguageIdentifier.get(LATIN)).as("another set").isNotSameAs(a);
    assertThat(a.candidates()).as("candidates, sorted").containsExactly("en", "fr");
    assertThatThrownBy(() -> LanguageIdentifier.get(List.of("en")))
        .as("Lingua chooses among two or more")
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void confidenceIsTheDistanceToTheRunnerUp() {
    LanguageIdentifier id = LanguageIdentifier.get(LATIN);
    var lingua =
        LanguageDetectorBuilder.fromIsoCodes639_1(
                IsoCode639_1.EN, IsoCode639_1.DE, IsoCode639_1.FR, IsoCode639_1.ES)
            .build();
    List<String> captions =
        List.of(
            "a red bicycle leaning against a brick wall",
            "ein rotes Fahrrad an einer Backsteinmauer",
            "un vélo rouge appuyé contre un mur de briques",
            "una bicicleta roja apoyada en una pared de ladrillo");
    List<String> found = new ArrayList<>();
    for (String c : captions) {
      SortedMap<Language, Double> v = lingua.computeLanguageConfidenceValues(c);
      List<Map.Entry<Language, Double>> e = new ArrayList<>(v.entrySet());
      LanguageIdentifier.Identified got = id.identify(c);
      assertThat(got.language())
          .as("%s: Lingua's most likely language", c)
          .isEqualTo(e.get(0).getKey().getIsoCode639_1().name().toLowerCase());
      assertThat(got.confidence())
          .as("%s: most likely minus runner-up", c)
          .isEqualTo(e.get(0).getValue() - e.get(1).getValue());
      assertThat(got.confidence()).as("%s: in (0, 1)", c).isStrictlyBetween(0.0, 1.0);
      found.add(got.language());
    }
    assertThat(found).as("these four sentences").containsExactly("en", "de", "fr", "es");
  }

  @Test
  void aCaptionOnlyOneCandidateCanWriteIsSureAndOneNoneCanWriteIsUnknown() {
    String russian = "Фотография кошки на диване";
    assertThat(LanguageIdentifier.get(List.of("en", "ru")).identify(russian))
        .as("Cyrillic with one Cyrillic candidate")
        .isEqualTo(new LanguageIdentifier.Identified("ru", 1.0));
    assertThat(LanguageIdentifier.get(LATIN).identify(russian))
        .as("Cyrillic with Latin-script candidates only")
        .isEqualTo(new LanguageIdentifier.Identified(null, 0.0));
    assertThat(LanguageIdentifier.get(LATIN).identify("12345 678 %%"))
        .as("no letters")
        .isEqualTo(new LanguageIdentifier.Identified(null, 0.0));
  }
}
