package io.sparkclip.udfs.head;

import io.sparkclip.udfs.ClipErrors;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.embed.Vectors;
import io.sparkclip.udfs.model.ModelCache;
import io.sparkclip.udfs.session.OnnxHead;
import io.sparkclip.udfs.session.SessionCache;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.Seq;

/**
 * Score heads on the executors: each partition is read lazily in batches of rows; per batch and
 * head, the rows' embeddings (L2-normalised again: a head is trained on unit vectors, and an
 * embedding written as float16 is off by rounding) go through the head's cached ONNX session in one
 * run. A row without the embedding a head reads gets a null score for that head.
 */
public final class HeadScores {
  private static final Map<String, HeadDirectory> DIRECTORIES = new ConcurrentHashMap<>();

  private HeadScores() {}

  /**
   * {@code df} with one float column per head appended ({@code columns}, in the order of {@code
   * heads}), read from the float-array columns {@code imageCol} and {@code textCol}.
   */
  public static Dataset<Row> apply(
      Dataset<Row> df,
      List<HeadSpec> heads,
      List<String> columns,
      String imageCol,
      String textCol,
      int batchSize,
      String device) {
    StructType in = df.schema();
    int[] index = new int[heads.size()];
    StructType out = in;
    for (int h = 0; h < heads.size(); h++) {
      String c = heads.get(h).input() == HeadDirectory.Input.IMAGE ? imageCol : textCol;
      index[h] = in.fieldIndex(c);
      if (!(in.fields()[index[h]].dataType() instanceof ArrayType)) {
        throw ClipErrors.wrongColumnType(c, in.fields()[index[h]].dataType(), "array<float>");
      }
      if (in.getFieldIndex(columns.get(h)).isDefined()) {
        throw ClipErrors.columnExists(columns.get(h));
      }
      out = out.add(columns.get(h), DataTypes.FloatType, true /* nullable: no embedding */);
    }
    return df.mapPartitions(
        new Fn(List.copyOf(heads), index, batchSize, device), Encoders.row(out));
  }

  /** The head directory at {@code uri}, localised and checked once per JVM. */
  public static HeadDirectory directory(String uri) {
    return DIRECTORIES.computeIfAbsent(
        uri,
        u ->
            HeadDirectory.open(
                ModelCache.localRoot(
                    u,
                    Embedders.hadoopConf(),
                    ModelCache.defaultCacheRoot(),
                    () -> ClipErrors.headDirectoryInvalid(u, "it is empty or does not exist.")),
                u));
  }

  /** Executor side: holds only the specs, column indices and sizes. */
  static final class Fn implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final List<HeadSpec> heads;
    private final int[] index;
    private final int batchSize;
    private final String device;

    Fn(List<HeadSpec> heads, int[] index, int batchSize, String device) {
      this.heads = heads;
      this.index = index;
      this.batchSize = Math.max(1, batchSize);
      this.device = device;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      if (!rows.hasNext()) {
        return rows; // an empty partition opens no session
      }
      OnnxHead[] sessions = new OnnxHead[heads.size()];
      int[] dims = new int[heads.size()];
      for (int h = 0; h < heads.size(); h++) {
        HeadDirectory d = directory(heads.get(h).dir());
        sessions[h] = SessionCache.head(d.modelOnnx(), device);
        dims[h] = d.embeddingDim();
      }
      return new Iterator<>() {
        private final List<Row> batch = new ArrayList<>(batchSize);
        private Float[][] scores;
        private int pos;

        @Override
        public boolean hasNext() {
          if (pos < batch.size()) {
            return true;
          }
          if (!rows.hasNext()) {
            return false;
          }
          batch.clear();
          while (batch.size() < batchSize && rows.hasNext()) {
            batch.add(rows.next());
          }
          scores = new Float[heads.size()][];
          for (int h = 0; h < heads.size(); h++) {
            scores[h] = score(batch, index[h], sessions[h], dims[h], heads.get(h));
          }
          pos = 0;
          return true;
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          Row r = batch.get(pos);
          int n = r.size();
          Object[] v = new Object[n + heads.size()];
          for (int i = 0; i < n; i++) {
            v[i] = r.get(i);
          }
          for (int h = 0; h < heads.size(); h++) {
            v[n + h] = scores[h][pos];
          }
          pos++;
          return RowFactory.create(v);
        }
      };
    }
  }

  /** One head over one batch: a score per row, null where the row has no embedding. */
  static Float[] score(List<Row> batch, int col, OnnxHead session, int d, HeadSpec head) {
    Float[] out = new Float[batch.size()];
    int[] rowOf = new int[batch.size()];
    float[] x = new float[batch.size() * d];
    int m = 0;
    for (int i = 0; i < batch.size(); i++) {
      Row r = batch.get(i);
      if (r.isNullAt(col)) {
        continue;
      }
      Seq<Object> s = r.getSeq(col);
      if (s.size() != d) {
        throw ClipErrors.headWidthMismatch(
            head.name(), head.dir(), head.input().label(), d, s.size(), "the input's model");
      }
      float[] e = new float[d];
      for (int j = 0; j < d; j++) {
        e[j] = ((Number) s.apply(j)).floatValue();
      }
      System.arraycopy(Vectors.l2NormalizeInPlace(e), 0, x, m * d, d);
      rowOf[m++] = i;
    }
    if (m == 0) {
      return out;
    }
    float[] y = session.run(x, m, d, head.output());
    for (int k = 0; k < m; k++) {
      out[rowOf[k]] = y[k];
    }
    return out;
  }
}
