package io.sparkclip.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.sparkclip.jobs.curate.CurateJob;
import io.sparkclip.jobs.decontaminate.DecontaminateJob;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.schemas.Stages;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Curate with an empty config runs every stage with exactly the options its stand-alone command
 * uses when given no flags but the required ones: both resolve the stage's one set of defaults.
 */
class StageDefaultsTest {
  static final Map<String, Supplier<StageCommand<?>>> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put(Stages.DOWNLOAD, DownloadCommand::new);
    COMMANDS.put(Stages.MATCH_QUERIES, MatchQueriesCommand::new);
    COMMANDS.put(Stages.BASIC_FILTER, BasicFilterCommand::new);
    COMMANDS.put(Stages.DEDUP, DedupCommand::new);
    COMMANDS.put(Stages.DECONTAMINATE, DecontaminateCommand::new);
    COMMANDS.put(Stages.BALANCE, BalanceCommand::new);
    COMMANDS.put(Stages.EMBED, EmbedCommand::new);
    COMMANDS.put(Stages.SCORE, ScoreCommand::new);
    COMMANDS.put(Stages.FILTER, FilterCommand::new);
    COMMANDS.put(Stages.SEMDEDUP, SemDedupCommand::new);
  }

  static Object commandOptions(String stage, String input, String out, String... flags) {
    StageCommand<?> cmd = COMMANDS.get(stage).get();
    List<String> args = new ArrayList<>(List.of(input, "--out", out));
    args.addAll(List.of(flags));
    new CommandLine(cmd).parseArgs(args.toArray(String[]::new));
    return cmd.options();
  }

  static String[] required(String stage) {
    return switch (stage) {
      case Stages.MATCH_QUERIES -> new String[] {"--queries", "/q.txt"};
      case Stages.EMBED, Stages.SCORE -> new String[] {"--model", "/m"};
      case Stages.DECONTAMINATE -> new String[] {"--eval", EVAL_SET};
      default -> new String[0];
    };
  }

  /** decontaminate's one required option: an evaluation set. */
  static final String EVAL_SET = "val=/eval";

  static Map<String, String> top() {
    Map<String, String> top = new LinkedHashMap<>();
    top.put(StageKeys.INPUT, "/raw");
    top.put(StageKeys.OUT, "/curated");
    return top;
  }

  @Test
  void emptyCurateConfigRunsEachStageLikeItsCommandWithNoFlags() {
    Map<String, String> top = top();
    top.put("queries", "/q.txt");
    top.put(StageKeys.MODEL, "/m");
    Config conf =
        CurateJob.load(null, top)
            .withValue(CurateJob.STAGES, ConfigValueFactory.fromIterable(Stages.CURATION_ORDER))
            .withValue(
                Stages.DECONTAMINATE + "." + DecontaminateJob.Options.EVAL_SETS,
                ConfigValueFactory.fromIterable(List.of(EVAL_SET)));
    List<CurateJob.Planned<?>> plan = new CurateJob(null, conf).plan();
    assertThat(plan.stream().map(p -> p.stage().name()).toList())
        .as("every stage planned, in order")
        .isEqualTo(Stages.CURATION_ORDER);
    String input = "/raw";
    for (CurateJob.Planned<?> p : plan) {
      String name = p.stage().name();
      Object fromCommand = commandOptions(name, input, p.dir(), required(name));
      assertThat(fromCommand)
          .as("%s: command with no flags == curate with an empty config", name)
          .isEqualTo(p.options());
      input = p.dir() + "/data";
    }
  }

  @Test
  void aFlagAndAConfigKeyAreTheSameOption() {
    Map<String, String> top = top();
    top.put("dedup.phash-distance", "6");
    top.put("dedup.near-caption", "true");
    top.put("dedup.exact-url", "false");
    top.put("dedup.keep", "lowest-uid");
    Config conf =
        CurateJob.load(null, top)
            .withValue(CurateJob.STAGES, ConfigValueFactory.fromIterable(List.of("dedup")));
    CurateJob.Planned<?> p = new CurateJob(null, conf).plan().get(0);
    Object fromCommand =
        commandOptions(
            Stages.DEDUP,
            "/raw",
            p.dir(),
            "--phash-distance",
            "6",
            "--near-caption",
            "--no-exact-url",
            "--keep",
            "lowest-uid");
    assertThat(fromCommand).as("flags == config keys").isEqualTo(p.options());
    assertThat(fromCommand)
        .as("and they differ from the defaults")
        .isNotEqualTo(commandOptions(Stages.DEDUP, "/raw", p.dir()));
  }

  @Test
  void setPassesAListKeyByIndex() {
    // curate --set decontaminate.eval-sets.0=a=/e/a --set decontaminate.eval-sets.1=b=/e/b
    Map<String, String> top = top();
    top.put(Stages.DECONTAMINATE + "." + DecontaminateJob.Options.EVAL_SETS + ".0", "a=/e/a");
    top.put(Stages.DECONTAMINATE + "." + DecontaminateJob.Options.EVAL_SETS + ".1", "b=/e/b");
    Config conf =
        CurateJob.load(null, top)
            .withValue(
                CurateJob.STAGES, ConfigValueFactory.fromIterable(List.of(Stages.DECONTAMINATE)));
    Object o = new CurateJob(null, conf).plan().get(0).options();
    assertThat(((DecontaminateJob.Options) o).evalSets())
        .as("a list given as indexed keys, in index order")
        .containsExactly("a=/e/a", "b=/e/b");
  }

  @Test
  void basicFilterFlagsAndConfigKeysAreTheSameOptions() {
    Map<String, String> top = top();
    top.put("basic-filter.min-image-side", "100");
    top.put("basic-filter.max-aspect-ratio", "0");
    top.put("basic-filter.min-image-bytes", "5120");
    top.put("basic-filter.max-caption-words", "40");
    top.put("basic-filter.min-language-confidence", "0.1");
    Config conf =
        CurateJob.load(null, top)
            .withValue(
                "basic-filter.languages", ConfigValueFactory.fromIterable(List.of("en", "de")))
            .withValue(
                "basic-filter.language-candidates",
                ConfigValueFactory.fromIterable(List.of("en", "de", "fr")))
            .withValue(
                CurateJob.STAGES, ConfigValueFactory.fromIterable(List.of(Stages.BASIC_FILTER)));
    CurateJob.Planned<?> p = new CurateJob(null, conf).plan().get(0);
    Object fromCommand =
        commandOptions(
            Stages.BASIC_FILTER,
            "/raw",
            p.dir(),
            "--languages",
            "en,de",
            "--language-candidates",
            "en,de,fr",
            "--min-image-side",
            "100",
            "--max-aspect-ratio",
            "0",
            "--min-image-bytes",
            "5120",
            "--max-caption-words",
            "40",
            "--min-language-confidence",
            "0.1");
    assertThat(fromCommand).as("basic-filter flags == config keys").isEqualTo(p.options());
    assertThat(fromCommand)
        .as("and they differ from the defaults")
        .isNotEqualTo(commandOptions(Stages.BASIC_FILTER, "/raw", p.dir()));
  }

  @Test
  void scoreHeadsAndFilterBoundsFlagsAndConfigKeysAreTheSameOptions() {
    Map<String, String> top = top();
    top.put(StageKeys.MODEL, "/m");
    top.put("score.head-batch-size", "64");
    Config conf =
        CurateJob.load(null, top)
            .withValue(
                "score.heads",
                ConfigValueFactory.fromIterable(List.of("aesthetic=/h/a", "nsfw=/h/n")))
            .withValue("filter.min", ConfigValueFactory.fromIterable(List.of("aesthetic_score=5")))
            .withValue("filter.max", ConfigValueFactory.fromIterable(List.of("nsfw_score=0.5")))
            .withValue(
                CurateJob.STAGES,
                ConfigValueFactory.fromIterable(List.of(Stages.SCORE, Stages.FILTER)));
    List<CurateJob.Planned<?>> plan = new CurateJob(null, conf).plan();
    Object score =
        commandOptions(
            Stages.SCORE,
            "/raw",
            plan.get(0).dir(),
            "--model",
            "/m",
            "--head",
            "aesthetic=/h/a",
            "--head",
            "nsfw=/h/n",
            "--head-batch-size",
            "64");
    assertThat(score).as("score --head flags == score.heads").isEqualTo(plan.get(0).options());
    assertThat(((io.sparkclip.jobs.score.ScoreJob.Options) score).headColumns())
        .as("head columns, in the order given")
        .containsExactly("aesthetic_score", "nsfw_score");
    Object filter =
        commandOptions(
            Stages.FILTER,
            plan.get(0).dir() + "/data",
            plan.get(1).dir(),
            "--min",
            "aesthetic_score=5",
            "--max",
            "nsfw_score=0.5");
    assertThat(filter).as("filter --min/--max == filter.min/max").isEqualTo(plan.get(1).options());
    assertThat(filter)
        .as("and they differ from the defaults")
        .isNotEqualTo(commandOptions(Stages.FILTER, "/raw", plan.get(1).dir()));
  }

  @Test
  void aConfigKeyNoStageReadsFailsBeforeAnyWork() {
    Map<String, String> typo = top();
    typo.put("dedup.phash-distanse", "6");
    assertThatThrownBy(() -> new CurateJob(null, CurateJob.load(null, typo)).plan())
        .as("a misspelt dedup key")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.CONFIG_UNKNOWN_KEY))
        .hasMessageContaining("phash-distanse")
        .hasMessageContaining("phash-distance");
    Map<String, String> top = top();
    top.put("modle", "/m");
    assertThatThrownBy(() -> new CurateJob(null, CurateJob.load(null, top)).plan())
        .as("a misspelt top-level key")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.CONFIG_UNKNOWN_KEY))
        .hasMessageContaining("modle");
    Map<String, String> shared = top();
    shared.put("batch-size", "64");
    shared.put("queries", "/q.txt");
    shared.put(StageKeys.MODEL, "/m");
    Map<String, String> wrongType = top();
    wrongType.put("dedup.phash-distance", "six");
    wrongType.put("queries", "/q.txt");
    assertThatThrownBy(() -> new CurateJob(null, CurateJob.load(null, wrongType)).plan())
        .as("a word where a number belongs")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.OPTION_WRONG_TYPE));
    assertThat(new CurateJob(null, CurateJob.load(null, shared)).plan())
        .as("top-level keys some stage reads are fine")
        .hasSize(6);
  }
}
