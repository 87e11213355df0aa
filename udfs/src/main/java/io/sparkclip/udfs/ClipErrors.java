package io.sparkclip.udfs;

import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import java.util.Collection;

/**
 * Every user-facing message of the engine, built in one place. Each has an {@link ErrorId} and
 * states (1) the problem, (2) why it occurred and (3) how to fix it.
 */
public final class ClipErrors {
  private ClipErrors() {}

  private static SparkclipException error(ErrorId id, String problem, String cause, String fix) {
    return new SparkclipException(id, problem, cause, fix);
  }

  private static SparkclipException error(
      ErrorId id, String problem, String cause, String fix, Throwable throwable) {
    return new SparkclipException(id, problem, cause, fix, throwable);
  }

  /** A file of the open_clip/Immich layout is missing from the model directory. */
  public static SparkclipException missingFile(String file, String modelDir) {
    return error(
        ErrorId.MODEL_FILE_MISSING,
        "Model file " + file + " does not exist.",
        "the model directory " + modelDir + " is not in the open_clip/Immich ONNX layout.",
        "point the model dir at a folder with config.json, visual/model.onnx,"
            + " visual/preprocess_cfg.json, textual/model.onnx and textual/tokenizer.json"
            + " (tools/clip_tiny.py export_onnx writes one).");
  }

  /** A JSON file of the model directory does not parse or lacks a field. */
  public static SparkclipException unreadableJson(String file, Throwable cause) {
    return error(
        ErrorId.MODEL_JSON_INVALID,
        "Cannot read " + file + ".",
        "it is not valid JSON or lacks a required field (" + cause.getMessage() + ").",
        "re-export the model directory or fix the file by hand.",
        cause);
  }

  /** A model config field is missing, invalid or contradicts another file. */
  public static SparkclipException badConfig(String file, String what, String fix) {
    return error(ErrorId.MODEL_CONFIG_INVALID, "Invalid model config " + file + ".", what, fix);
  }

  /** preprocess_cfg.json names a resize mode the engine does not implement. */
  public static SparkclipException unknownResizeMode(
      String file, String mode, Collection<?> known) {
    return badConfig(
        file,
        "resize_mode '" + mode + "' is not supported.",
        "set resize_mode to one of " + known + " in " + file + ".");
  }

  /** preprocess_cfg.json names an interpolation the engine does not implement. */
  public static SparkclipException unknownInterpolation(
      String file, String value, Collection<?> known) {
    return badConfig(
        file,
        "interpolation '" + value + "' is not supported.",
        "set interpolation to one of " + known + " in " + file + ".");
  }

  /** ONNX Runtime cannot load a tower. */
  public static SparkclipException unreadableOnnx(String file, Throwable cause) {
    return error(
        ErrorId.MODEL_ONNX_UNREADABLE,
        "ONNX Runtime cannot load " + file + ".",
        "the file is corrupt, truncated or uses an opset/operator this ONNX Runtime does not"
            + " support ("
            + cause.getMessage()
            + ").",
        "re-export the model (opset <= 21) and check that the copy is complete.",
        cause);
  }

  /** A tower's inputs or outputs are not the ones the engine feeds and reads. */
  public static SparkclipException badOnnxSignature(String file, String what) {
    return error(
        ErrorId.MODEL_ONNX_SIGNATURE,
        "Model " + file + " has an unexpected signature.",
        what,
        "export the tower with one input (image [N,3,H,W] float or text [N,L] int32/int64)"
            + " and one output 'embedding' [N,D].");
  }

  /** CUDA was requested explicitly, but this ONNX Runtime build has no CUDA provider. */
  public static SparkclipException cudaUnavailable(String device, Throwable cause) {
    return error(
        ErrorId.DEVICE_CUDA_UNAVAILABLE,
        "Device '" + device + "' was requested but the CUDA execution provider is unavailable.",
        "this ONNX Runtime has no CUDA execution provider: the job was built without -Pgpu, so"
            + " the CPU onnxruntime jar is on the classpath"
            + (cause == null ? "." : " (" + cause.getMessage() + ")."),
        "build with -Pgpu (onnxruntime_gpu) and run on GPU executors; or pass --device auto,"
            + " which runs on the CPU with one warning per executor when CUDA cannot be used; or"
            + " --device cpu.",
        cause);
  }

  /**
   * CUDA was requested explicitly and the provider is present, but appending it failed: its shared
   * library or one it links (CUDA runtime, cuBLAS, cuDNN) did not load.
   */
  public static SparkclipException cudaProviderFailed(
      String requested, Object device, Throwable cause) {
    return error(
        ErrorId.DEVICE_CUDA_PROVIDER_FAILED,
        "Device '" + requested + "' (" + device + ") cannot use the CUDA execution provider.",
        "ONNX Runtime could not load the CUDA provider or a library it needs, usually libcudnn"
            + " or libcublas missing from LD_LIBRARY_PATH or of the wrong major version ("
            + cause.getMessage()
            + ").",
        "install the CUDA 12 and cuDNN 9 runtime libraries on the executors and put them on"
            + " spark.executorEnv.LD_LIBRARY_PATH (docs/gpu.md); or pass --device auto to run"
            + " on the CPU with a warning.",
        cause);
  }

  /** Where a CUDA failure happened: appending the provider, loading a model, or running it. */
  public enum CudaPhase {
    PROVIDER("appending the CUDA execution provider"),
    LOAD("loading the model on the GPU"),
    RUN("running the model on the GPU");

    private final String words;

    CudaPhase(String words) {
      this.words = words;
    }
  }

  /** What a CUDA failure's message says went wrong; {@code OTHER} when it names no CUDA cause. */
  public enum CudaCause {
    LIBRARY,
    DRIVER,
    NO_DEVICE,
    OUT_OF_MEMORY,
    OTHER
  }

  /**
   * Reads the cause of a CUDA failure from ONNX Runtime's messages (the whole cause chain). ONNX
   * Runtime reports every CUDA failure as an OrtException with the CUDA error text ("CUDA failure
   * 35: CUDA driver version is insufficient ..."), so the text is all there is. Libraries come
   * first: a failed dlopen of the provider may mention CUDA words too.
   */
  public static CudaCause cudaCause(Throwable failure) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      text.append(' ').append(t.getMessage());
    }
    String m = text.toString().toLowerCase(java.util.Locale.ROOT);
    if (m.contains("cannot open shared object")
        || m.contains("failed to load library")
        || m.contains("error loading")
        || m.contains("undefined symbol")
        || m.contains("loadlibrary")) {
      return CudaCause.LIBRARY;
    }
    if (m.contains("driver version is insufficient")
        || m.contains("cudaerrorinsufficientdriver")
        || m.contains("cuda driver")
        || m.contains("nvidia driver")
        || m.contains("forward compatibility")) {
      return CudaCause.DRIVER;
    }
    if (m.contains("invalid device ordinal")
        || m.contains("cudaerrorinvaliddevice")
        || m.contains("no cuda-capable device")
        || m.contains("cudaerrornodevice")
        || m.contains("busy or unavailable")) {
      return CudaCause.NO_DEVICE;
    }
    if (m.contains("out of memory")
        || m.contains("cudaerrormemoryallocation")
        || m.contains("alloc_failed")
        || m.contains("failed to allocate memory")) {
      return CudaCause.OUT_OF_MEMORY;
    }
    return CudaCause.OTHER;
  }

  /**
   * A failure on a CUDA device, with the id of its cause and what to check ({@code file} null when
   * no model is involved yet). A message that names no CUDA cause keeps the id of its phase: a
   * provider that did not load, a model file ONNX Runtime cannot read (a corrupt file fails the
   * same way on the GPU), a failed run.
   */
  public static SparkclipException cudaFailure(
      String file, String device, CudaPhase phase, Throwable cause) {
    String where =
        file == null ? phase.words + " for " + device : phase.words + " " + file + " on " + device;
    switch (cudaCause(cause)) {
      case DRIVER:
        return error(
            ErrorId.DEVICE_CUDA_DRIVER,
            "CUDA failed " + where + ": the NVIDIA driver is missing or too old.",
            "onnxruntime_gpu 1.29 needs a driver for CUDA 12 (" + cause.getMessage() + ").",
            "run nvidia-smi on the executor node: it must work and show CUDA Version 12.x or"
                + " later (Linux driver 525 or newer); update the driver, or pass --device cpu.",
            cause);
      case NO_DEVICE:
        return error(
            ErrorId.DEVICE_CUDA_NO_DEVICE,
            "CUDA failed " + where + ": the device does not exist or is not visible.",
            "the device id is not one of the GPUs this executor sees (" + cause.getMessage() + ").",
            "compare the id with nvidia-smi -L on the node; with cuda:N, N counts the visible"
                + " GPUs only (CUDA_VISIBLE_DEVICES, YARN / Kubernetes GPU isolation renumber them"
                + " from 0); prefer --device auto, which uses the GPU Spark assigned the task"
                + " (spark.executor.resource.gpu.discoveryScript must list the right ids).",
            cause);
      case OUT_OF_MEMORY:
        return error(
            ErrorId.DEVICE_CUDA_OUT_OF_MEMORY,
            "CUDA ran out of GPU memory " + where + ".",
            "the model's weights, the batch's activations and every other session on the GPU"
                + " did not fit ("
                + cause.getMessage()
                + ").",
            "lower --batch-size, run fewer tasks per GPU (a larger"
                + " spark.task.resource.gpu.amount), lower or set the CUDA memory limit"
                + " (docs/gpu.md), and check nvidia-smi for other processes on the GPU.",
            cause);
      case LIBRARY:
        return cudaProviderFailed(device, device, cause);
      default:
        if (phase == CudaPhase.PROVIDER) {
          return cudaProviderFailed(device, device, cause);
        }
        return phase == CudaPhase.LOAD
            ? unreadableOnnx(file, cause)
            : runFailed(file, device, cause);
    }
  }

  /** ONNX Runtime failed inside {@code run} for a reason no CUDA message explains. */
  public static SparkclipException runFailed(String file, String device, Throwable cause) {
    return error(
        ErrorId.MODEL_RUN_FAILED,
        "ONNX Runtime failed running " + file + " on " + device + ".",
        "the model rejected the batch or failed inside an operator (" + cause.getMessage() + ").",
        "check that the model directory's preprocess_cfg.json and config.json belong to this"
            + " model (input size, context length); if they do, report it with the message.",
        cause);
  }

  /** A spark.sparkclip.cuda.* option has a value the CUDA provider does not take. */
  public static SparkclipException cudaOptionInvalid(String key, String value, String allowed) {
    return error(
        ErrorId.DEVICE_CUDA_OPTION_INVALID,
        "Invalid CUDA option " + key + "=" + value + ".",
        key + " takes " + allowed + ".",
        "fix --conf "
            + key
            + " (or its line in spark-defaults.conf); docs/gpu.md lists the"
            + " CUDA options and their defaults.");
  }

  /** A session was run after the executor's shutdown hook closed it. */
  public static SparkclipException sessionClosed(String file) {
    return error(
        ErrorId.MODEL_SESSION_CLOSED,
        "The ONNX session of " + file + " is closed.",
        "the executor JVM is shutting down and its shutdown hook closed the session; a task still"
            + " running on this executor asked for another batch.",
        "nothing to fix in the job: Spark reruns the task on a live executor. If it recurs"
            + " without a shutdown, report it with the executor log.");
  }

  /** The device param is not cpu, cuda, cuda:<id> or auto. */
  public static SparkclipException unknownDevice(String device) {
    return error(
        ErrorId.DEVICE_UNKNOWN,
        "Unknown device '" + device + "'.",
        "device must be cpu, cuda, cuda:<id> or auto.",
        "set the device param to one of those values.");
  }

  /** Copying the model directory into the executor's local cache failed. */
  public static SparkclipException modelCopyFailed(String source, String target, Throwable cause) {
    return error(
        ErrorId.MODEL_COPY_FAILED,
        "Cannot copy model directory " + source + " to the executor cache " + target + ".",
        "the Hadoop filesystem read or the local write failed (" + cause.getMessage() + ").",
        "check that the executors can read the path and that spark.local.dir (or"
            + " java.io.tmpdir) has space.",
        cause);
  }

  /** A transformer's modelDir param is not set. */
  public static SparkclipException modelDirNotSet(String uid) {
    return error(
        ErrorId.TRANSFORMER_MODEL_DIR_NOT_SET,
        "Param modelDir of " + uid + " is not set.",
        "the transformer needs a CLIP model directory.",
        "call setModelDir(\"hdfs://.../ViT-B-32\") or a local path.");
  }

  /** A transformer's input column does not exist. */
  public static SparkclipException missingColumn(String column, Object schema) {
    return error(
        ErrorId.TRANSFORMER_INPUT_COLUMN_MISSING,
        "Input column '" + column + "' is missing.",
        "the DataFrame schema is " + schema + ".",
        "set the inputCol param to an existing column.");
  }

  /** A transformer's input column has a type it cannot read. */
  public static SparkclipException wrongColumnType(String column, Object actual, String expected) {
    return error(
        ErrorId.TRANSFORMER_INPUT_COLUMN_WRONG_TYPE,
        "Input column '" + column + "' has type " + actual + ".",
        "the transformer reads " + expected + ".",
        "cast or select a column of type " + expected + ".");
  }

  /** A transformer's output column already exists. */
  public static SparkclipException columnExists(String column) {
    return error(
        ErrorId.TRANSFORMER_OUTPUT_COLUMN_EXISTS,
        "Output column '" + column + "' already exists.",
        "the transformer would overwrite it.",
        "drop it first or choose another output column name.");
  }

  /** tokenizer.json cannot be loaded. */
  public static SparkclipException tokenizerFailed(String file, Throwable cause) {
    return error(
        ErrorId.MODEL_TOKENIZER_UNREADABLE,
        "Cannot load tokenizer " + file + ".",
        "it is not a Hugging Face tokenizer.json or the tokenizers native library failed to"
            + " load ("
            + cause.getMessage()
            + ").",
        "export tokenizer.json with Hugging Face tokenizers (or tools/make_fixtures.py).",
        cause);
  }

  /** A tower's embedding width differs from config.json's embed_dim. */
  public static SparkclipException towerWidthMismatch(String file, long actual, long configured) {
    return error(
        ErrorId.MODEL_TOWER_WIDTH_MISMATCH,
        "Model " + file + " outputs embeddings of width " + actual + ".",
        "config.json says embed_dim " + configured + ", so this tower belongs to another model.",
        "use the towers and config.json exported together for one model.");
  }

  /** A binary value read as float16 embedding has an odd number of bytes. */
  public static SparkclipException notFp16(int bytes) {
    return error(
        ErrorId.EMBEDDING_NOT_FP16,
        "A float16 embedding has an odd length of " + bytes + " bytes.",
        "float16 embeddings take 2 bytes per value, so the column does not hold embeddings that"
            + " sparkclip embed --precision fp16 writes.",
        "point the command (e.g. semdedup --embedding-col) at an embedding column written by"
            + " sparkclip embed.");
  }

  /** clip_cosine got two embeddings of different widths. */
  public static SparkclipException cosineWidthMismatch(int first, int second) {
    return error(
        ErrorId.EMBEDDING_WIDTH_MISMATCH,
        "clip_cosine got embeddings of widths " + first + " and " + second + ".",
        "they come from different models.",
        "compare embeddings of one model.");
  }

  /** A score head directory lacks a file, or head.json is invalid. */
  public static SparkclipException headDirectoryInvalid(String dir, String what) {
    return error(
        ErrorId.HEAD_DIRECTORY_INVALID,
        "Score head " + dir + " is not a valid head directory.",
        what,
        "give a folder with model.onnx (float [N, D] -> [N, 1] or [N]) and head.json"
            + " ({\"input\": \"image\" or \"text\", \"embedding_dim\": D, \"description\": ...});"
            + " see docs/heads.md.");
  }

  /** A head's model.onnx has other inputs or outputs than one embedding in, one score out. */
  public static SparkclipException badHeadSignature(String file, String what) {
    return error(
        ErrorId.HEAD_ONNX_SIGNATURE,
        "Score head " + file + " has an unexpected signature.",
        what,
        "export the head with one float input [N, D] and one float output [N, 1] or [N] (name it"
            + " in head.json's \"output\" when the model has several); see docs/heads.md.");
  }

  /** A head reads embeddings of another width than the model's. */
  public static SparkclipException headWidthMismatch(
      String head, String dir, String input, int headWidth, int modelWidth, String model) {
    return error(
        ErrorId.HEAD_WIDTH_MISMATCH,
        "Score head '"
            + head
            + "' ("
            + dir
            + ") reads "
            + input
            + " embeddings of width "
            + headWidth
            + ", but the pairs' embeddings have width "
            + modelWidth
            + ".",
        "the head was trained on another CLIP model's embeddings than "
            + model
            + " (embed_dim "
            + modelWidth
            + "); its scores on these embeddings would mean nothing.",
        "use a head trained on "
            + model
            + "'s embeddings, or embed the pairs with the model the head was trained for (e.g."
            + " LAION's aesthetic predictor reads ViT-L/14's 768-wide image embeddings).");
  }
}
