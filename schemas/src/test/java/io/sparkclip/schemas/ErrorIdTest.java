package io.sparkclip.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ErrorIdTest {
  private static final Pattern ID = Pattern.compile("[A-Z]+(_[A-Z0-9]+)+");

  @Test
  void idsAreUniqueUpperSnakeNames() {
    List<String> names = Arrays.stream(ErrorId.values()).map(ErrorId::name).toList();
    assertThat(names).as("ids").doesNotHaveDuplicates();
    assertThat(names.stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)))
        .as("ids differ in more than case")
        .doesNotHaveDuplicates();
    assertThat(names)
        .as("ids are UPPER_SNAKE with a prefix")
        .allMatch(n -> ID.matcher(n).matches());
  }

  @Test
  void everyIdHasAOneLineDescription() {
    for (ErrorId id : ErrorId.values()) {
      assertThat(id.description()).as("description of " + id).isNotBlank().doesNotContain("\n");
      assertThat(id.description()).as("description of " + id + " is a sentence").endsWith(".");
    }
  }

  @Test
  void messageStartsWithTheIdThenProblemCauseFix() {
    SparkclipException e =
        new SparkclipException(ErrorId.OUTPUT_EXISTS, "The problem.", "The cause.", "The fix.");
    assertThat(e.id()).as("id()").isEqualTo(ErrorId.OUTPUT_EXISTS);
    assertThat(e.getMessage())
        .as("message format")
        .isEqualTo("[OUTPUT_EXISTS] The problem.\n  Cause: The cause.\n  Fix:   The fix.");
    assertThat(e.problem()).as("problem() has no id").isEqualTo("The problem.");

    SparkclipException built = Errors.outputExists("/tmp/out");
    assertThat(built.id()).as("factory id").isEqualTo(ErrorId.OUTPUT_EXISTS);
    assertThat(built.getMessage())
        .as("factory message")
        .startsWith("[OUTPUT_EXISTS] Output path '/tmp/out' already exists.\n  Cause: ")
        .contains("\n  Fix:   Choose another --out");

    Throwable cause = new IllegalStateException("disk full");
    assertThat(Errors.writeFailed("/tmp/x", cause).getCause()).as("cause kept").isSameAs(cause);
    assertThatThrownBy(() -> new SparkclipException(null, "p", "c", "f"))
        .as("an error needs an id")
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void requireThrowsTheSuppliedErrorOnlyWhenTheConditionFails() {
    Errors.require(true, () -> Errors.outputExists("never built"));
    assertThatThrownBy(
            () ->
                Errors.require(
                    false, () -> Errors.optionOutOfRange("dedup", "--x in [0, 1]", "got 2")))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("require's id").isEqualTo(ErrorId.OPTION_OUT_OF_RANGE))
        .hasMessage(
            "[OPTION_OUT_OF_RANGE] Invalid dedup option: --x in [0, 1].\n"
                + "  Cause: got 2.\n"
                + "  Fix:   Fix the option and run again; see sparkclip dedup --help.");
  }

  @Test
  void everyIdIsReferencedInMainSources() {
    String main =
        mainSources().entrySet().stream()
            .filter(e -> !e.getKey().endsWith("ErrorId.java"))
            .map(Map.Entry::getValue)
            .collect(Collectors.joining("\n"));
    for (ErrorId id : ErrorId.values()) {
      assertThat(Pattern.compile("\\bErrorId\\." + id.name() + "\\b").matcher(main).find())
          .as(id + " is used in main sources outside ErrorId (else remove it)")
          .isTrue();
    }
  }

  @Test
  void onlyTheFactoriesConstructErrors() {
    Set<String> constructing = new TreeSet<>();
    mainSources()
        .forEach(
            (file, text) -> {
              if (text.contains("new SparkclipException(")) {
                constructing.add(Path.of(file).getFileName().toString());
              }
            });
    assertThat(constructing)
        .as("files that build a SparkclipException (call sites use Errors or ClipErrors)")
        .containsExactlyInAnyOrder("Errors.java", "ClipErrors.java");
  }

  @Test
  void docsListEveryIdAndNoOther() throws IOException {
    String doc = Files.readString(repoRoot().resolve("docs/errors.md"));
    Set<String> documented = new TreeSet<>();
    Matcher m =
        Pattern.compile("^\\| `(" + ID.pattern() + ")` \\|", Pattern.MULTILINE).matcher(doc);
    while (m.find()) {
      documented.add(m.group(1));
    }
    Set<String> ids =
        Arrays.stream(ErrorId.values())
            .map(ErrorId::name)
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(documented).as("ids in the table of docs/errors.md").isEqualTo(ids);
    for (ErrorId id : ErrorId.values()) {
      assertThat(doc)
          .as("docs/errors.md gives the description of " + id)
          .contains("| `" + id.name() + "` | " + id.description() + " |");
    }
  }

  /** The checkout root: the nearest ancestor of the module dir whose pom.xml lists modules. */
  private static Path repoRoot() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path pom = d.resolve("pom.xml");
      try {
        if (Files.isRegularFile(pom) && Files.readString(pom).contains("<modules>")) {
          return d;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException("no parent pom.xml above " + Path.of("").toAbsolutePath());
  }

  /** Every main Java source of every module ({@code <module>/src/main/java}), by path. */
  private static Map<String, String> mainSources() {
    Map<String, String> out = new LinkedHashMap<>();
    try (Stream<Path> modules = Files.list(repoRoot())) {
      for (Path module : modules.filter(Files::isDirectory).sorted().toList()) {
        Path src = module.resolve("src/main/java");
        if (!Files.isDirectory(src)) {
          continue;
        }
        try (Stream<Path> files = Files.walk(src)) {
          for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
            out.put(f.toString(), Files.readString(f));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertThat(out.keySet())
        .as("the scan sees the jobs and udfs sources too")
        .anyMatch(p -> p.endsWith("SparkclipCli.java"))
        .anyMatch(p -> p.endsWith("ClipErrors.java"));
    return out;
  }
}
