package io.sparkclip.udfs.session;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.embed.Vectors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CLIP tower (visual or textual) in an ONNX Runtime session. The input/output names, element
 * types (float32/float16 images, int32/int64 tokens) and shapes come from the model's metadata. A
 * model exported with a fixed batch (Immich exports batch 1) runs in slices of that batch. Outputs
 * are L2-normalized. Thread-safe: ONNX Runtime sessions allow concurrent {@code run}.
 */
public final class OnnxTower implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxTower.class);

  private final String file;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final String inputName;
  private final String outputName;
  private final OnnxJavaType inputType;
  private final long[] inputShape; // -1 for dynamic dims
  private final int fixedBatch; // 0 when dynamic
  private final long embedDim; // -1 when not declared
  private final Device device;
  private final AtomicBoolean warnedFixedBatch = new AtomicBoolean();

  OnnxTower(String file, OrtEnvironment env, OrtSession session, Device device) {
    this.file = file;
    this.env = env;
    this.session = session;
    this.device = device;
    try {
      Map<String, NodeInfo> inputs = session.getInputInfo();
      Map<String, NodeInfo> outputs = session.getOutputInfo();
      if (inputs.size() != 1) {
        throw ClipErrors.badOnnxSignature(file, "it has inputs " + inputs.keySet() + ".");
      }
      NodeInfo in = inputs.values().iterator().next();
      if (!(in.getInfo() instanceof TensorInfo ti)) {
        throw ClipErrors.badOnnxSignature(file, "input " + in.getName() + " is not a tensor.");
      }
      inputName = in.getName();
      inputType = ti.type;
      inputShape = ti.getShape();
      NodeInfo out = outputs.containsKey("embedding") ? outputs.get("embedding") : null;
      if (out == null && outputs.size() == 1) {
        out = outputs.values().iterator().next();
      }
      if (out == null || !(out.getInfo() instanceof TensorInfo oi)) {
        throw ClipErrors.badOnnxSignature(
            file, "it has outputs " + outputs.keySet() + " and none is 'embedding'.");
      }
      outputName = out.getName();
      long[] os = oi.getShape();
      if (os.length != 2) {
        throw ClipErrors.badOnnxSignature(
            file, "output " + outputName + " has shape " + Arrays.toString(os) + ", not [N,D].");
      }
      embedDim = os[1];
      fixedBatch = inputShape.length > 0 && inputShape[0] > 0 ? (int) inputShape[0] : 0;
    } catch (OrtException e) {
      throw ClipErrors.unreadableOnnx(file, e);
    }
  }

  public String file() {
    return file;
  }

  public Device device() {
    return device;
  }

  public OnnxJavaType inputType() {
    return inputType;
  }

  public long[] inputShape() {
    return inputShape.clone();
  }

  /** The embedding width declared by the model, or -1 if dynamic. */
  public long embedDim() {
    return embedDim;
  }

  /** The batch size the model was exported with, or 0 when the batch axis is dynamic. */
  public int fixedBatch() {
    return fixedBatch;
  }

  /** Image side the visual tower expects ([N,3,H,W] input), or -1 if dynamic. */
  public int imageSize() {
    return inputShape.length == 4 ? (int) inputShape[3] : -1;
  }

  /** Token context length ([N,L] input), or -1 if dynamic. */
  public int contextLength() {
    return inputShape.length == 2 ? (int) inputShape[1] : -1;
  }

  /** Runs the visual tower on {@code n} CHW float images; returns n L2-normalized embeddings. */
  public float[][] runImages(float[] chw, int n, int size) {
    if (inputType != OnnxJavaType.FLOAT && inputType != OnnxJavaType.FLOAT16) {
      throw ClipErrors.badOnnxSignature(
          file, "image input " + inputName + " is " + inputType + ".");
    }
    int per = 3 * size * size;
    return runSliced(n, (start, count) -> imageTensor(chw, start * per, count * per, count, size));
  }

  /** Runs the textual tower on {@code n} packed token rows of {@code ctx} ids. */
  public float[][] runTokens(long[] ids, int n, int ctx) {
    if (inputType != OnnxJavaType.INT32 && inputType != OnnxJavaType.INT64) {
      throw ClipErrors.badOnnxSignature(file, "text input " + inputName + " is " + inputType + ".");
    }
    return runSliced(n, (start, count) -> tokenTensor(ids, start * ctx, count, ctx));
  }

  @FunctionalInterface
  private interface TensorMaker {
    OnnxTensor make(int start, int count) throws OrtException;
  }

  private float[][] runSliced(int n, TensorMaker maker) {
    int step = fixedBatch > 0 ? fixedBatch : Math.max(n, 1);
    if (fixedBatch > 0 && n > fixedBatch && warnedFixedBatch.compareAndSet(false, true)) {
      LOG.warn(
          "{} was exported with a fixed batch of {}; running batches of {} in slices (slower)."
              + " Re-export with a dynamic batch axis for speed.",
          file,
          fixedBatch,
          n);
    }
    float[][] out = new float[n][];
    for (int start = 0; start < n; start += step) {
      int count = Math.min(step, n - start);
      if (fixedBatch > 0 && count != fixedBatch) {
        throw new IllegalStateException("fixed batch " + fixedBatch + " but slice " + count);
      }
      try (OnnxTensor t = maker.make(start, count);
          OrtSession.Result r = session.run(Map.of(inputName, t))) {
        OnnxValue v = r.get(outputName).orElseThrow();
        FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
        long[] shape = ((TensorInfo) v.getInfo()).getShape();
        int d = (int) shape[1];
        if (shape[0] != count) {
          throw ClipErrors.badOnnxSignature(
              file, "it returned " + shape[0] + " embeddings for a batch of " + count + ".");
        }
        for (int i = 0; i < count; i++) {
          float[] e = new float[d];
          fb.get(e);
          out[start + i] = Vectors.l2NormalizeInPlace(e);
        }
      } catch (OrtException e) {
        throw new IllegalStateException(
            "ONNX Runtime failed running " + file + " on " + device + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private OnnxTensor imageTensor(float[] chw, int offset, int len, int count, int size)
      throws OrtException {
    long[] shape = {count, 3, size, size};
    if (inputType == OnnxJavaType.FLOAT16) {
      ByteBuffer b = ByteBuffer.allocateDirect(len * 2).order(ByteOrder.nativeOrder());
      ShortBuffer sb = b.asShortBuffer();
      for (int i = 0; i < len; i++) {
        sb.put(Vectors.toHalf(chw[offset + i]));
      }
      return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.FLOAT16);
    }
    return OnnxTensor.createTensor(env, FloatBuffer.wrap(chw, offset, len), shape);
  }

  private OnnxTensor tokenTensor(long[] ids, int offset, int count, int ctx) throws OrtException {
    long[] shape = {count, ctx};
    int len = count * ctx;
    if (inputType == OnnxJavaType.INT32) {
      int[] i32 = new int[len];
      for (int i = 0; i < len; i++) {
        i32[i] = Math.toIntExact(ids[offset + i]);
      }
      return OnnxTensor.createTensor(env, IntBuffer.wrap(i32), shape);
    }
    return OnnxTensor.createTensor(env, LongBuffer.wrap(ids, offset, len), shape);
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      LOG.warn("Closing session of {} failed: {}", file, e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "OnnxTower{"
        + file
        + " on "
        + device
        + ", input "
        + inputName
        + " "
        + inputType
        + Arrays.toString(inputShape)
        + ", output "
        + outputName
        + " D="
        + embedDim
        + "}";
  }
}
