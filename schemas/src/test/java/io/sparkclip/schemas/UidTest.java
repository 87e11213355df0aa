package io.sparkclip.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UidTest {
  @Test
  void uidMatchesGoldenValues() {
    // Golden values computed independently with Python's hashlib:
    //   hashlib.sha256((url + '\x1f' + caption).encode()).hexdigest()[:32]
    // A change here would break every dataset users already curated.
    assertThat(Uid.of("https://example.com/a.jpg", "a red circle"))
        .as("golden uid, ASCII")
        .isEqualTo("7da9aad44cd09845d1037a0f6e620c58");
    assertThat(Uid.of("https://example.com/café.jpg", "un café ☕"))
        .as("golden uid, non-ASCII is hashed as UTF-8")
        .isEqualTo("c596bd1a23b640a6b0c15d6e2a0e40a6");
  }

  @Test
  void uidIs32LowercaseHexAndSeparatesFields() {
    assertThat(Uid.of("u", "c")).as("format").matches("[0-9a-f]{32}");
    assertThat(Uid.of("ab", "c")).as("field boundary matters").isNotEqualTo(Uid.of("a", "bc"));
    assertThat(Uid.of(null, null)).as("nulls count as empty").isEqualTo(Uid.of("", ""));
  }
}
