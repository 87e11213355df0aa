package io.sparkclip.jobs.bench;

import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.copydetect.PerceptualHash;
import io.sparkclip.schemas.ColumnMapping;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * The floor of near-duplicate image dedup (issue 14; not a test): one Spark job that decodes and
 * hashes every image of a dataset once with {@link PerceptualHash#signature(byte[])} (pHash, colour
 * grid and thumbnail, exactly what {@code sparkclip dedup} computes per image) and counts them. No
 * candidate pairs, no shuffle: a near-image stage cannot be cheaper than this. Run by {@code
 * bench/dedup-scale.sh}; see bench/README.md.
 *
 * <pre>
 * DedupFloorBench INPUT [master]     (master default local[*])
 * </pre>
 *
 * Prints one line: {@code floor: rows R, hashed H, undecodable U, no bytes B, seconds S}; S is the
 * job alone (input read included, JVM and Spark start-up not).
 */
public final class DedupFloorBench {
  private DedupFloorBench() {}

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: DedupFloorBench INPUT [master]");
      System.exit(2);
    }
    String master = args.length > 1 ? args[1] : "local[*]";
    try (Sparks sparks = Sparks.open("sparkclip dedup floor bench", master, Map.of())) {
      long t0 = System.nanoTime();
      // The same input path as the dedup job: layout detection, then the prepared pairs.
      CurationInput in = CurationInput.read(sparks.session(), args[0], ColumnMapping.DETECT);
      if (!in.layout().hasImages()) {
        throw new IllegalArgumentException(args[0] + " has no image bytes column");
      }
      Sparks.describe(sparks.session(), "dedup floor bench", "decode + hash every image");
      long[] c =
          in.pairs()
              .select(in.layout().imageBytes().as("bytes"))
              .javaRDD()
              .mapPartitions(DedupFloorBench::hashAll)
              .reduce(DedupFloorBench::add);
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "floor: rows %d, hashed %d, undecodable %d, no bytes %d, seconds %.1f (checksum %x)%n",
          c[0] + c[1] + c[2], c[0], c[1], c[2], secs, c[3]);
    }
  }

  /** {hashed, undecodable, no bytes, xor of the pHashes} of one partition. */
  private static Iterator<long[]> hashAll(Iterator<Row> rows) {
    long[] c = new long[4];
    while (rows.hasNext()) {
      byte[] bytes = rows.next().getAs(0);
      if (bytes == null) {
        c[2]++;
        continue;
      }
      try {
        PerceptualHash.Signature sig = PerceptualHash.signature(bytes);
        c[3] ^= sig.phash() ^ sig.thumbnail().length;
        c[0]++;
      } catch (PerceptualHash.UndecodableImageException e) {
        c[1]++;
      }
    }
    return List.of(c).iterator();
  }

  private static long[] add(long[] a, long[] b) {
    return new long[] {a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] ^ b[3]};
  }
}
