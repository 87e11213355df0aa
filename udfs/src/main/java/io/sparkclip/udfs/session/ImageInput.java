package io.sparkclip.udfs.session;

import io.sparkclip.udfs.embed.Vectors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A visual tower's input batch in a direct, native-order buffer: rows of {@code 3 × S × S} values
 * in the element type the tower takes (float32, or float16 converted here). The preprocessing
 * thread that prepares a batch writes it; the inference thread hands slices of it to ONNX Runtime,
 * which reads direct buffers in place, so a batch is never copied or converted on the inference
 * thread. The buffer comes from its tower's pool ({@link OnnxTower#imageInput}) and goes back with
 * {@link OnnxTower#release}.
 */
public final class ImageInput {
  final ByteBuffer buffer;
  private final int size;
  final int per;
  final int elementBytes;
  private final int capacityRows;
  private final int fixedBatch;
  private int rows;
  private boolean finished;
  private final AtomicBoolean released = new AtomicBoolean();

  ImageInput(ByteBuffer buffer, int size, int elementBytes, int capacityRows, int fixedBatch) {
    this.buffer = buffer.order(ByteOrder.nativeOrder());
    this.size = size;
    this.per = 3 * size * size;
    this.elementBytes = elementBytes;
    this.capacityRows = capacityRows;
    this.fixedBatch = fixedBatch;
  }

  /** Bytes a batch of {@code rows} rows takes, padded up to a multiple of a fixed batch. */
  static long bytesFor(int rows, int per, int elementBytes, int fixedBatch) {
    return (long) paddedRows(rows, fixedBatch) * per * elementBytes;
  }

  static int paddedRows(int rows, int fixedBatch) {
    return fixedBatch > 0 ? (Math.max(rows, 1) + fixedBatch - 1) / fixedBatch * fixedBatch : rows;
  }

  /** Image side S. */
  public int size() {
    return size;
  }

  /** Appends the next row from {@code chw} ({@code 3 × S × S} values). */
  public void add(float[] chw) {
    checkHeld();
    if (finished) {
      throw new IllegalStateException("the batch is finished; no row can be added");
    }
    if (rows >= capacityRows || chw.length != per) {
      throw new IllegalArgumentException(
          "row " + rows + " of " + chw.length + " values; room for " + capacityRows + " of " + per);
    }
    int at = rows * per;
    if (elementBytes == Float.BYTES) {
      FloatBuffer fb = buffer.asFloatBuffer();
      fb.put(at, chw);
    } else {
      int off = at * 2;
      for (int i = 0; i < per; i++) {
        buffer.putShort(off + 2 * i, Vectors.toHalf(chw[i]));
      }
    }
    rows++;
  }

  /** Rows written. */
  public int rows() {
    return rows;
  }

  /**
   * Ends the batch: pads the written rows up to a multiple of the tower's fixed batch with copies
   * of the last row (a valid input; the padding's embeddings are dropped), so that this copy, too,
   * is made on the preparing thread and not on the inference thread.
   */
  public void finish() {
    checkHeld();
    finished = true;
    int target = paddedRows(rows, fixedBatch);
    int rowBytes = per * elementBytes;
    for (int r = rows; r < target && rows > 0; r++) {
      ByteBuffer last = buffer.slice((rows - 1) * rowBytes, rowBytes);
      buffer.put(r * rowBytes, last, 0, rowBytes);
    }
  }

  /** Rows {@code start .. start + count - 1} as a native-order view (no copy). */
  ByteBuffer slice(int start, int count) {
    int rowBytes = per * elementBytes;
    return buffer.slice(start * rowBytes, count * rowBytes).order(ByteOrder.nativeOrder());
  }

  boolean finished() {
    return finished;
  }

  /** Marks the buffer given back; true only the first time, so a buffer is pooled once. */
  boolean markReleased() {
    return released.compareAndSet(false, true);
  }

  void checkHeld() {
    if (released.get()) {
      // Its buffer may already hold another batch: reading or writing it would mix two batches.
      throw new IllegalStateException("this ImageInput was released; its buffer is not its own");
    }
  }
}
