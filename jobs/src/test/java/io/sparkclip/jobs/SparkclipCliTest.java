package io.sparkclip.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.schemas.InputLayout;
import io.sparkclip.schemas.Schemas;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkclipCliTest {
  private static SparkSession spark;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("SparkclipCliTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** Runs the CLI in-process, capturing stdout and stderr. */
  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = SparkclipCli.execute(args);
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void everyCommandHasHelpWithExamples() {
    Run top = cli("--help");
    assertThat(top.code()).as("top-level help exit code").isZero();
    assertThat(top.out()).as("top-level help lists commands").contains("generate", "inspect");
    for (String cmd : List.of("generate", "inspect")) {
      Run r = cli(cmd, "--help");
      assertThat(r.code()).as(cmd + " --help exit code").isZero();
      assertThat(r.out())
          .as(cmd + " --help shows examples")
          .contains("Examples:", "sparkclip " + cmd);
    }
  }

  @Test
  void generateThenInspectThroughTheCli() throws Exception {
    String raw = tmp.resolve("raw").toString();
    Run gen = cli("generate", "--rows", "400", "--shard-size", "200", "--out", raw, "--seed", "3");
    assertThat(gen.code()).as("generate exit code; stderr: " + gen.err()).isZero();
    assertThat(gen.out())
        .as("generate prints a summary")
        .contains("Generated 400 pairs in 2 shards", "shuffled_caption");
    // img2dataset writes {shard}_stats.json beside each shard; inspect must read past them.
    Files.writeString(Path.of(raw, "00000_stats.json"), "{\"count\": 200}");

    Run ins = cli("inspect", raw, "--samples", "3");
    assertThat(ins.code()).as("inspect exit code; stderr: " + ins.err()).isZero();
    assertThat(ins.out())
        .as("inspect report")
        .contains(
            "Layout:   img2dataset",
            "Rows:     400 in 2 file(s)",
            "caption  → caption",
            "image    → jpg",
            "Pair status",
            "ok",
            "Ground truth",
            "Sample rows:")
        .containsPattern("uid=[0-9a-f]{32}");

    Run again = cli("generate", "--rows", "10", "--out", raw);
    assertThat(again.code()).as("refuses to overwrite").isEqualTo(2);
    assertThat(again.err())
        .as("shows the id and says how to fix it")
        .contains("sparkclip generate: [OUTPUT_EXISTS] ", "--overwrite");
  }

  @Test
  void inspectRejectsAmbiguousInputWithAnActionableMessage() {
    String dir = tmp.resolve("ambiguous").toString();
    StructType schema =
        new StructType().add("url", "string").add("caption", "string").add("TEXT", "string");
    spark
        .createDataFrame(List.of(RowFactory.create("https://x/1.jpg", "a", "b")), schema)
        .write()
        .parquet(dir);
    Run r = cli("inspect", dir);
    assertThat(r.code()).as("bad schema exit code").isEqualTo(2);
    assertThat(r.err())
        .as("message shows the id and names the columns, the layouts and the option")
        .contains(
            "sparkclip inspect: [INPUT_AMBIGUOUS_COLUMN] ",
            "url (string), caption (string), TEXT (string)",
            "Hugging Face",
            "--caption-col caption");

    Run mapped = cli("inspect", dir, "--caption-col", "TEXT");
    assertThat(mapped.code()).as("the suggested fix works; stderr: " + mapped.err()).isZero();
    assertThat(mapped.out())
        .as("mapped layout")
        .contains("Layout:   " + InputLayout.METADATA_ONLY.label(), "caption  → TEXT");
  }

  @Test
  void inspectReadsHuggingFaceLayout() {
    String dir = tmp.resolve("hf").toString();
    spark
        .createDataFrame(
            List.of(
                RowFactory.create(RowFactory.create(new byte[] {1, 2, 3}, "a.jpg"), "a dog"),
                RowFactory.create(RowFactory.create(null, "b.jpg"), "a cat")),
            Schemas.HUGGING_FACE)
        .write()
        .parquet(dir);
    Run r = cli("inspect", dir);
    assertThat(r.code()).as("exit code; stderr: " + r.err()).isZero();
    assertThat(r.out())
        .as("HF report")
        .contains("Layout:   huggingface", "image    → image.bytes", "missing_image", "1");
  }

  @Test
  void missingInputAndBadOptionsFailClearly() {
    Run missing = cli("inspect", tmp.resolve("nope").toString());
    assertThat(missing.code()).as("missing input exit code").isEqualTo(2);
    assertThat(missing.err())
        .as("missing input message")
        .contains("sparkclip inspect: [INPUT_PATH_NOT_FOUND] ", "sparkclip generate");

    Run badFault =
        cli(
            "generate",
            "--rows",
            "5",
            "--out",
            tmp.resolve("x").toString(),
            "--fault-rate",
            "typo=0.1");
    assertThat(badFault.code()).as("unknown fault kind exit code").isEqualTo(2);
    assertThat(badFault.err())
        .as("lists known kinds")
        .contains("[OPTION_UNKNOWN_VALUE] ", "'typo'", "shuffled_caption");

    Run badRows = cli("generate", "--rows", "0", "--out", tmp.resolve("y").toString());
    assertThat(badRows.code()).as("invalid rows exit code").isEqualTo(2);
    assertThat(badRows.err())
        .as("says the valid range")
        .contains("[OPTION_OUT_OF_RANGE] ", "--rows must be between 1");
  }
}
