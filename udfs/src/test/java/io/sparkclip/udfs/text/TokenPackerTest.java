package io.sparkclip.udfs.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenPackerTest {
  private final TokenPacker packer = new TokenPacker(6, 100, 101, 0);

  @Test
  void padsShortInput() {
    assertThat(packer.pack(new long[] {100, 5, 6, 101}))
        .as("ids then zero padding")
        .containsExactly(100, 5, 6, 101, 0, 0);
  }

  @Test
  void truncationKeepsEndTokenLast() {
    assertThat(packer.pack(new long[] {100, 1, 2, 3, 4, 5, 6, 7, 101}))
        .as("first context-1 ids, then <|endoftext|>")
        .containsExactly(100, 1, 2, 3, 4, 101);
  }

  @Test
  void exactFitIsUnchanged() {
    assertThat(packer.pack(new long[] {100, 1, 2, 3, 4, 101}))
        .as("exactly context length")
        .containsExactly(100, 1, 2, 3, 4, 101);
  }

  @Test
  void addsMissingSpecialTokens() {
    assertThat(packer.pack(new long[] {7, 8}))
        .as("start and end tokens added when the tokenizer left them out")
        .containsExactly(100, 7, 8, 101, 0, 0);
    assertThat(packer.pack(new long[] {}))
        .as("empty text is <|startoftext|><|endoftext|>")
        .containsExactly(100, 101, 0, 0, 0, 0);
  }
}
