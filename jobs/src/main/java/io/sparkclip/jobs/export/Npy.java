package io.sparkclip.jobs.export;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The NPY format, version 1.0 (numpy's {@code np.save}): the magic {@code \x93NUMPY}, version bytes
 * 1 and 0, a little-endian uint16 header length, then a Python dict literal padded with spaces and
 * ending with a newline so that the data starts at a multiple of 64 bytes, then the raw C-order
 * data. Written by hand because it is that small: the header is the only part that is not plain
 * little-endian numbers, and the tests compare it byte for byte with numpy's own.
 */
final class Npy {
  private Npy() {}

  /** float16, little-endian: clip-retrieval's embedding dtype. */
  static final String FLOAT16 = "'<f2'";

  /** Two little-endian uint64 fields: DataComp's subset dtype for 128-bit uids. */
  static final String UID_PAIR = "[('f0', '<u8'), ('f1', '<u8')]";

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  private static final int ALIGN = 64;

  /** The full header (magic to newline) of an array of {@code descr} and {@code shape}. */
  static byte[] header(String descr, long... shape) {
    StringBuilder tuple = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        tuple.append(", ");
      }
      tuple.append(shape[i]);
    }
    if (shape.length == 1) {
      tuple.append(','); // a one-element Python tuple
    }
    tuple.append(')');
    String dict = "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + tuple + ", }";
    int unpadded = MAGIC.length + 2 + dict.length() + 1;
    int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
    String text = dict + " ".repeat(pad) + "\n";
    byte[] body = text.getBytes(StandardCharsets.US_ASCII);
    if (body.length > 0xffff) {
      throw new IllegalArgumentException("NPY 1.0 header too long: " + body.length);
    }
    ByteBuffer b =
        ByteBuffer.allocate(MAGIC.length + 2 + body.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).putShort((short) body.length).put(body);
    return b.array();
  }

  /** Writes one row of float16 values (little-endian halves). */
  static void writeHalves(OutputStream out, short[] halves, byte[] scratch) throws IOException {
    for (int i = 0; i < halves.length; i++) {
      scratch[2 * i] = (byte) halves[i];
      scratch[2 * i + 1] = (byte) (halves[i] >>> 8);
    }
    out.write(scratch, 0, 2 * halves.length);
  }

  /** Writes one (f0, f1) record of two little-endian uint64. */
  static void writeUidPair(OutputStream out, long high, long low, byte[] scratch)
      throws IOException {
    ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN).putLong(0, high).putLong(8, low);
    out.write(scratch, 0, 16);
  }
}
