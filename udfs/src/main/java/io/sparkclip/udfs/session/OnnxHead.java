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
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A score head in an ONNX Runtime session: one float input {@code [N, D]} (embeddings) and one or
 * more outputs of shape {@code [N, 1]} or {@code [N]} (one score per row), the shape of LAION's
 * aesthetic predictor and its NSFW and watermark classifiers. Unlike {@link OnnxTower} it returns
 * the outputs as they are: a score is not a vector to normalise. Thread-safe: ONNX Runtime sessions
 * allow concurrent {@code run}.
 */
public final class OnnxHead implements AutoCloseable {
  private final String file;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final Device device;
  private final String inputName;
  private final long inputWidth; // -1 when dynamic
  private final int fixedBatch; // 0 when dynamic
  private final Map<String, TensorInfo> outputs = new LinkedHashMap<>();
  private final SessionGuard guard;

  OnnxHead(String file, OrtEnvironment env, OrtSession session, Device device) {
    this.file = file;
    this.env = env;
    this.session = session;
    this.device = device;
    this.guard = new SessionGuard(file);
    try {
      Map<String, NodeInfo> inputs = session.getInputInfo();
      if (inputs.size() != 1) {
        throw ClipErrors.badHeadSignature(file, "it has inputs " + inputs.keySet() + ".");
      }
      NodeInfo in = inputs.values().iterator().next();
      if (!(in.getInfo() instanceof TensorInfo ti)
          || ti.type != OnnxJavaType.FLOAT
          || ti.getShape().length != 2) {
        throw ClipErrors.badHeadSignature(
            file, "input " + in.getName() + " is " + in.getInfo() + ", not a float [N, D].");
      }
      inputName = in.getName();
      long[] shape = ti.getShape();
      inputWidth = shape[1];
      fixedBatch = shape[0] > 0 ? (int) shape[0] : 0;
      for (NodeInfo o : session.getOutputInfo().values()) {
        if (o.getInfo() instanceof TensorInfo oi) {
          outputs.put(o.getName(), oi);
        }
      }
    } catch (OrtException e) {
      throw ClipErrors.unreadableOnnx(file, e);
    }
  }

  public String file() {
    return file;
  }

  /** The embedding width the head reads, or -1 when its input width is dynamic. */
  public long inputWidth() {
    return inputWidth;
  }

  /**
   * The output to read: {@code preferred} when given, else the only output. Fails unless it is one
   * score per row ({@code [N, 1]} or {@code [N]}).
   */
  public String output(String preferred) {
    String name;
    if (preferred != null) {
      if (!outputs.containsKey(preferred)) {
        throw ClipErrors.badHeadSignature(
            file, "it has no output '" + preferred + "'; its outputs are " + outputs.keySet());
      }
      name = preferred;
    } else if (outputs.size() == 1) {
      name = outputs.keySet().iterator().next();
    } else {
      throw ClipErrors.badHeadSignature(
          file,
          "it has outputs "
              + outputs.keySet()
              + " and head.json names none of them (field \"output\").");
    }
    long[] s = outputs.get(name).getShape();
    boolean oneScore = s.length == 1 || (s.length == 2 && (s[1] == 1 || s[1] < 0));
    if (!oneScore || outputs.get(name).type != OnnxJavaType.FLOAT) {
      throw ClipErrors.badHeadSignature(
          file,
          "output "
              + name
              + " is "
              + outputs.get(name).type
              + " "
              + Arrays.toString(s)
              + ", not float [N, 1] or [N].");
    }
    return name;
  }

  /**
   * Scores {@code n} rows of {@code d} floats (row-major in {@code x}); returns one score per row.
   */
  public float[] run(float[] x, int n, int d, String output) {
    float[] out = new float[n];
    int step = fixedBatch > 0 ? fixedBatch : Math.max(n, 1);
    for (int start = 0; start < n; start += step) {
      int count = Math.min(step, n - start);
      if (fixedBatch > 0 && count != fixedBatch) {
        // A head exported with a fixed batch gets a zero-padded last slice; the padding's scores
        // are dropped.
        float[] padded = Arrays.copyOfRange(x, start * d, (start + fixedBatch) * d);
        float[] r = runOnce(padded, 0, fixedBatch, d, output);
        System.arraycopy(r, 0, out, start, count);
      } else {
        System.arraycopy(runOnce(x, start * d, count, d, output), 0, out, start, count);
      }
    }
    return out;
  }

  private float[] runOnce(float[] x, int offset, int count, int d, String output) {
    try {
      return guard.use(() -> runLocked(x, offset, count, d, output));
    } catch (OrtException e) {
      throw device.isCuda()
          ? ClipErrors.cudaFailure(file, device.toString(), ClipErrors.CudaPhase.RUN, e)
          : ClipErrors.runFailed(file, device.toString(), e);
    }
  }

  private float[] runLocked(float[] x, int offset, int count, int d, String output)
      throws OrtException {
    try (OnnxTensor t =
            OnnxTensor.createTensor(
                env, FloatBuffer.wrap(x, offset, count * d), new long[] {count, d});
        OrtSession.Result r = session.run(Map.of(inputName, t), java.util.Set.of(output))) {
      OnnxValue v = r.get(output).orElseThrow();
      long[] shape = ((TensorInfo) v.getInfo()).getShape();
      long rows = shape.length == 0 ? 1 : shape[0];
      long per = shape.length == 2 ? shape[1] : 1;
      if (rows != count || per != 1) {
        throw ClipErrors.badHeadSignature(
            file, "it returned shape " + Arrays.toString(shape) + " for a batch of " + count + ".");
      }
      float[] scores = new float[count];
      FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
      fb.get(scores);
      return scores;
    }
  }

  @Override
  public void close() {
    try {
      if (!guard.close(SessionGuard.CLOSE_WAIT, session::close)) {
        throw new IllegalStateException(
            "a run still holds " + file + " after " + SessionGuard.CLOSE_WAIT.toSeconds() + " s");
      }
    } catch (OrtException e) {
      throw new IllegalStateException("closing " + file + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "OnnxHead{"
        + file
        + " on "
        + device
        + ", input "
        + inputName
        + " [N,"
        + inputWidth
        + "], outputs "
        + outputs.keySet()
        + "}";
  }
}
