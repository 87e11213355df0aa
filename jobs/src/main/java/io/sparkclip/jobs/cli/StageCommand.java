package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.jobs.stage.StageRunner;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * A command that runs one {@link Stage}: its flags become the stage's {@link StageConf} by name
 * ({@code --phash-distance 6} sets key {@code phash-distance}), so a command declares flags and
 * help but never a default: an unset flag takes the stage's {@code KEY_DEFAULT}, exactly as an
 * unset key in curate's config does.
 */
abstract class StageCommand<O> implements Callable<Integer> {
  /** Flags of the command itself, not of the stage. */
  private static final Set<String> NOT_STAGE_KEYS =
      Set.of("master", "conf", "quiet", "progress", "help", "version");

  private static final String NEGATION = "no-";

  @Spec CommandSpec spec;
  @Mixin SparkOptions spark;
  @Mixin ProgressOptions progress;

  abstract Stage<O> stage();

  /** The stage options the parsed flags give. */
  O options() {
    return stage().options(conf(spec.commandLine().getParseResult()));
  }

  /** Matched flags by key: {@code --out} is {@code out}, the positional INPUT is {@code input}. */
  static StageConf conf(ParseResult parsed) {
    StageConf c = StageConf.empty();
    for (ArgSpec a : parsed.matchedArgs()) {
      String key = key(a);
      if (key == null || NOT_STAGE_KEYS.contains(key)) {
        continue;
      }
      Object v = a.getValue();
      if (key.startsWith(NEGATION) && v instanceof Boolean b) {
        // --no-exact-url switches key exact-url off.
        c = c.with(key.substring(NEGATION.length()), !b);
      } else {
        c = c.with(key, v instanceof List<?> l ? List.copyOf(l) : v);
      }
    }
    return c;
  }

  private static String key(ArgSpec a) {
    if (a instanceof OptionSpec o) {
      return o.longestName().replaceFirst("^--?", "");
    }
    if (a instanceof PositionalParamSpec p && p.index().min() == 0) {
      return StageKeys.INPUT;
    }
    return null;
  }

  @Override
  public Integer call() {
    Stage<O> stage = stage();
    O o = options();
    try (Sparks s = spark.open(stage.name());
        StageRunner runner = new StageRunner(s.session(), progress.mode(), System.err)) {
      CurationSummary summary = runner.run(stage, o, stage.name());
      System.out.print(summary.render());
      return summary.balanced() ? 0 : 1;
    }
  }
}
