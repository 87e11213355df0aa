package io.sparkclip.udfs;

import java.util.Collection;

/**
 * Every user-facing message of the engine, built in one place. Each states (1) the problem, (2) why
 * it occurred and (3) how to fix it.
 */
public final class ClipErrors {
  private ClipErrors() {}

  private static String msg(String problem, String cause, String fix) {
    return problem + " Cause: " + cause + " Fix: " + fix;
  }

  public static ClipException missingFile(String file, String modelDir) {
    return new ClipException(
        msg(
            "Model file " + file + " does not exist.",
            "the model directory " + modelDir + " is not in the open_clip/Immich ONNX layout.",
            "point the model dir at a folder with config.json, visual/model.onnx,"
                + " visual/preprocess_cfg.json, textual/model.onnx and textual/tokenizer.json"
                + " (tools/clip_tiny.py export_onnx writes one)."));
  }

  public static ClipException unreadableJson(String file, Throwable cause) {
    return new ClipException(
        msg(
            "Cannot read " + file + ".",
            "it is not valid JSON or lacks a required field (" + cause.getMessage() + ").",
            "re-export the model directory or fix the file by hand."),
        cause);
  }

  public static ClipException badConfig(String file, String what, String fix) {
    return new ClipException(msg("Invalid model config " + file + ".", what, fix));
  }

  public static ClipException unknownResizeMode(String file, String mode, Collection<?> known) {
    return badConfig(
        file,
        "resize_mode '" + mode + "' is not supported.",
        "set resize_mode to one of " + known + " in " + file + ".");
  }

  public static ClipException unknownInterpolation(String file, String value, Collection<?> known) {
    return badConfig(
        file,
        "interpolation '" + value + "' is not supported.",
        "set interpolation to one of " + known + " in " + file + ".");
  }

  public static ClipException unreadableOnnx(String file, Throwable cause) {
    return new ClipException(
        msg(
            "ONNX Runtime cannot load " + file + ".",
            "the file is corrupt, truncated or uses an opset/operator this ONNX Runtime does not"
                + " support ("
                + cause.getMessage()
                + ").",
            "re-export the model (opset <= 21) and check that the copy is complete."),
        cause);
  }

  public static ClipException badOnnxSignature(String file, String what) {
    return new ClipException(
        msg(
            "Model " + file + " has an unexpected signature.",
            what,
            "export the tower with one input (image [N,3,H,W] float or text [N,L] int32/int64)"
                + " and one output 'embedding' [N,D]."));
  }

  public static ClipException embeddingWidthMismatch(
      String modelDir, long visual, long textual, long configured) {
    return new ClipException(
        msg(
            "Embedding widths of " + modelDir + " do not match.",
            "visual/model.onnx outputs "
                + visual
                + ", textual/model.onnx outputs "
                + textual
                + " and config.json embed_dim is "
                + configured
                + ".",
            "use the visual and textual towers of the same model and its own config.json."));
  }

  public static ClipException cudaUnavailable(String device, Throwable cause) {
    return new ClipException(
        msg(
            "Device '" + device + "' was requested but the CUDA execution provider is unavailable.",
            "this executor has no GPU, or the job was built without -Pgpu (onnxruntime_gpu), or"
                + " CUDA 12/cuDNN 9 are missing"
                + (cause == null ? "." : " (" + cause.getMessage() + ")."),
            "run with device=cpu, device=auto (falls back to CPU), or on GPU executors with the gpu"
                + " build."),
        cause);
  }

  public static ClipException unknownDevice(String device) {
    return new ClipException(
        msg(
            "Unknown device '" + device + "'.",
            "device must be cpu, cuda, cuda:<id> or auto.",
            "set the device param to one of those values."));
  }

  public static ClipException modelCopyFailed(String source, String target, Throwable cause) {
    return new ClipException(
        msg(
            "Cannot copy model directory " + source + " to the executor cache " + target + ".",
            "the Hadoop filesystem read or the local write failed (" + cause.getMessage() + ").",
            "check that the executors can read the path and that spark.local.dir (or"
                + " java.io.tmpdir) has space."),
        cause);
  }

  public static ClipException missingColumn(String column, Object schema) {
    return new ClipException(
        msg(
            "Input column '" + column + "' is missing.",
            "the DataFrame schema is " + schema + ".",
            "set the inputCol param to an existing column."));
  }

  public static ClipException wrongColumnType(String column, Object actual, String expected) {
    return new ClipException(
        msg(
            "Input column '" + column + "' has type " + actual + ".",
            "the transformer reads " + expected + ".",
            "cast or select a column of type " + expected + "."));
  }

  public static ClipException columnExists(String column) {
    return new ClipException(
        msg(
            "Output column '" + column + "' already exists.",
            "the transformer would overwrite it.",
            "drop it first or choose another output column name."));
  }

  public static ClipException tokenizerFailed(String file, Throwable cause) {
    return new ClipException(
        msg(
            "Cannot load tokenizer " + file + ".",
            "it is not a Hugging Face tokenizer.json or the tokenizers native library failed to"
                + " load ("
                + cause.getMessage()
                + ").",
            "export tokenizer.json with Hugging Face tokenizers (or tools/make_fixtures.py)."),
        cause);
  }

  public static ClipException towerWidthMismatch(String file, long actual, long configured) {
    return new ClipException(
        msg(
            "Model " + file + " outputs embeddings of width " + actual + ".",
            "config.json says embed_dim "
                + configured
                + ", so this tower belongs to another model.",
            "use the towers and config.json exported together for one model."));
  }
}
