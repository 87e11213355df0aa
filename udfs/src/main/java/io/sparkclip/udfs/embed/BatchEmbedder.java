package io.sparkclip.udfs.embed;

import java.util.List;

/**
 * Inference split in two: {@link #prepare} (decode/preprocess or tokenize; CPU, may run on a worker
 * thread) and {@link #infer} (session run + L2 normalization). Thread-safe.
 */
public interface BatchEmbedder<I> {
  PreparedBatch prepare(List<I> inputs);

  EmbedResult[] infer(PreparedBatch batch);

  /**
   * Frees what a prepared batch holds when it will never be inferred (its task was cancelled or
   * failed, or the consumer stopped early). Safe to call on a batch already inferred.
   */
  default void discard(PreparedBatch batch) {}

  default EmbedResult[] embed(List<I> inputs) {
    return infer(prepare(inputs));
  }
}
