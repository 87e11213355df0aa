package io.sparkclip.jobs.cli;

import io.sparkclip.jobs.basicfilter.BasicFilterJob;
import io.sparkclip.jobs.basicfilter.BasicFilterJob.Options;
import io.sparkclip.jobs.basicfilter.BasicFilterStage;
import io.sparkclip.jobs.stage.Stage;
import io.sparkclip.jobs.stage.StageKeys;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "basic-filter",
    mixinStandardHelpOptions = true,
    description = {
      "Cheap caption and image checks before embed, so that nothing is embedded only",
      "to be dropped; the defaults are DataComp's basic filter. Caption words and",
      "characters, image file bytes, image shortest side and aspect ratio (read from",
      "the image header: no pixel is decoded) and the caption's language by Lingua.",
      "A bound of 0 turns its check off; each check has its own reject reason. Writes",
      "<out>/data (kept rows, with language and language_confidence), <out>/rejects",
      "and <out>/_summary.json."
    },
    footer = {
      "",
      "Examples:",
      "  sparkclip basic-filter /tmp/matched/data --out /tmp/basic      (DataComp)",
      "  sparkclip basic-filter /tmp/raw --out /tmp/basic --min-image-bytes 5120 \\",
      "      --languages any                        (LAION's 5 KB, any language)",
      "  sparkclip basic-filter /tmp/raw --out /tmp/basic --languages en,de \\",
      "      --language-candidates en,de,fr,es,it,nl --min-language-confidence 0.1",
      "",
      "Next: sparkclip dedup /tmp/basic/data --out /tmp/dedup"
    })
public final class BasicFilterCommand extends StageCommand<BasicFilterJob.Options> {
  @Parameters(index = "0", paramLabel = "INPUT", description = "Pairs (any recognised layout).")
  String input;

  @Option(names = "--" + StageKeys.OUT, required = true, description = "Output directory.")
  String out;

  @Option(
      names = "--" + StageKeys.OVERWRITE,
      description = "Replace the output directory if it exists.")
  boolean overwrite;

  @Option(
      names = "--" + Options.MIN_CAPTION_WORDS,
      description =
          "Fewest words (whitespace-separated) a kept caption has (default: "
              + Options.MIN_CAPTION_WORDS_DEFAULT
              + ", DataComp's more than 2).")
  Integer minCaptionWords;

  @Option(
      names = "--" + Options.MAX_CAPTION_WORDS,
      description =
          "Most words a kept caption has (default: "
              + Options.MAX_CAPTION_WORDS_DEFAULT
              + "; 0 = no upper bound).")
  Integer maxCaptionWords;

  @Option(
      names = "--" + Options.MIN_CAPTION_CHARS,
      description =
          "Fewest characters (Unicode code points) a kept caption has (default: "
              + Options.MIN_CAPTION_CHARS_DEFAULT
              + ", DataComp's more than 5).")
  Integer minCaptionChars;

  @Option(
      names = "--" + Options.MAX_CAPTION_CHARS,
      description =
          "Most characters a kept caption has (default: "
              + Options.MAX_CAPTION_CHARS_DEFAULT
              + "; 0 = no upper bound).")
  Integer maxCaptionChars;

  @Option(
      names = "--" + Options.MIN_IMAGE_BYTES,
      description =
          "Fewest bytes a kept image file has (default: "
              + Options.MIN_IMAGE_BYTES_DEFAULT
              + "; 0 = off; LAION-400M dropped images under 5 KB: 5120).")
  Long minImageBytes;

  @Option(
      names = "--" + Options.MIN_IMAGE_SIDE,
      description =
          "Shortest side in pixels a kept image has at least (default: "
              + Options.MIN_IMAGE_SIDE_DEFAULT
              + ", DataComp).")
  Integer minImageSide;

  @Option(
      names = "--" + Options.MAX_ASPECT_RATIO,
      description =
          "Largest longest/shortest side ratio kept (default: "
              + Options.MAX_ASPECT_RATIO_DEFAULT
              + ", DataComp; 0 = off).")
  Double maxAspectRatio;

  @Option(
      names = "--" + Options.LANGUAGES,
      split = ",",
      description =
          "ISO 639-1 codes of the languages kept (default: "
              + Options.LANGUAGES_DEFAULT_TEXT
              + ", DataComp); '"
              + Options.ANY_LANGUAGE
              + "' = no language check.")
  List<String> languages;

  @Option(
      names = "--" + Options.LANGUAGE_CANDIDATES,
      split = ",",
      description =
          "Languages Lingua chooses among (the kept ones are added); only these are loaded"
              + " (default: "
              + Options.LANGUAGE_CANDIDATES_DEFAULT_TEXT
              + ").")
  List<String> languageCandidates;

  @Option(
      names = "--" + Options.MIN_LANGUAGE_CONFIDENCE,
      description =
          "Lowest Lingua confidence (distance to the runner-up language, 0-1) kept (default: "
              + Options.MIN_LANGUAGE_CONFIDENCE_DEFAULT
              + ", DataComp's top-1 language).")
  Double minLanguageConfidence;

  @Mixin MappingOptions mapping;

  @Override
  Stage<BasicFilterJob.Options> stage() {
    return new BasicFilterStage();
  }
}
