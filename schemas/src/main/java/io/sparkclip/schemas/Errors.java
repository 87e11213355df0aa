package io.sparkclip.schemas;

import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Builds every user-facing error of the schemas and jobs modules in one place: id, problem, cause,
 * fix (the engine's live in udfs' ClipErrors). Call sites throw what these return and never build a
 * {@link SparkclipException} themselves, so each message has one wording and one {@link ErrorId}.
 */
public final class Errors {
  private Errors() {}

  static final String LAYOUTS_EXPECTED =
      "Layouts expected: img2dataset (url, caption, a binary image column jpg/png/webp, key,"
          + " status, …); Hugging Face datasets (image struct{bytes: binary, path: string} plus"
          + " text or caption); metadata-only (url plus caption, TEXT or text, no image bytes).";

  /** Throws the error {@code error} builds unless {@code ok}. */
  public static void require(boolean ok, Supplier<SparkclipException> error) {
    if (!ok) {
      throw error.get();
    }
  }

  /** Lists the columns of a schema as {@code name (type)}, for error messages. */
  public static String describeColumns(StructType schema) {
    if (schema.fields().length == 0) {
      return "(no columns)";
    }
    return java.util.Arrays.stream(schema.fields())
        .map(Errors::describeField)
        .collect(Collectors.joining(", "));
  }

  private static String describeField(StructField f) {
    return f.name() + " (" + f.dataType().simpleString() + ")";
  }

  private static SparkclipException error(ErrorId id, String problem, String reason, String fix) {
    return new SparkclipException(id, problem, reason, fix);
  }

  private static SparkclipException error(
      ErrorId id, String problem, String reason, String fix, Throwable cause) {
    return new SparkclipException(id, problem, reason, fix, cause);
  }

  // Input layout (schema detection).

  /** The cause names the columns found and the layouts expected. */
  private static SparkclipException badSchema(
      ErrorId id, String problem, StructType schema, String fix, String source) {
    String reason =
        "Columns found in "
            + (source == null ? "the input" : source)
            + ": "
            + describeColumns(schema)
            + ". "
            + LAYOUTS_EXPECTED;
    return error(id, problem, reason, fix);
  }

  /** No image bytes and no url column to identify pairs by. */
  public static SparkclipException noUrlColumn(StructType schema, String source) {
    return badSchema(
        ErrorId.INPUT_NO_URL_COLUMN,
        "Metadata-only input without a url column.",
        schema,
        "Without image bytes sparkclip needs a URL to identify and deduplicate pairs: name"
            + " it with --url-col, or name the image column with --image-col.",
        source);
  }

  /** None of the recognised caption columns is a string column. */
  public static SparkclipException noCaptionColumn(
      List<String> candidates, StructType schema, String source) {
    return badSchema(
        ErrorId.INPUT_NO_CAPTION_COLUMN,
        "No caption column: none of " + candidates + " is a string column.",
        schema,
        "Name the column that holds the alt text with --caption-col <column>.",
        source);
  }

  /** Binary columns exist but none has an image column name. */
  public static SparkclipException unnamedImageColumn(
      List<String> binaryColumns, StructType schema, String source) {
    return badSchema(
        ErrorId.INPUT_UNNAMED_IMAGE_COLUMN,
        "Binary column(s) " + binaryColumns + " found, but none has an image column name.",
        schema,
        "Name the image column with --image-col "
            + binaryColumns.get(0)
            + ", or pass --image-col none to treat the input as metadata-only.",
        source);
  }

  /** Several columns could play the same role. */
  public static SparkclipException ambiguous(
      String role, List<String> candidates, String option, StructType schema, String source) {
    return badSchema(
        ErrorId.INPUT_AMBIGUOUS_COLUMN,
        "Ambiguous "
            + role
            + " column: the input has "
            + String.join(" and ", candidates)
            + ", and sparkclip cannot tell which one to use.",
        schema,
        "Name it explicitly, e.g. " + option + " " + candidates.get(0) + ".",
        source);
  }

  /** A mapped or detected column has the wrong type. */
  public static SparkclipException wrongType(
      String role, String column, String actual, String expected, String option, String source) {
    return error(
        ErrorId.INPUT_COLUMN_WRONG_TYPE,
        "The " + role + " column '" + column + "' has type " + actual + ", not " + expected + ".",
        (source == null ? "The input" : source)
            + " stores "
            + role
            + " data in a type sparkclip cannot read as "
            + expected
            + ".",
        "Point "
            + option
            + " at a column of type "
            + expected
            + ", or convert the column before running sparkclip.");
  }

  /** A column named by an option does not exist. */
  public static SparkclipException missingMapped(
      String option, String column, StructType schema, String source) {
    return badSchema(
        ErrorId.INPUT_MAPPED_COLUMN_MISSING,
        "Column '" + column + "' given with " + option + " does not exist.",
        schema,
        "Use one of the column names listed above with " + option + ".",
        source);
  }

  /** balance's input has no query column. */
  public static SparkclipException noQueryColumnToBalance(StructType schema, String source) {
    return badSchema(
        ErrorId.INPUT_NO_QUERY_COLUMN,
        "balance input has no query column.",
        schema,
        "Run sparkclip match-queries first, or name the column with --query-col.",
        source);
  }

  /** A Parquet query list has no string column {@code query}. */
  public static SparkclipException queryListWithoutQueryColumn(String path, StructType schema) {
    return badSchema(
        ErrorId.QUERIES_NO_QUERY_COLUMN,
        "Query list '" + path + "' has no string column '" + Columns.QUERY + "'.",
        schema,
        "Write the queries as a Parquet string column named '"
            + Columns.QUERY
            + "', or as a text file with one query per line.",
        path);
  }

  // Paths: inputs and outputs on any Hadoop filesystem.

  /** The filesystem of a path cannot be opened. */
  public static SparkclipException filesystemUnavailable(String path, Throwable e) {
    return error(
        ErrorId.PATH_FILESYSTEM_UNAVAILABLE,
        "Cannot open the filesystem of '" + path + "'.",
        e.getMessage(),
        "Check the path's scheme and credentials (e.g. spark.hadoop.fs.s3a.* settings).",
        e);
  }

  /** A Parquet input path does not exist. */
  public static SparkclipException inputPathNotFound(String path) {
    return error(
        ErrorId.INPUT_PATH_NOT_FOUND,
        "Input path '" + path + "' does not exist.",
        "Nothing is there to read.",
        "Check the path, or create the data first (e.g. sparkclip generate --out " + path + ").");
  }

  /** Checking an input path failed. */
  public static SparkclipException inputPathUnreadable(String path, Throwable e) {
    return error(
        ErrorId.INPUT_PATH_UNREADABLE,
        "Cannot read input path '" + path + "'.",
        e.getMessage(),
        "Check the path and access rights.",
        e);
  }

  /** Spark cannot read the input path as Parquet. */
  public static SparkclipException notParquet(String path, Throwable e) {
    return error(
        ErrorId.INPUT_NOT_PARQUET,
        "Input path '" + path + "' holds no readable Parquet data.",
        String.valueOf(e.getMessage()).lines().findFirst().orElse(""),
        "Point the command at a directory of Parquet files (img2dataset output_format=parquet,"
            + " a Hugging Face export, or LAION-style metadata); for a sparkclip stage's output,"
            + " its data/ folder.",
        e);
  }

  /** An input folder holds data files of more than one storage layout. */
  public static SparkclipException mixedLayouts(String path, String first, String second) {
    return error(
        ErrorId.INPUT_MIXED_LAYOUTS,
        "Input path '" + path + "' mixes storage layouts: " + first + " and " + second + ".",
        "A dataset is read in one layout; files of another would be silently left out or misread."
            + " (img2dataset's {shard}.parquet beside {shard}.tar, or beside a {shard}/ folder of"
            + " files, is its metadata and is recognised as such.)",
        "Point the command at a folder of one layout: Parquet files, WebDataset .tar shards, or"
            + " img2dataset files folders ({key}.jpg + {key}.txt + {key}.json); move the others"
            + " elsewhere.");
  }

  /** A WebDataset tar's first members hold no image. */
  public static SparkclipException tarWithoutImages(String tar, String members) {
    return error(
        ErrorId.INPUT_TAR_WITHOUT_IMAGES,
        "The WebDataset shard '" + tar + "' has no image member among its first samples.",
        "Its members are "
            + members
            + "; a sample's image is a member named {key}.jpg, .jpeg,"
            + " .png or .webp.",
        "Check that the tar is an image-text WebDataset shard (img2dataset"
            + " output_format=webdataset); if the images were never downloaded, read the"
            + " metadata (url + caption Parquet) instead.");
  }

  /** The output path exists and is not empty, and there is no --overwrite. */
  public static SparkclipException outputExists(String out) {
    return error(
        ErrorId.OUTPUT_EXISTS,
        "Output path '" + out + "' already exists.",
        "sparkclip never mixes a new run into old output.",
        "Choose another --out, or pass --overwrite to replace it.");
  }

  /** Checking or clearing the output path failed. */
  public static SparkclipException outputPrepareFailed(String out, Throwable e) {
    return error(
        ErrorId.OUTPUT_PREPARE_FAILED,
        "Cannot prepare output path '" + out + "'.",
        e.getMessage(),
        "Check access rights.",
        e);
  }

  /** Writing a text file failed. */
  public static SparkclipException writeFailed(String path, Throwable e) {
    return error(
        ErrorId.OUTPUT_WRITE_FAILED,
        "Cannot write '" + path + "'.",
        e.getMessage(),
        "Check access rights and free space.",
        e);
  }

  /** The output path is the input path (balance, match-queries). */
  public static SparkclipException outIsInput(String command, String input) {
    return error(
        ErrorId.OUTPUT_IS_INPUT,
        "--out is the input path '" + input + "'.",
        command + " would overwrite the data it reads.",
        "Write to another directory.");
  }

  // Options. The "Invalid <command> option" family shares one wording.

  private static SparkclipException invalidOption(
      ErrorId id, String command, String what, String detail) {
    return error(
        id,
        "Invalid " + command + " option: " + what + ".",
        detail + ".",
        "Fix the option and run again; see sparkclip " + command + " --help.");
  }

  /** An option value is outside its range; {@code what} states the range. */
  public static SparkclipException optionOutOfRange(String command, String what, String detail) {
    return invalidOption(ErrorId.OPTION_OUT_OF_RANGE, command, what, detail);
  }

  /** A required input path or option is missing. */
  public static SparkclipException optionMissing(String command, String what, String detail) {
    return invalidOption(ErrorId.OPTION_MISSING, command, what, detail);
  }

  /** Options that cannot be used together. */
  public static SparkclipException optionConflict(String command, String what, String detail) {
    return invalidOption(ErrorId.OPTION_CONFLICT, command, what, detail);
  }

  /** --out equals the input path (dedup, semdedup). */
  public static SparkclipException outMustDifferFromInput(String command) {
    return invalidOption(
        ErrorId.OUTPUT_IS_INPUT,
        command,
        "--out must differ from the input",
        command + " would overwrite the data it reads");
  }

  /** balance got no input or no --out. */
  public static SparkclipException balanceNeedsInputAndOut() {
    return error(
        ErrorId.OPTION_MISSING,
        "balance needs an input and --out.",
        "Nothing to read or nowhere to write.",
        "See sparkclip balance --help for an example.");
  }

  /** embed got no input, --out or --model. */
  public static SparkclipException embedNeedsInputOutAndModel() {
    return error(
        ErrorId.OPTION_MISSING,
        "embed needs an input, --out and --model.",
        "One of them is missing.",
        "Example: sparkclip embed /tmp/balanced/data --model models/sparkclip-demo-clip"
            + " --out /tmp/embedded");
  }

  /** match-queries got no input, --queries or --out. */
  public static SparkclipException matchQueriesMissing(String option) {
    return error(
        ErrorId.OPTION_MISSING,
        "Missing " + option + " for match-queries.",
        "match-queries reads pairs and a query list and writes an output directory.",
        "See sparkclip match-queries --help for an example.");
  }

  /** balance --cap below 1. */
  public static SparkclipException capOutOfRange(long cap) {
    return error(
        ErrorId.OPTION_OUT_OF_RANGE,
        "Invalid balance option: --cap must be ≥ 1.",
        "got " + cap + ".",
        "Use e.g. --cap 20000 (the WIT figure).");
  }

  /** score --group-size outside 2..4096. */
  public static SparkclipException groupSizeOutOfRange(int groupSize) {
    return error(
        ErrorId.OPTION_OUT_OF_RANGE,
        "--group-size " + groupSize + " is out of range.",
        "In-batch ranks compare each pair with the other K-1 pairs of its group.",
        "Use 2..4096 (the default 256 is a typical contrastive batch per GPU).");
  }

  /** score prompt templates are empty or one lacks {query}. */
  public static SparkclipException templatesWithoutQuery(List<String> templates) {
    return error(
        ErrorId.OPTION_TEMPLATE_WITHOUT_QUERY,
        "Prompt templates " + templates + " are empty or lack {query}.",
        "query_score embeds each query through every template.",
        "Give templates like \"a photo of a {query}.\" (repeat --template).");
  }

  /** filter --top-percent or --per-query-top-percent outside (0, 100]. */
  public static SparkclipException topPercentOutOfRange(double percent) {
    return error(
        ErrorId.OPTION_OUT_OF_RANGE,
        "A top-percent of " + percent + " is out of range.",
        "It is the share of pairs to keep, in percent.",
        "Use a value in (0, 100], e.g. --top-percent 30 (DataComp's best CLIP filter).");
  }

  /** filter --max-rank below 1. */
  public static SparkclipException maxRankOutOfRange(int maxRank) {
    return error(
        ErrorId.OPTION_OUT_OF_RANGE,
        "--max-rank " + maxRank + " is out of range.",
        "Rank 1 means the own caption is the best match in its group.",
        "Use 1 or more, e.g. --max-rank 5.");
  }

  /** embed --batch-size outside 1..4096. */
  public static SparkclipException batchSizeOutOfRange(int batchSize) {
    return error(
        ErrorId.OPTION_OUT_OF_RANGE,
        "--batch-size " + batchSize + " is out of range.",
        "A batch is the number of images or captions per ONNX Runtime call.",
        "Use 1..4096 (32-256 is typical; see docs on executor memory).");
  }

  /** embed --max-pixels below 1. */
  public static SparkclipException maxPixelsOutOfRange(long maxPixels, long defaultMaxPixels) {
    return error(
        ErrorId.OPTION_OUT_OF_RANGE,
        "--max-pixels " + maxPixels + " is out of range.",
        "It is the largest image (width x height) decoded; larger ones get status too_large.",
        "Use a positive pixel count; the default is " + defaultMaxPixels + " (PIL's limit).");
  }

  /** embed --precision other than fp32 or fp16. */
  public static SparkclipException unsupportedPrecision(String precision) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "--precision " + precision + " is not supported.",
        "Embeddings are written as float32 arrays or float16 packed into binary.",
        "Use --precision fp32 or --precision fp16.");
  }

  /** generate --fault-rate names an unknown fault kind; {@code detail} lists the known ones. */
  public static SparkclipException unknownFaultKind(String kind, String detail) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown fault kind '" + kind + "' in --fault-rate.",
        detail + ".",
        "Use one of the listed kinds, e.g. --fault-rate shuffled_caption=0.1.");
  }

  /** download --resize-mode other than img2dataset's modes. */
  public static SparkclipException unknownResizeMode(String mode) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown --resize-mode '" + mode + "'.",
        "download resizes in img2dataset's modes: no (keep the downloaded bytes), keep_ratio (short"
            + " side = --image-size), center_crop (keep_ratio, then the centred square) or border"
            + " (long side = --image-size, padded with white to a square).",
        "Use --resize-mode no, keep_ratio, center_crop or border.");
  }

  /** download's input holds no metadata files it reads. */
  public static SparkclipException noMetadataFiles(String path) {
    return error(
        ErrorId.INPUT_NO_METADATA_FILES,
        "No metadata files under '" + path + "'.",
        "download reads URL + caption metadata from Parquet (.parquet), CSV (.csv) or TSV (.tsv)"
            + " files, optionally gzip-compressed (.csv.gz, .tsv.gz); each file is one shard.",
        "Point download at such a file or a folder of them (e.g. LAION's or CC12M's metadata"
            + " parquet, or a TSV with url and caption columns).");
  }

  /** generate --format other than parquet or files. */
  public static SparkclipException unknownGenerateFormat(String format) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown --format '" + format + "'.",
        "generate writes parquet (img2dataset layout) or files (images/ + captions.tsv).",
        "Use --format parquet or --format files.");
  }

  /** balance --mode other than cap or probabilistic. */
  public static SparkclipException unknownBalanceMode(String mode) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown --mode '" + mode + "'.",
        "balance caps per query (cap) or draws MetaCLIP-style (probabilistic).",
        "Use --mode cap or --mode probabilistic.");
  }

  /** dedup --url-key other than url or url_caption. */
  public static SparkclipException unknownUrlKey(String urlKey) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown --url-key '" + urlKey + "'.",
        "The exact URL stage groups by url or by url and caption.",
        "Use --url-key url or --url-key url_caption.");
  }

  /** basic-filter --languages or --language-candidates names a code Lingua does not know. */
  public static SparkclipException unknownLanguage(
      String option, String code, Collection<String> known) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown language '" + code + "' in --" + option + ".",
        "Languages are ISO 639-1 codes of the languages Lingua identifies: " + known + ".",
        "Use codes from that list, e.g. --" + option + " en,de,fr.");
  }

  /** dedup or semdedup --keep names an unknown policy. */
  public static SparkclipException unknownKeepPolicy(String policy) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown keep policy '" + policy + "'.",
        "dedup knows: largest, lowest-uid, longest-caption.",
        "Use --keep largest (the default), lowest-uid or longest-caption.");
  }

  // curate config.

  /** The --config file does not exist. */
  public static SparkclipException configNotFound(String file) {
    return error(
        ErrorId.CONFIG_NOT_FOUND,
        "Config file '" + file + "' does not exist.",
        "curate reads its stages, thresholds, model and paths from it.",
        "Copy conf/curate.example.conf and edit it, or leave --config out for the defaults.");
  }

  /** The --config file does not parse; {@code parserMessage} names the line. */
  public static SparkclipException configSyntax(String file, String parserMessage) {
    return error(
        ErrorId.CONFIG_SYNTAX,
        "Config file '" + file + "' is not valid HOCON: " + parserMessage,
        "curate parses it with Typesafe Config.",
        "Fix the syntax at the line named above (see conf/curate.example.conf).");
  }

  /** The config lacks a required key. */
  public static SparkclipException configMissingKey(String key) {
    return error(
        ErrorId.CONFIG_MISSING_KEY,
        "The curate config has no '" + key + "'.",
        "curate needs input and out (and queries and model for the stages that use them).",
        "Set it in the config file or on the command line (--" + key + ").");
  }

  /** A top-level curate config key that no stage reads. */
  public static SparkclipException configUnknownKey(String key, Collection<String> known) {
    return error(
        ErrorId.CONFIG_UNKNOWN_KEY,
        "Unknown curate config key '" + key + "'.",
        "No stage reads it; top-level keys apply to every stage that has them.",
        "Remove it, or use one of " + known + " (see conf/curate.example.conf).");
  }

  /** A key of a stage's section of the curate config that the stage does not read. */
  public static SparkclipException configUnknownStageKey(
      String stage, String key, Collection<String> known) {
    return error(
        ErrorId.CONFIG_UNKNOWN_KEY,
        "Unknown key '" + key + "' in the " + stage + " section of the curate config.",
        "The " + stage + " stage has no option of that name.",
        "Use one of " + known + ", as in sparkclip " + stage + " --help.");
  }

  /** An option's value has the wrong type (a word where a number belongs, …). */
  public static SparkclipException optionWrongType(String key, String origin, String detail) {
    return error(
        ErrorId.OPTION_WRONG_TYPE,
        "Option '" + key + "' has a value of the wrong type (" + origin + ").",
        detail,
        "Give '" + key + "' a value like its default (see the command's --help).");
  }

  /** The config's stages list an unknown stage. */
  public static SparkclipException configUnknownStage(String stage, Collection<String> stages) {
    return error(
        ErrorId.CONFIG_UNKNOWN_STAGE,
        "Unknown stage '" + stage + "' in stages.",
        "curate knows the stages " + stages + " and runs them in the order stages lists them.",
        "Remove it or spell it as listed.");
  }

  /** The config's stages list a stage twice. */
  public static SparkclipException configStageTwice(String stage, List<String> stages) {
    return error(
        ErrorId.CONFIG_STAGE_ORDER,
        "Stage '" + stage + "' is listed twice in stages " + stages + ".",
        "Each stage runs once, with the options of its config section, into its own directory.",
        "List each stage once.");
  }

  /**
   * A stage of the config's stages needs a column that neither the input nor a stage before it
   * writes; {@code writers} are the stages that write it, {@code fixed} the list with the first of
   * them moved or added before the stage.
   */
  public static SparkclipException configStageOrder(
      String stage,
      int position,
      String column,
      List<String> stages,
      List<String> writers,
      List<String> fixed) {
    return error(
        ErrorId.CONFIG_STAGE_ORDER,
        "Stage '"
            + stage
            + "' (number "
            + position
            + " in stages "
            + stages
            + ") needs column '"
            + column
            + "', which neither the input nor the stages before it write.",
        "curate runs the stages in the order stages lists them, each reading what the one before"
            + " it kept"
            + (writers.isEmpty() ? "." : "; '" + column + "' is written by " + writers + "."),
        writers.isEmpty()
            ? "Curate input that has the column, or leave " + stage + " out of stages."
            : "List " + writers.get(0) + " before " + stage + ", e.g. stages = " + fixed + ".");
  }

  // Query lists (match-queries).

  /** The --queries path does not exist. */
  public static SparkclipException queryListNotFound(String path) {
    return error(
        ErrorId.QUERIES_NOT_FOUND,
        "Query list '" + path + "' does not exist.",
        "match-queries needs the list of queries to look for in captions.",
        "Pass --queries with a text file (one query per line) or a Parquet dataset with a '"
            + Columns.QUERY
            + "' column, e.g. the queries.txt that sparkclip generate writes.");
  }

  /** The query list has no non-blank query. */
  public static SparkclipException queryListEmpty(String path) {
    return error(
        ErrorId.QUERIES_EMPTY,
        "Query list '" + path + "' is empty.",
        "No non-blank query was found in it, so no caption could match.",
        "Check the file; it needs one query per line.");
  }

  /** Reading the query list failed. */
  public static SparkclipException queryListUnreadable(String path, Throwable e) {
    return error(
        ErrorId.QUERIES_UNREADABLE,
        "Cannot read query list '" + path + "'.",
        e.getMessage(),
        "Check path and rights.",
        e);
  }

  // generate output.

  /** Renaming the generated shards failed. */
  public static SparkclipException shardNamingFailed(String out, Throwable e) {
    return error(
        ErrorId.OUTPUT_WRITE_FAILED,
        "Cannot name the shards in '" + out + "'.",
        e.getMessage(),
        "Check access rights to the output path.",
        e);
  }

  /** Writing generate's query list failed. */
  public static SparkclipException queryListWriteFailed(String path, Throwable e) {
    return error(
        ErrorId.OUTPUT_WRITE_FAILED,
        "Cannot write the query list '" + path + "'.",
        e.getMessage(),
        "Check access rights.",
        e);
  }

  /** Writing generate's summary failed. */
  public static SparkclipException generateSummaryWriteFailed(Throwable e) {
    return error(
        ErrorId.OUTPUT_WRITE_FAILED,
        "Cannot write the generate summary.",
        e.getMessage(),
        "Check access rights.",
        e);
  }

  /** Joining the per-shard caption parts of the files format failed. */
  public static SparkclipException captionsAssemblyFailed(String file, Throwable e) {
    return error(
        ErrorId.OUTPUT_WRITE_FAILED,
        "Cannot assemble '" + file + "'.",
        e.getMessage(),
        "Check access rights and free space.",
        e);
  }

  // dedup.

  /** Connected components needed more rounds than allowed. */
  public static SparkclipException componentsNotConverged(int maxIterations) {
    return error(
        ErrorId.DEDUP_NOT_CONVERGED,
        "Connected components did not converge in " + maxIterations + " rounds.",
        "The rounds grow with the logarithm of the largest duplicate cluster's size, so either"
            + " --max-iterations is set very low or a cluster is enormous, usually because the"
            + " similarity threshold is too loose.",
        "Tighten the threshold (e.g. a lower --phash-distance or higher --caption-jaccard), or"
            + " raise --max-iterations.");
  }

  // embed.

  /** embed's input path does not exist. */
  public static SparkclipException embedInputNotFound(String path) {
    return error(
        ErrorId.INPUT_PATH_NOT_FOUND,
        "Input path '" + path + "' does not exist.",
        "embed reads Parquet pairs from it.",
        "Check the path (a curation stage output, generate output or img2dataset folder).");
  }

  /** embed's input holds no Parquet file. */
  public static SparkclipException noParquetFiles(String path) {
    return error(
        ErrorId.INPUT_NOT_PARQUET,
        "No Parquet files under '" + path + "'.",
        "embed processes its input shard by shard (one Parquet file = one shard).",
        "Point embed at a directory of Parquet files, e.g. the data/ of a curation stage.");
  }

  /** Image embeddings were asked for on input without image bytes. */
  public static SparkclipException noImageColumnToEmbed(String path, InputLayout layout) {
    return error(
        ErrorId.INPUT_NO_IMAGE_COLUMN,
        "The input '" + path + "' has no image column (" + layout + ").",
        "Image embeddings need image bytes; metadata-only pairs have only url and caption.",
        "Add --text-only to embed captions only, or pass --image-col.");
  }

  /** Two input files map to the same shard name. */
  public static SparkclipException shardNameClash(String first, String second, String name) {
    return error(
        ErrorId.INPUT_SHARD_NAME_CLASH,
        "Input files '"
            + first
            + "' and '"
            + second
            + "' map to the same shard name '"
            + name
            + "'.",
        "embed commits output per input file under a name made from its relative path, with"
            + " characters other than letters, digits and ._=- replaced by '_'.",
        "Rename one of the files (or move it to another folder) so the names differ.");
  }

  /** A committed shard's input changed size since it was embedded. */
  public static SparkclipException inputShardChanged(
      String shard, long bytesThen, long bytesNow, String marker) {
    return error(
        ErrorId.RESUME_INPUT_CHANGED,
        "Input shard '"
            + shard
            + "' changed since it was embedded ("
            + bytesThen
            + " bytes then, "
            + bytesNow
            + " now).",
        "A re-run skips committed shards, so the output would keep embeddings of the old data.",
        "Re-run with --overwrite, or delete the marker " + marker + " to redo only that shard.");
  }

  /** The output's manifest was written with other options (embed, download). */
  public static SparkclipException resumeOptionsChanged(
      String out, String key, Object have, Object want) {
    return error(
        ErrorId.RESUME_OPTIONS_CHANGED,
        "'"
            + out
            + "' holds shards made with "
            + key
            + "="
            + have
            + ", this run asks for "
            + want
            + ".",
        "Resuming would mix shards made two ways (embeddings or stored images) in one output.",
        "Use the same options to resume, another --out, or --overwrite to start over.");
  }

  // score, filter, semdedup: inputs from earlier stages.

  /** score's input lacks a column that embed writes. */
  public static SparkclipException notEmbeddedForScore(String path, String column) {
    return error(
        ErrorId.INPUT_NOT_EMBEDDED,
        "Input '" + path + "' has no column '" + column + "'.",
        "score reads the output of sparkclip embed.",
        "Run sparkclip embed first and score its output directory.");
  }

  /** filter's input lacks a column that score writes. */
  public static SparkclipException notScored(String path, String column) {
    return error(
        ErrorId.INPUT_NOT_SCORED,
        "Input '" + path + "' has no column '" + column + "'.",
        "filter reads the output of sparkclip score.",
        "Run sparkclip embed and sparkclip score first, and filter the score output.");
  }

  /** filter --per-query-top-percent on input without a query column. */
  public static SparkclipException perQueryWithoutQueryColumn(String path) {
    return error(
        ErrorId.INPUT_NO_QUERY_COLUMN,
        "--per-query-top-percent needs a 'query' column, which '" + path + "' lacks.",
        "Per-query percentiles group pairs by the query chosen in match-queries.",
        "Run match-queries first, or use --top-percent instead.");
  }

  /** semdedup's input lacks uid or the embedding column. */
  public static SparkclipException notEmbeddedForSemDedup(String path, String column) {
    return error(
        ErrorId.INPUT_NOT_EMBEDDED,
        "Input '" + path + "' has no column '" + column + "'.",
        "semdedup clusters the embeddings that sparkclip embed writes.",
        "Run sparkclip embed first (or score/filter after it) and semdedup its output, or name"
            + " the embedding column with --embedding-col.");
  }

  /** semdedup's embedding column has a type it cannot read. */
  public static SparkclipException embeddingWrongType(String column, String path, String type) {
    return error(
        ErrorId.INPUT_EMBEDDING_WRONG_TYPE,
        "Column '" + column + "' of '" + path + "' has type " + type + ".",
        "semdedup reads embeddings as array<float> (embed --precision fp32) or binary float16"
            + " (embed --precision fp16).",
        "Point --embedding-col at an embedding column written by sparkclip embed.");
  }

  // evaluate, report, demo.

  /** --ground-truth is not generate's _ground_truth table. */
  public static SparkclipException notGroundTruth(String path) {
    return error(
        ErrorId.INPUT_NOT_GROUND_TRUTH,
        "'" + path + "' is not a ground-truth table (no '" + Columns.FAULT + "' column).",
        "evaluate compares decisions with the _ground_truth/ that sparkclip generate writes.",
        "Pass --ground-truth <generate output>/_ground_truth.");
  }

  /** The stage evaluate looks at ran first, so it has no input stage. */
  public static SparkclipException evaluateFirstStage(String stage, String curated) {
    return error(
        ErrorId.EVALUATE_FIRST_STAGE,
        "The " + stage + " stage in '" + curated + "' is the first stage.",
        "evaluate needs the stage's input to know which pairs reached it.",
        "Run match-queries before dedup in the curate config.");
  }

  /** report's path has no funnel file, so it is not curate output. */
  public static SparkclipException notCurated(String curated, String funnelFile) {
    return error(
        ErrorId.INPUT_NOT_CURATED,
        "'" + curated + "' has no " + funnelFile + ".",
        "report draws the output of sparkclip curate.",
        "Run sparkclip curate first and pass its output root.");
  }

  /** demo cannot find its bundled model. */
  public static SparkclipException demoModelNotFound(String model) {
    return error(
        ErrorId.MODEL_DEMO_NOT_FOUND,
        "The demo model '" + model + "' was not found.",
        "demo looks for it under $SPARKCLIP_HOME and the working directory.",
        "Run from the sparkclip checkout (./sparkclip demo), or pass --model <dir>.");
  }

  // export.

  /** export --format other than webdataset, clip-retrieval or datacomp-uids. */
  public static SparkclipException unknownExportFormat(String format) {
    return error(
        ErrorId.OPTION_UNKNOWN_VALUE,
        "Unknown --format '" + format + "'.",
        "export writes webdataset (tar shards for open_clip), clip-retrieval (npy embeddings and"
            + " Parquet metadata) or datacomp-uids (a .npy of DataComp uids).",
        "Use --format webdataset, --format clip-retrieval or --format datacomp-uids.");
  }

  /** webdataset export of input without image bytes. */
  public static SparkclipException exportNoImages(String path, InputLayout layout) {
    return error(
        ErrorId.EXPORT_NO_IMAGES,
        "The input '" + path + "' has no image column (" + layout + ").",
        "A WebDataset sample holds the image bytes; metadata-only pairs have only url and caption.",
        "Export a stage output that still has its images, name the image column with"
            + " --image-col, or use --format clip-retrieval or datacomp-uids.");
  }

  /** clip-retrieval export of input without (non-null) embeddings. */
  public static SparkclipException exportNoEmbeddings(String path, String detail) {
    return error(
        ErrorId.EXPORT_NO_EMBEDDINGS,
        "The input '" + path + "' has no embeddings to export (" + detail + ").",
        "clip-retrieval's img_emb/ and text_emb/ hold the '"
            + Columns.IMAGE_EMBEDDING
            + "' and '"
            + Columns.TEXT_EMBEDDING
            + "' columns that sparkclip embed writes.",
        "Run sparkclip embed (or score, filter, semdedup after it) and export that output.");
  }

  /** datacomp-uids export of input without a source_uid column. */
  public static SparkclipException exportNoDataCompUids(String path, StructType schema) {
    return badSchema(
        ErrorId.EXPORT_NO_DATACOMP_UIDS,
        "The input '" + path + "' has no '" + Columns.SOURCE_UID + "' column.",
        schema,
        "Export a stage output of DataComp metadata: its input column '"
            + Columns.DATACOMP_UID
            + "' is kept as '"
            + Columns.SOURCE_UID
            + "'.",
        path);
  }

  /** A DataComp uid that is null or not 32 hex characters; {@code bad} counts them. */
  public static SparkclipException exportBadDataCompUid(
      String path, long bad, String example, String exampleRow) {
    return error(
        ErrorId.EXPORT_BAD_DATACOMP_UID,
        bad
            + " row(s) of '"
            + path
            + "' have a "
            + Columns.SOURCE_UID
            + " that is not 32 hex characters, e.g. "
            + (example == null ? "null" : "'" + example + "'")
            + " (row uid "
            + exampleRow
            + ").",
        "A DataComp subset .npy holds each uid as two unsigned 64-bit halves of its 128 bits.",
        "Export only DataComp rows (filter the others out first), or use --format webdataset or"
            + " clip-retrieval, which key rows by sparkclip's own uid.");
  }

  /** The output holds an unfinished export of another input or with other options. */
  public static SparkclipException exportResumeMismatch(
      String out, String key, Object have, Object want) {
    return error(
        ErrorId.EXPORT_RESUME_MISMATCH,
        "'"
            + out
            + "' holds an unfinished export with "
            + key
            + "="
            + have
            + "; this run has "
            + want
            + ".",
        "export resumes an unfinished export by writing only its missing shards, which would mix"
            + " two exports.",
        "Re-run with the same input and options to finish it, choose another --out, or pass"
            + " --overwrite to start over.");
  }

  // Score heads and score bounds.

  /** A --head value is not NAME=DIR with a valid, unique name. */
  public static SparkclipException headSpecInvalid(String value, String why) {
    return error(
        ErrorId.HEAD_SPEC_INVALID,
        "Invalid score head '" + value + "'.",
        why + "; a head is NAME=DIR and writes the column NAME" + Columns.HEAD_SCORE_SUFFIX + ".",
        "Write e.g. --head aesthetic=/models/aesthetic (curate: score { heads ="
            + " [\"aesthetic=/models/aesthetic\"] }), NAME matching "
            + Columns.HEAD_NAME.pattern()
            + ", not clip or query, each name once.");
  }

  /** A decontaminate --eval value is malformed or names a set twice. */
  public static SparkclipException evalSpecInvalid(String value, String why) {
    return error(
        ErrorId.EVAL_SPEC_INVALID,
        "Invalid evaluation set '" + value + "'.",
        why + "; an evaluation set is NAME=PATH, NAME naming it in rejects and the overlap table.",
        "Write e.g. --eval imagenet_val=/data/imagenet/val (curate: decontaminate { eval-sets ="
            + " [\"imagenet_val=/data/imagenet/val\"] }), NAME matching [a-z][a-z0-9_-]*, each name"
            + " once.");
  }

  /** An evaluation set has no image column, or none of its images decodes. */
  public static SparkclipException evalSetNoImages(String name, String path, String why) {
    return error(
        ErrorId.EVAL_SET_NO_IMAGES,
        "Evaluation set '" + name + "' (" + path + ") has no image to compare.",
        why + ".",
        "Point --eval at a folder of image files, WebDataset shards, or Parquet with image bytes"
            + " (jpg/png/webp/image column or a Hugging Face image struct).");
  }

  /** decontaminate was given pairs without image bytes. */
  public static SparkclipException decontaminateNeedsImages(String path, InputLayout layout) {
    return error(
        ErrorId.DECONTAMINATE_NO_IMAGES,
        "The input '" + path + "' has no image column (" + layout + ").",
        "decontaminate compares the pairs' images with the evaluation images; metadata-only pairs"
            + " have only url and caption.",
        "Download the images first (img2dataset), or pass --image-col.");
  }

  /** A filter --min/--max value is malformed, repeated, or contradicts the other bound. */
  public static SparkclipException filterBoundInvalid(String option, String value, String why) {
    return error(
        ErrorId.FILTER_BOUND_INVALID,
        "Invalid filter bound --" + option + " '" + value + "'.",
        why + ".",
        "Write --min aesthetic_score=5.0 or --max nsfw_score=0.5: one --min and one --max at most"
            + " per column, the min at most the max.");
  }

  /** A filter bound names a column the input lacks, or one that is not numeric. */
  public static SparkclipException filterUnknownScoreColumn(
      String path, String column, String why, Collection<String> numeric) {
    return error(
        ErrorId.FILTER_UNKNOWN_SCORE_COLUMN,
        "filter cannot bound column '" + column + "' of '" + path + "'.",
        why + "; the numeric columns are " + numeric + ".",
        "Bound one of those columns, or run sparkclip score --head NAME=DIR first for a"
            + " NAME"
            + Columns.HEAD_SCORE_SUFFIX
            + " column.");
  }
}
