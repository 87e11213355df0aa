package io.sparkclip.udfs.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.ModelDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DJL loads the fixture tokenizer.json and matches the script's independent BPE ids. */
class ClipTokenizerTest {
  private static ClipTokenizer tok;
  private static JsonNode manifest;

  @BeforeAll
  static void load() {
    ModelDirectory dir = ModelDirectory.open(Fixtures.tinyClip());
    tok = ClipTokenizer.load(dir.tokenizerJson(), dir.contextLength());
    manifest = Fixtures.manifest();
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  private static long[] expected(JsonNode caption) {
    long[] ids = new long[caption.get("ids").size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = caption.get("ids").get(i).asLong();
    }
    return ids;
  }

  @Test
  void matchesReferenceIdsForEveryFixtureCaption() {
    for (JsonNode c : manifest.get("captions")) {
      assertThat(tok.tokenize(c.get("text").asText()))
          .as("ids of %s", c.get("text"))
          .containsExactly(expected(c));
    }
  }

  @Test
  void batchEqualsSingle() {
    List<String> texts = new ArrayList<>();
    manifest.get("captions").forEach(c -> texts.add(c.get("text").asText()));
    long[] out = new long[texts.size() * 77];
    int[] lengths = tok.tokenize(texts, out);
    for (int i = 0; i < texts.size(); i++) {
      long[] row = java.util.Arrays.copyOfRange(out, i * 77, (i + 1) * 77);
      assertThat(row)
          .as("batched ids of %s", texts.get(i))
          .containsExactly(tok.tokenize(texts.get(i)));
      assertThat(lengths[i])
          .as("unpadded length of %s", texts.get(i))
          .isEqualTo(manifest.get("captions").get(i).get("unpadded_length").asInt());
    }
  }

  @Test
  void caseAndWhitespaceAreNormalized() {
    assertThat(tok.tokenize("A Photo Of A RED Circle"))
        .as("lowercased")
        .containsExactly(tok.tokenize("a photo of a red circle"));
    assertThat(tok.tokenize("  a   blue\tsquare \n on the   left  "))
        .as("whitespace runs collapse and do not become tokens")
        .containsExactly(tok.tokenize("a blue square on the left"));
    assertThat(tok.tokenize("a red circle"))
        .as("different words give different ids")
        .isNotEqualTo(tok.tokenize("a blue circle"));
  }

  @Test
  void truncationKeepsEndOfTextAndPaddingIsZero() {
    int eot = manifest.get("eot_id").asInt();
    int sot = manifest.get("sot_id").asInt();
    long[] longIds = tok.tokenize("a brown diamond on the bottom right ".repeat(40));
    assertThat(longIds).as("context length").hasSize(77);
    assertThat(longIds[0]).as("starts with <|startoftext|>").isEqualTo(sot);
    assertThat(longIds[76]).as("truncated text still ends with <|endoftext|>").isEqualTo(eot);
    long[] shortIds = tok.tokenize("a red star");
    int end = 0;
    while (shortIds[end] != eot) {
      end++;
    }
    for (int i = end + 1; i < 77; i++) {
      assertThat(shortIds[i]).as("padding at %d", i).isZero();
    }
  }

  @Test
  void brokenTokenizerFailsWithFileName(@TempDir Path tmp) throws Exception {
    Path bad = tmp.resolve("tokenizer.json");
    Files.writeString(bad, "{\"not\": \"a tokenizer\"}");
    assertThatThrownBy(() -> ClipTokenizer.load(bad, 77))
        .as("message names the file and the fix")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a broken tokenizer")
                    .isEqualTo(ErrorId.MODEL_TOKENIZER_UNREADABLE))
        .hasMessageContaining(bad.toString())
        .hasMessageContaining("Fix:");
  }
}
