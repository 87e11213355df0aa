package io.sparkclip.udfs.spark;

import io.sparkclip.udfs.embed.BatchEmbedder;
import io.sparkclip.udfs.embed.EmbedResult;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.embed.PrefetchingBatches;
import io.sparkclip.udfs.embed.PreparedBatch;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Executor-side partition functions: static classes holding only settings and column indices. Rows
 * are pulled lazily, grouped into batches, prepared ahead on a small pool, embedded, and emitted
 * with the three output columns appended.
 */
final class EmbedPartitions {
  private EmbedPartitions() {}

  /** Image column: binary, or a struct with a binary {@code bytes} field (HF datasets). */
  static final class ImageFn implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final EmbedSettings settings;
    private final int inputIndex;
    private final int structBytesIndex; // -1 for a binary column
    private final boolean fp16;

    ImageFn(EmbedSettings settings, int inputIndex, int structBytesIndex, boolean fp16) {
      this.settings = settings;
      this.inputIndex = inputIndex;
      this.structBytesIndex = structBytesIndex;
      this.fp16 = fp16;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      BatchEmbedder<byte[]> e = Embedders.image(settings);
      return run(
          rows,
          settings,
          fp16,
          batch -> {
            List<byte[]> in = new ArrayList<>(batch.size());
            for (Row r : batch) {
              Object v = r.isNullAt(inputIndex) ? null : r.get(inputIndex);
              if (v instanceof Row s && structBytesIndex >= 0) {
                v = s.isNullAt(structBytesIndex) ? null : s.get(structBytesIndex);
              }
              in.add((byte[]) v);
            }
            return e.prepare(in);
          },
          e);
    }
  }

  /** Text column: string. */
  static final class TextFn implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final EmbedSettings settings;
    private final int inputIndex;
    private final boolean fp16;

    TextFn(EmbedSettings settings, int inputIndex, boolean fp16) {
      this.settings = settings;
      this.inputIndex = inputIndex;
      this.fp16 = fp16;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      BatchEmbedder<String> e = Embedders.text(settings);
      return run(
          rows,
          settings,
          fp16,
          batch -> {
            List<String> in = new ArrayList<>(batch.size());
            for (Row r : batch) {
              in.add(r.isNullAt(inputIndex) ? null : r.getString(inputIndex));
            }
            return e.prepare(in);
          },
          e);
    }
  }

  private static final AtomicInteger THREAD_ID = new AtomicInteger();

  static Iterator<Row> run(
      Iterator<Row> rows,
      EmbedSettings s,
      boolean fp16,
      java.util.function.Function<List<Row>, PreparedBatch> prepare,
      BatchEmbedder<?> embedder) {
    if (!rows.hasNext()) {
      return rows;
    }
    int threads = Math.max(1, s.preprocessThreads);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "sparkclip-preprocess-" + THREAD_ID.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    PrefetchingBatches<Row, PreparedBatch> batches =
        new PrefetchingBatches<>(rows, s.batchSize, threads, pool, prepare, embedder::discard);
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      tc.addTaskCompletionListener(
          new TaskCompletionListener() {
            @Override
            public void onTaskCompletion(TaskContext context) {
              batches.cancel();
              pool.shutdownNow();
            }
          });
    }
    return new Iterator<>() {
      private List<Row> current = List.of();
      private EmbedResult[] results;
      private int pos;

      @Override
      public boolean hasNext() {
        if (pos < current.size()) {
          return true;
        }
        if (batches.hasNext()) {
          PrefetchingBatches.Batch<Row, PreparedBatch> b = batches.next();
          current = b.inputs;
          results = embedder.infer(b.prepared);
          pos = 0;
          return true;
        }
        pool.shutdown();
        return false;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Row in = current.get(pos);
        Object[] outs = ClipEmbedderBase.outputs(results[pos], fp16);
        pos++;
        Object[] values = new Object[in.length() + outs.length];
        for (int i = 0; i < in.length(); i++) {
          values[i] = in.get(i);
        }
        System.arraycopy(outs, 0, values, in.length(), outs.length);
        return RowFactory.create(values);
      }
    };
  }
}
