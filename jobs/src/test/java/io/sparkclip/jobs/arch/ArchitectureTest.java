package io.sparkclip.jobs.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package rules of sparkclip: {@code schemas → udfs → jobs}; inside jobs the stage contract
 * ({@code stage}) sits below every stage, no stage package imports another stage or a tool, and
 * only the CLI and the demo import the orchestrator ({@code curate}).
 */
class ArchitectureTest {
  static final String JOBS = "io.sparkclip.jobs";

  /** One package per curation stage. */
  static final List<String> STAGES =
      List.of(
          "download",
          "match",
          "basicfilter",
          "dedup",
          "decontaminate",
          "balance",
          "embed",
          "score",
          "filter",
          "semdedup");

  /** Commands that are not curation stages; each stands alone as a stage does. */
  static final List<String> TOOLS = List.of("generate", "inspect", "evaluate", "report", "export");

  static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.sparkclip");
  }

  static String pkg(String name) {
    return JOBS + "." + name + "..";
  }

  static String[] others(String self) {
    List<String> out = new ArrayList<>();
    Stream.concat(STAGES.stream(), TOOLS.stream())
        .filter(p -> !p.equals(self))
        .forEach(p -> out.add(pkg(p)));
    out.add(pkg("curate"));
    out.add(pkg("cli"));
    out.add(pkg("demo"));
    out.add(pkg("notebook"));
    return out.toArray(String[]::new);
  }

  static ArchRule standsAlone(String p) {
    return noClasses()
        .that()
        .resideInAPackage(pkg(p))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(others(p))
        .as("package " + p + " depends on no other stage, tool or the orchestrator");
  }

  @Test
  void noStageOrToolImportsAnotherStageToolOrTheOrchestrator() {
    for (String p : Stream.concat(STAGES.stream(), TOOLS.stream()).toList()) {
      standsAlone(p).check(classes);
    }
  }

  @Test
  void theRuleCatchesAStageThatImportsAnother() {
    JavaClasses bad =
        new ClassFileImporter()
            .importClasses(
                io.sparkclip.jobs.dedup.ArchViolationFixture.class,
                io.sparkclip.jobs.embed.EmbedJob.class);
    assertThatThrownBy(() -> standsAlone("dedup").check(bad))
        .as("dedup importing embed breaks the rule")
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("EmbedJob");
  }

  @Test
  void theStageContractDependsOnNoStage() {
    noClasses()
        .that()
        .resideInAPackage(pkg("stage"))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(others("stage"))
        .as("the stage contract sits below every stage")
        .check(classes);
  }

  @Test
  void onlyTheCliAndTheDemoImportTheOrchestrator() {
    noClasses()
        .that()
        .resideOutsideOfPackages(pkg("curate"), pkg("cli"), pkg("demo"))
        .should()
        .dependOnClassesThat()
        .resideInAPackage(pkg("curate"))
        .as("nothing but the CLI and the demo imports curate")
        .check(classes);
  }

  @Test
  void modulesPointOneWay() {
    noClasses()
        .that()
        .resideInAPackage("io.sparkclip.schemas..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.sparkclip.udfs..", "io.sparkclip.jobs..")
        .as("schemas depends on neither udfs nor jobs")
        .check(classes);
    noClasses()
        .that()
        .resideInAPackage("io.sparkclip.udfs..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.sparkclip.jobs..")
        .as("udfs does not depend on jobs")
        .check(classes);
  }
}
