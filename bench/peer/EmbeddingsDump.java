import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * bench/peer's Parquet reader for machines without pyarrow: writes the key, image_embedding and
 * text_embedding columns of {@code sparkclip embed}'s output as keys.txt + little-endian float32
 * image.f32 / text.f32 + meta.json, which bench/peer/peer.py cosine reads with numpy.
 *
 * <pre>CLASSPATH=jobs/target/sparkclip-jobs.jar:$(cat jobs/target/launcher/spark-classpath.txt) \
 *   java $(cat jobs/target/launcher/jvm-options.txt) bench/peer/EmbeddingsDump.java EMBED_OUT DEST</pre>
 */
public final class EmbeddingsDump {
  public static void main(String[] args) throws IOException {
    Path dest = Path.of(args[1]);
    Files.createDirectories(dest);
    SparkSession spark =
        SparkSession.builder()
            .master("local[1]")
            .appName("peer-embeddings-dump")
            .config("spark.ui.enabled", "false")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    List<Row> rows =
        spark
            .read()
            .parquet(args[0] + "/data")
            .select("key", "embed_status", "image_embedding", "text_embedding")
            .collectAsList();
    int dim = 0;
    Map<String, Integer> status = new TreeMap<>();
    for (Row r : rows) {
      status.merge(String.valueOf(r.get(1)), 1, Integer::sum);
      if (dim == 0 && !r.isNullAt(2)) {
        dim = r.getList(2).size();
      }
    }
    StringBuilder keys = new StringBuilder();
    try (DataOutputStream img = open(dest.resolve("image.f32"));
        DataOutputStream txt = open(dest.resolve("text.f32"))) {
      for (Row r : rows) {
        keys.append(r.getString(0)).append('\n');
        write(img, r, 2, dim);
        write(txt, r, 3, dim);
      }
    }
    Files.writeString(dest.resolve("keys.txt"), keys.toString(), StandardCharsets.UTF_8);
    StringBuilder meta = new StringBuilder("{\"dim\": " + dim + ", \"rows\": " + rows.size());
    meta.append(", \"status\": {");
    String sep = "";
    for (Map.Entry<String, Integer> e : status.entrySet()) {
      meta.append(sep).append('"').append(e.getKey()).append("\": ").append(e.getValue());
      sep = ", ";
    }
    Files.writeString(dest.resolve("meta.json"), meta.append("}}\n").toString());
    spark.stop();
    System.out.println("dumped " + rows.size() + " rows of dimension " + dim + " to " + dest);
  }

  private static DataOutputStream open(Path p) throws IOException {
    OutputStream out = new BufferedOutputStream(Files.newOutputStream(p));
    return new DataOutputStream(out);
  }

  /** float32 little endian; NaNs for a null embedding. */
  private static void write(DataOutputStream out, Row r, int col, int dim) throws IOException {
    List<Object> v = r.isNullAt(col) ? null : r.getList(col);
    for (int i = 0; i < dim; i++) {
      float f = v == null ? Float.NaN : ((Number) v.get(i)).floatValue();
      out.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(f)));
    }
  }
}
