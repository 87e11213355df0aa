package io.sparkclip.udfs.spark;

import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.embed.EmbedResult;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Vectors;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Params and schema logic shared by {@link ClipImageEmbedder} and {@link ClipTextEmbedder}.
 *
 * <p>Output columns appended to the input: {@code outputCol} (array&lt;float&gt; for fp32, or
 * binary fp16 little-endian for fp16; null unless status is ok), {@code statusCol} (string, see
 * {@link io.sparkclip.udfs.RowStatus}) and {@code errorCol} (string, null when ok).
 */
public abstract class ClipEmbedderBase<T extends ClipEmbedderBase<T>> extends Transformer {
  private static final long serialVersionUID = 1L;

  /** array&lt;float&gt;, the fp32 embedding column type. */
  public static final DataType FP32_EMBEDDING =
      DataTypes.createArrayType(DataTypes.FloatType, false);

  private final String uid;
  private final Param<String> modelDir;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final Param<String> statusCol;
  private final Param<String> errorCol;
  private final IntParam batchSize;
  private final Param<String> device;
  private final Param<String> precision;
  private final IntParam preprocessThreads;

  protected ClipEmbedderBase(String uid, String defaultInput, String prefix) {
    this.uid = uid;
    modelDir =
        new Param<>(
            uid, "modelDir", "model directory (local path or Hadoop URI) in the open_clip layout");
    inputCol = new Param<>(uid, "inputCol", "input column");
    outputCol = new Param<>(uid, "outputCol", "embedding output column");
    statusCol = new Param<>(uid, "statusCol", "per-row status column (ok, decode_error, ...)");
    errorCol = new Param<>(uid, "errorCol", "per-row error message column (null when ok)");
    batchSize = new IntParam(uid, "batchSize", "rows per session run", ParamValidators.gtEq(1));
    device =
        new Param<>(
            uid,
            "device",
            "cpu, cuda, cuda:<id> or auto (CUDA if the task holds a gpu resource, else CPU)");
    precision =
        new Param<>(
            uid,
            "precision",
            "fp32 (array<float>) or fp16 (binary, little-endian half floats)",
            ParamValidators.inArray(new String[] {"fp32", "fp16"}));
    preprocessThreads =
        new IntParam(
            uid,
            "preprocessThreads",
            "threads preparing the next batches while the session runs",
            ParamValidators.gtEq(1));
    setDefault(inputCol, defaultInput);
    setDefault(outputCol, prefix + "_embedding");
    setDefault(statusCol, prefix + "_status");
    setDefault(errorCol, prefix + "_error");
    setDefault(batchSize, (Object) 32);
    setDefault(device, "auto");
    setDefault(precision, "fp32");
    setDefault(preprocessThreads, (Object) EmbedSettings.PREPROCESS_THREADS_DEFAULT);
  }

  @SuppressWarnings("unchecked")
  private T self() {
    return (T) this;
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public Transformer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  public Param<String> modelDir() {
    return modelDir;
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> statusCol() {
    return statusCol;
  }

  public Param<String> errorCol() {
    return errorCol;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public Param<String> device() {
    return device;
  }

  public Param<String> precision() {
    return precision;
  }

  public IntParam preprocessThreads() {
    return preprocessThreads;
  }

  public T setModelDir(String v) {
    set(modelDir, v);
    return self();
  }

  public T setInputCol(String v) {
    set(inputCol, v);
    return self();
  }

  public T setOutputCol(String v) {
    set(outputCol, v);
    return self();
  }

  public T setStatusCol(String v) {
    set(statusCol, v);
    return self();
  }

  public T setErrorCol(String v) {
    set(errorCol, v);
    return self();
  }

  public T setBatchSize(int v) {
    set(batchSize, (Object) v);
    return self();
  }

  public T setDevice(String v) {
    set(device, v);
    return self();
  }

  public T setPrecision(String v) {
    set(precision, v.toLowerCase(Locale.ROOT));
    return self();
  }

  public T setPreprocessThreads(int v) {
    set(preprocessThreads, (Object) v);
    return self();
  }

  public String getModelDir() {
    if (!isDefined(modelDir)) {
      throw ClipErrors.modelDirNotSet(uid);
    }
    return getOrDefault(modelDir);
  }

  public String getInputCol() {
    return getOrDefault(inputCol);
  }

  public String getOutputCol() {
    return getOrDefault(outputCol);
  }

  public String getStatusCol() {
    return getOrDefault(statusCol);
  }

  public String getErrorCol() {
    return getOrDefault(errorCol);
  }

  public int getBatchSize() {
    return (Integer) getOrDefault(batchSize);
  }

  public String getDevice() {
    return getOrDefault(device);
  }

  public boolean isFp16() {
    return "fp16".equals(getOrDefault(precision));
  }

  public int getPreprocessThreads() {
    return (Integer) getOrDefault(preprocessThreads);
  }

  /** Executor settings (small, serializable). */
  protected EmbedSettings settings(String decoder, long maxPixels, int reducedJpegTarget) {
    return new EmbedSettings(
        getModelDir(),
        getDevice(),
        getBatchSize(),
        getPreprocessThreads(),
        decoder,
        maxPixels,
        reducedJpegTarget);
  }

  protected static EmbedSettings textSettings(ClipEmbedderBase<?> t) {
    return t.settings("auto", ImageDecoder.DEFAULT_MAX_PIXELS, 0);
  }

  /** Checks the input column type; returns the output schema. */
  protected StructType outputSchema(StructType in, String expectedType) {
    String col = getInputCol();
    if (!Arrays.asList(in.fieldNames()).contains(col)) {
      throw ClipErrors.missingColumn(col, in.simpleString());
    }
    for (String out : new String[] {getOutputCol(), getStatusCol(), getErrorCol()}) {
      if (Arrays.asList(in.fieldNames()).contains(out)) {
        throw ClipErrors.columnExists(out);
      }
    }
    DataType t = in.apply(col).dataType();
    if (!acceptsInput(t)) {
      throw ClipErrors.wrongColumnType(col, t.simpleString(), expectedType);
    }
    return in.add(getOutputCol(), isFp16() ? DataTypes.BinaryType : FP32_EMBEDDING, true)
        .add(getStatusCol(), DataTypes.StringType, false)
        .add(getErrorCol(), DataTypes.StringType, true);
  }

  protected abstract boolean acceptsInput(DataType t);

  /** The three output values of one row. */
  static Object[] outputs(EmbedResult r, boolean fp16) {
    Object emb = null;
    if (r.isOk()) {
      emb = fp16 ? Vectors.packFp16(r.embedding) : r.embedding;
    }
    return new Object[] {emb, r.status.value(), r.error};
  }

  static boolean isArrayOfFloat(DataType t) {
    return t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType);
  }
}
