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
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
  private final SessionGuard guard;

  /**
   * Direct buffers of image batches no task holds. A buffer is taken when a batch is prepared and
   * given back after its run, so the pool never holds more buffers than were in use at once (tasks
   * × batches in flight per task); buffers of a cancelled batch are left to the GC.
   */
  private final ConcurrentLinkedDeque<ByteBuffer> freeImageBuffers = new ConcurrentLinkedDeque<>();

  private final AtomicLong directBytesAllocated = new AtomicLong();
  private final AtomicLong inputCopies = new AtomicLong();

  OnnxTower(String file, OrtEnvironment env, OrtSession session, Device device) {
    this.file = file;
    this.env = env;
    this.session = session;
    this.device = device;
    this.guard = new SessionGuard(file);
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
    if (fixedBatch == 1 && device.isCuda()) {
      // One image per run leaves a GPU nearly idle (launch and copy overheads dominate): the
      // user would see GPU executors no faster than CPU ones without knowing why.
      LOG.warn(
          "{} was exported with a fixed batch of 1 and runs on {}: every image is its own GPU"
              + " run, which wastes most of the GPU (expect CPU-like throughput). Re-export the"
              + " tower with a dynamic batch axis (open_clip's export, or Immich's with"
              + " dynamic_axes) and embed with --batch-size 128 to 256.",
          file,
          device);
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

  /**
   * Runs the visual tower on {@code n} CHW float images held in a heap array; returns n
   * L2-normalized embeddings. ONNX Runtime copies a heap array into a direct buffer per run (and
   * float16 models convert it here): the engine's batches use {@link #imageInput} instead; this
   * form serves callers that already hold an array (benchmarks, tests).
   */
  public float[][] runImages(float[] chw, int n, int size) {
    checkImageInput();
    return runSliced(n, (start, count, rows) -> imageTensor(chw, start, count, rows, size));
  }

  /**
   * A direct input buffer for up to {@code maxRows} images of side {@code size} in this tower's
   * element type (padded room for a fixed batch included), reused from earlier batches when one is
   * free. Fill it with {@link ImageInput#add}, {@link ImageInput#finish} it, run it with {@link
   * #runImages(ImageInput)} and give it back with {@link #release}.
   */
  public ImageInput imageInput(int maxRows, int size) {
    checkImageInput();
    int per = 3 * size * size;
    int elementBytes = inputType == OnnxJavaType.FLOAT16 ? 2 : Float.BYTES;
    long need = ImageInput.bytesFor(maxRows, per, elementBytes, fixedBatch);
    if (need > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          maxRows + " images of " + size + " px need " + need + " bytes, over one buffer's 2 GiB");
    }
    ByteBuffer buf = null;
    for (ByteBuffer b; buf == null && (b = freeImageBuffers.poll()) != null; ) {
      if (b.capacity() >= need) {
        buf = b;
      } else {
        // Too small for this batch size: dropped (freed by the GC) rather than kept unused.
        directBytesAllocated.addAndGet(-b.capacity());
      }
    }
    if (buf == null) {
      buf = ByteBuffer.allocateDirect((int) need);
      directBytesAllocated.addAndGet(need);
    }
    int capacityRows = (int) (buf.capacity() / ((long) per * elementBytes));
    return new ImageInput(buf, size, elementBytes, capacityRows, fixedBatch);
  }

  /** Runs the visual tower on the rows of a finished {@link ImageInput}, read in place. */
  public float[][] runImages(ImageInput in) {
    in.checkHeld();
    if (!in.finished()) {
      throw new IllegalStateException("an ImageInput runs after finish()");
    }
    return runSliced(
        in.rows(),
        (start, count, rows) -> {
          long[] shape = {rows, 3, in.size(), in.size()};
          ByteBuffer view = in.slice(start, rows);
          return in.elementBytes == Float.BYTES
              ? OnnxTensor.createTensor(env, view.asFloatBuffer(), shape)
              : OnnxTensor.createTensor(env, view, shape, OnnxJavaType.FLOAT16);
        });
  }

  /**
   * Gives an input's buffer back to the pool once its run is over (or its batch is abandoned).
   * Releasing the same input again does nothing; the released input can no longer be used.
   */
  public void release(ImageInput in) {
    if (in != null && in.markReleased()) {
      freeImageBuffers.push(in.buffer);
    }
  }

  /**
   * Direct bytes of the image buffers this tower allocated and has not dropped: in use, free in its
   * pool, or abandoned by a batch that never gave its buffer back (until the GC frees it).
   */
  public long directBytes() {
    return directBytesAllocated.get();
  }

  /** Runs whose input ONNX Runtime had to copy into a buffer of its own (a heap input). */
  public long inputCopies() {
    return inputCopies.get();
  }

  private void checkImageInput() {
    if (inputType != OnnxJavaType.FLOAT && inputType != OnnxJavaType.FLOAT16) {
      throw ClipErrors.badOnnxSignature(
          file, "image input " + inputName + " is " + inputType + ".");
    }
  }

  /** Runs the textual tower on {@code n} packed token rows of {@code ctx} ids. */
  public float[][] runTokens(long[] ids, int n, int ctx) {
    if (inputType != OnnxJavaType.INT32 && inputType != OnnxJavaType.INT64) {
      throw ClipErrors.badOnnxSignature(file, "text input " + inputName + " is " + inputType + ".");
    }
    return runSliced(n, (start, count, rows) -> tokenTensor(ids, start, count, rows, ctx));
  }

  /**
   * Builds the input tensor of {@code rows} rows from inputs {@code start .. start + count - 1};
   * rows beyond {@code count} repeat the last input (padding for a fixed-batch model).
   */
  @FunctionalInterface
  private interface TensorMaker {
    OnnxTensor make(int start, int count, int rows) throws OrtException;
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
      // A fixed-batch model accepts exactly fixedBatch rows, so the last partial slice of a
      // partition (17 inputs on batch 8: 8, 8, 1) is padded with copies of its last input, a
      // valid input (an all-zero row could be NaN through the norms), and the padding's
      // embeddings are dropped. The rows are independent, so padding changes no real output.
      int rows = fixedBatch > 0 ? fixedBatch : count;
      int first = start;
      try {
        guard.use(
            () -> {
              try (OnnxTensor t = maker.make(first, count, rows);
                  OrtSession.Result r = session.run(Map.of(inputName, t))) {
                if (t.ownsBuffer()) {
                  inputCopies.incrementAndGet();
                }
                OnnxValue v = r.get(outputName).orElseThrow();
                FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
                long[] shape = ((TensorInfo) v.getInfo()).getShape();
                int d = (int) shape[1];
                if (shape[0] != rows) {
                  throw ClipErrors.badOnnxSignature(
                      file, "it returned " + shape[0] + " embeddings for a batch of " + rows + ".");
                }
                for (int i = 0; i < count; i++) {
                  float[] e = new float[d];
                  fb.get(e);
                  out[first + i] = Vectors.l2NormalizeInPlace(e);
                }
              }
              return null;
            });
      } catch (OrtException e) {
        throw device.isCuda()
            ? ClipErrors.cudaFailure(file, device.toString(), ClipErrors.CudaPhase.RUN, e)
            : ClipErrors.runFailed(file, device.toString(), e);
      }
    }
    return out;
  }

  private OnnxTensor imageTensor(float[] chw, int start, int count, int rows, int size)
      throws OrtException {
    int per = 3 * size * size;
    long[] shape = {rows, 3, size, size};
    if (inputType == OnnxJavaType.FLOAT16) {
      ByteBuffer b = ByteBuffer.allocateDirect(rows * per * 2).order(ByteOrder.nativeOrder());
      ShortBuffer sb = b.asShortBuffer();
      for (int row = 0; row < rows; row++) {
        int from = (start + Math.min(row, count - 1)) * per;
        for (int i = 0; i < per; i++) {
          sb.put(Vectors.toHalf(chw[from + i]));
        }
      }
      return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.FLOAT16);
    }
    if (rows == count) {
      return OnnxTensor.createTensor(env, FloatBuffer.wrap(chw, start * per, count * per), shape);
    }
    return OnnxTensor.createTensor(
        env, FloatBuffer.wrap(padRows(chw, start, count, rows, per)), shape);
  }

  private OnnxTensor tokenTensor(long[] ids, int start, int count, int rows, int ctx)
      throws OrtException {
    long[] shape = {rows, ctx};
    if (inputType == OnnxJavaType.INT32) {
      int[] i32 = new int[rows * ctx];
      for (int row = 0; row < rows; row++) {
        int from = (start + Math.min(row, count - 1)) * ctx;
        for (int i = 0; i < ctx; i++) {
          i32[row * ctx + i] = Math.toIntExact(ids[from + i]);
        }
      }
      return OnnxTensor.createTensor(env, IntBuffer.wrap(i32), shape);
    }
    if (rows == count) {
      return OnnxTensor.createTensor(env, LongBuffer.wrap(ids, start * ctx, count * ctx), shape);
    }
    long[] padded = new long[rows * ctx];
    System.arraycopy(ids, start * ctx, padded, 0, count * ctx);
    for (int row = count; row < rows; row++) {
      System.arraycopy(ids, (start + count - 1) * ctx, padded, row * ctx, ctx);
    }
    return OnnxTensor.createTensor(env, LongBuffer.wrap(padded), shape);
  }

  /** Rows {@code start .. start + count - 1} of {@code per} values, then copies of the last. */
  private static float[] padRows(float[] src, int start, int count, int rows, int per) {
    float[] padded = new float[rows * per];
    System.arraycopy(src, start * per, padded, 0, count * per);
    for (int row = count; row < rows; row++) {
      System.arraycopy(src, (start + count - 1) * per, padded, row * per, per);
    }
    return padded;
  }

  @Override
  public void close() {
    freeImageBuffers.clear();
    try {
      if (!guard.close(SessionGuard.CLOSE_WAIT, session::close)) {
        LOG.warn(
            "Not closing the session of {}: a run still holds it after {} s (the process exit"
                + " frees it)",
            file,
            SessionGuard.CLOSE_WAIT.toSeconds());
      }
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
