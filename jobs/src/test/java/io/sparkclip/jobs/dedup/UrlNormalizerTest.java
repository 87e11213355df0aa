package io.sparkclip.jobs.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The URL normalisation exact-URL dedup keys on: spellings of one resource merge, different
 * resources never do (a false merge deletes a distinct image).
 */
class UrlNormalizerTest {
  private static final UrlNormalizer N = UrlNormalizer.defaults();

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "https://example.com/a/b.jpg | HTTPS://Example.COM/a/b.jpg",
        "https://example.com/a/b.jpg | https://example.com/a/b.jpg#section-2",
        "https://example.com/a/b.jpg | https://example.com:443/a/b.jpg",
        "http://example.com/a/b.jpg | http://example.com:80/a/b.jpg",
        "https://example.com/a/b.jpg | https://example.com./a/b.jpg",
        "https://example.com/a/b.jpg | https://example.com/a/b.jpg?utm_source=x&utm_medium=y",
        "https://example.com/a/b.jpg | https://example.com/a/b.jpg?fbclid=IwAR0abc",
        "https://example.com/a/b.jpg?id=7 | https://example.com/a/b.jpg?gclid=1&id=7&UTM_Campaign=z",
        "https://example.com/a/b.jpg?id=7&w=200 | https://example.com/a/b.jpg?id=7&_ga=2.1&w=200#top",
        "https://example.com | https://EXAMPLE.com/",
        "  https://example.com/x.png  | https://example.com/x.png",
      })
  void spellingsOfOneResourceMerge(String a, String b) {
    assertThat(N.normalize(a.strip()))
        .as("normalised %s and %s", a, b)
        .isEqualTo(N.normalize(b.strip()));
  }

  @ParameterizedTest(name = "{0} != {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "https://example.com/img?id=1 | https://example.com/img?id=2",
        "https://example.com/Photo.jpg | https://example.com/photo.jpg",
        "https://example.com/a/b.jpg?id=ABC | https://example.com/a/b.jpg?id=abc",
        "https://example.com/img?id=1&w=2 | https://example.com/img?w=2&id=1",
        "http://example.com/a.jpg | https://example.com/a.jpg",
        "https://example.com:8443/a.jpg | https://example.com/a.jpg",
        "https://a.example.com/x.jpg | https://b.example.com/x.jpg",
        "https://example.com/a.jpg?size=large | https://example.com/a.jpg",
        "https://example.com/utm/a.jpg | https://example.com/a.jpg",
        "https://user@example.com/a.jpg | https://example.com/a.jpg",
      })
  void differentResourcesStayApart(String a, String b) {
    assertThat(N.normalize(a.strip()))
        .as("normalised %s and %s", a, b)
        .isNotEqualTo(N.normalize(b.strip()));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "HTTPS://Example.COM:443/Path/To.JPG?utm_source=a&id=3#frag"
            + " | https://example.com/Path/To.JPG?id=3",
        "https://example.com?fbclid=x | https://example.com/",
        "example.com/a.jpg?utm_x=1 | example.com/a.jpg",
      })
  void normalFormIsTheCanonicalSpelling(String in, String expected) {
    assertThat(N.normalize(in.strip())).as("normal form of %s", in).isEqualTo(expected.strip());
  }

  @org.junit.jupiter.api.Test
  void trackingListIsConfigurableByNameAndPrefix() {
    UrlNormalizer custom = new UrlNormalizer(List.of("ref", "src_*"));
    assertThat(custom.normalize("https://e.com/a.jpg?ref=home&src_a=1&id=2&utm_source=x"))
        .as("only the configured names and prefixes go; utm_ is not in this list")
        .isEqualTo("https://e.com/a.jpg?id=2&utm_source=x");
    assertThat(N.normalize(null)).as("null url").isNull();
  }
}
