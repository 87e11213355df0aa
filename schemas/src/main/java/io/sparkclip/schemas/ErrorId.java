package io.sparkclip.schemas;

/**
 * The table of every user-facing error. An id is part of the interface: it starts the message of
 * its {@link SparkclipException}, users search for it and docs/errors.md explains it, so never
 * rename or reuse one. The message text may change; the id stays.
 */
public enum ErrorId {
  CONFIG_NOT_FOUND("The curate --config file does not exist."),
  CONFIG_SYNTAX("The curate config file is not valid HOCON."),
  CONFIG_MISSING_KEY("The curate config lacks input or out."),
  CONFIG_UNKNOWN_STAGE("The curate config lists a stage that curate does not run."),
  CONFIG_UNKNOWN_KEY("The curate config has a key that no stage reads."),
  CONFIG_STAGE_ORDER(
      "The curate stages list names a stage twice, or puts a stage before the stage that writes"
          + " a column it needs."),

  OPTION_MISSING("A required input path or option was not given."),
  OPTION_OUT_OF_RANGE("An option value is outside its allowed range."),
  OPTION_UNKNOWN_VALUE("An option that takes one of a fixed set of values got another."),
  OPTION_CONFLICT("Options were given that cannot be used together."),
  OPTION_WRONG_TYPE("An option's value is not of the option's type."),
  OPTION_TEMPLATE_WITHOUT_QUERY("The prompt templates are empty or one lacks {query}."),

  PATH_FILESYSTEM_UNAVAILABLE("The filesystem of a path cannot be opened."),

  INPUT_PATH_NOT_FOUND("The input path does not exist."),
  INPUT_PATH_UNREADABLE("The input path cannot be read."),
  INPUT_NOT_PARQUET("The input path holds no readable Parquet files."),
  INPUT_MIXED_LAYOUTS(
      "The input folder mixes storage layouts (Parquet, WebDataset tars, img2dataset files)."),
  INPUT_NO_METADATA_FILES("The download input holds no Parquet, CSV or TSV metadata files."),
  INPUT_TAR_WITHOUT_IMAGES("A WebDataset tar shard holds no image members."),
  INPUT_SHARD_NAME_CLASH("Two input files map to the same embed shard name."),
  INPUT_NO_CAPTION_COLUMN("The input has no caption column sparkclip recognises."),
  INPUT_NO_URL_COLUMN("Metadata-only input has no url column."),
  INPUT_UNNAMED_IMAGE_COLUMN("The input has binary columns, none with an image column name."),
  INPUT_AMBIGUOUS_COLUMN("Several input columns could play the same role."),
  INPUT_COLUMN_WRONG_TYPE("An input column has a type sparkclip cannot read for its role."),
  INPUT_MAPPED_COLUMN_MISSING(
      "A column named by a column option such as --caption-col does not exist."),
  INPUT_NO_IMAGE_COLUMN("Image embeddings were asked for, but the input has no image bytes."),
  INPUT_NO_QUERY_COLUMN("The command needs the query column that match-queries writes."),
  INPUT_NOT_EMBEDDED("The input lacks the embedding columns that embed writes."),
  INPUT_EMBEDDING_WRONG_TYPE("The embedding column is neither a float array nor float16 binary."),
  INPUT_NOT_SCORED("The input lacks the score columns that score writes."),
  INPUT_NOT_GROUND_TRUTH("The --ground-truth path is not the ground-truth table of generate."),
  INPUT_NOT_CURATED("The path is not the output root of a curate run."),

  OUTPUT_EXISTS("The output path already exists and --overwrite was not given."),
  OUTPUT_IS_INPUT("The output path is the input path."),
  OUTPUT_PREPARE_FAILED("The output path cannot be checked or cleared."),
  OUTPUT_WRITE_FAILED("Writing output failed."),

  RESUME_INPUT_CHANGED("An input shard changed since embed committed it."),
  RESUME_OPTIONS_CHANGED("embed resumes into an output made with other options or model."),

  QUERIES_NOT_FOUND("The query list does not exist."),
  QUERIES_EMPTY("The query list has no query."),
  QUERIES_UNREADABLE("The query list cannot be read."),
  QUERIES_NO_QUERY_COLUMN("The Parquet query list has no string column 'query'."),

  DEDUP_NOT_CONVERGED("Grouping duplicates did not converge within --max-iterations."),

  EVALUATE_FIRST_STAGE("evaluate needs the input of a stage that ran first in the curate run."),

  EXPORT_NO_IMAGES("The webdataset export needs image bytes, and the input has none."),
  EXPORT_NO_EMBEDDINGS("The clip-retrieval export needs embeddings, and the input has none."),
  EXPORT_NO_DATACOMP_UIDS("The datacomp-uids export needs the DataComp uids (source_uid)."),
  EXPORT_BAD_DATACOMP_UID("A DataComp uid is not 32 hexadecimal characters."),
  EXPORT_RESUME_MISMATCH("export resumes into an output made from other input or options."),

  MODEL_DEMO_NOT_FOUND("The bundled demo model was not found."),
  MODEL_FILE_MISSING("A file of the model directory is missing."),
  MODEL_JSON_INVALID("A JSON file of the model directory is invalid."),
  MODEL_CONFIG_INVALID("A model config field is missing, invalid or inconsistent."),
  MODEL_ONNX_UNREADABLE("ONNX Runtime cannot load a model file."),
  MODEL_ONNX_SIGNATURE("An ONNX tower has unexpected inputs or outputs."),
  MODEL_TOWER_WIDTH_MISMATCH("An ONNX tower's embedding width differs from config.json."),
  MODEL_TOKENIZER_UNREADABLE("The tokenizer of the model directory cannot be loaded."),
  MODEL_RUN_FAILED("ONNX Runtime failed running a model for a reason other than a CUDA error."),
  MODEL_SESSION_CLOSED("An ONNX session was run after the executor's shutdown hook closed it."),
  MODEL_COPY_FAILED("The model directory cannot be copied to the executor cache."),

  HEAD_SPEC_INVALID(
      "A score --head is not NAME=DIR with a lower-case column-name fragment as NAME, or a name"
          + " repeats."),
  HEAD_DIRECTORY_INVALID(
      "A score head directory lacks model.onnx or head.json, or head.json is invalid."),
  HEAD_ONNX_SIGNATURE(
      "A score head's model.onnx is not one float [N, D] in, one [N, 1] or [N] out."),
  HEAD_WIDTH_MISMATCH("A score head's input width differs from the width of the embeddings."),

  FILTER_BOUND_INVALID(
      "A filter --min/--max bound is not COLUMN=NUMBER, repeats a column, or has min above max."),
  FILTER_UNKNOWN_SCORE_COLUMN(
      "A filter --min/--max bound names a column the input lacks or that is not numeric."),

  EVAL_SPEC_INVALID(
      "A decontaminate --eval is not NAME=PATH with a lower-case name, or a name repeats."),
  EVAL_SET_NO_IMAGES("An evaluation set has no image column or no decodable image."),
  DECONTAMINATE_NO_IMAGES("decontaminate's input pairs have no image bytes to compare."),

  DEVICE_CUDA_UNAVAILABLE(
      "A CUDA device was requested but this ONNX Runtime has no CUDA execution provider."),
  DEVICE_CUDA_PROVIDER_FAILED(
      "A CUDA device was requested but the CUDA execution provider or a library it needs did not"
          + " load."),
  DEVICE_CUDA_DRIVER("CUDA failed because the NVIDIA driver is missing or too old."),
  DEVICE_CUDA_NO_DEVICE("CUDA failed because the device id does not exist or no GPU is visible."),
  DEVICE_CUDA_OUT_OF_MEMORY("CUDA ran out of GPU memory loading or running a model."),
  DEVICE_CUDA_OPTION_INVALID("A spark.sparkclip.cuda.* option has an invalid value."),
  DEVICE_UNKNOWN("The device is not cpu, cuda, cuda:N or auto."),

  TRANSFORMER_MODEL_DIR_NOT_SET("A CLIP transformer has no modelDir."),
  TRANSFORMER_INPUT_COLUMN_MISSING("A CLIP transformer's input column does not exist."),
  TRANSFORMER_INPUT_COLUMN_WRONG_TYPE("A CLIP transformer's input column has the wrong type."),
  TRANSFORMER_OUTPUT_COLUMN_EXISTS("A CLIP transformer's output column already exists."),

  EMBEDDING_WIDTH_MISMATCH("clip_cosine got embeddings of different widths."),
  EMBEDDING_NOT_FP16("A binary column read as float16 embeddings holds something else.");

  private final String description;

  ErrorId(String description) {
    this.description = description;
  }

  /** One line: what went wrong, without the details of a particular case. */
  public String description() {
    return description;
  }
}
