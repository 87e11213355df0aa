package io.sparkclip.udfs.embed;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Groups a (lazy, single-threaded) source iterator into batches and prepares up to {@code depth}
 * batches ahead on {@code pool} while the caller consumes the current one, so preprocessing
 * overlaps inference. The source is only read on the caller's thread (Spark's partition iterators
 * are not thread-safe); at most {@code depth} batches are in flight, so memory is bounded.
 */
public final class PrefetchingBatches<I, P> implements Iterator<PrefetchingBatches.Batch<I, P>> {
  /** A batch of inputs and its prepared form. */
  public static final class Batch<I, P> {
    public final List<I> inputs;
    public final P prepared;

    Batch(List<I> inputs, P prepared) {
      this.inputs = inputs;
      this.prepared = prepared;
    }
  }

  private final Iterator<I> source;
  private final int batchSize;
  private final int depth;
  private final ExecutorService pool;
  private final Function<List<I>, P> prepare;
  private final Consumer<P> discard;
  private final ArrayDeque<List<I>> inputs = new ArrayDeque<>();
  private final ArrayDeque<Future<P>> futures = new ArrayDeque<>();
  private volatile boolean cancelled;

  public PrefetchingBatches(
      Iterator<I> source,
      int batchSize,
      int depth,
      ExecutorService pool,
      Function<List<I>, P> prepare) {
    this(source, batchSize, depth, pool, prepare, p -> {});
  }

  /**
   * As above; {@code discard} frees a prepared batch that will never be consumed (the iterator was
   * cancelled), e.g. gives its direct buffer back to the tower's pool.
   */
  public PrefetchingBatches(
      Iterator<I> source,
      int batchSize,
      int depth,
      ExecutorService pool,
      Function<List<I>, P> prepare,
      Consumer<P> discard) {
    if (batchSize < 1 || depth < 1) {
      throw new IllegalArgumentException("batchSize and depth must be >= 1");
    }
    this.source = source;
    this.batchSize = batchSize;
    this.depth = depth;
    this.pool = pool;
    this.prepare = prepare;
    this.discard = discard;
  }

  /** Groups without prefetching (pool-free), e.g. for tests and tiny inputs. */
  public static <I> Iterator<List<I>> grouped(Iterator<I> source, int batchSize) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return source.hasNext();
      }

      @Override
      public List<I> next() {
        if (!source.hasNext()) {
          throw new NoSuchElementException();
        }
        List<I> b = new ArrayList<>(batchSize);
        while (b.size() < batchSize && source.hasNext()) {
          b.add(source.next());
        }
        return b;
      }
    };
  }

  private void topUp() {
    while (!cancelled && futures.size() < depth && source.hasNext()) {
      List<I> b = new ArrayList<>(batchSize);
      while (b.size() < batchSize && source.hasNext()) {
        b.add(source.next());
      }
      inputs.add(b);
      futures.add(
          pool.submit(
              () -> {
                P p = prepare.apply(b);
                if (cancelled) { // cancelled while this batch was being prepared
                  discard.accept(p);
                }
                return p;
              }));
    }
  }

  @Override
  public boolean hasNext() {
    topUp();
    return !futures.isEmpty();
  }

  @Override
  public Batch<I, P> next() {
    topUp();
    if (futures.isEmpty()) {
      throw new NoSuchElementException();
    }
    List<I> in = inputs.poll();
    Future<P> f = futures.poll();
    topUp(); // keep the pool busy while the caller runs inference on this batch
    try {
      return new Batch<>(in, f.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel();
      throw new IllegalStateException("interrupted while preparing a batch", e);
    } catch (ExecutionException e) {
      cancel();
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("preparing a batch failed", c);
    }
  }

  /**
   * Cancels batches still being prepared (task killed or failed, or the consumer stopped early) and
   * discards those already prepared. A batch that completes while this runs may be discarded twice
   * ({@code discard} must allow that) or, in a narrow race, not at all (left to the GC).
   */
  public void cancel() {
    cancelled = true;
    for (Future<P> f : futures) {
      if (!f.cancel(true) && f.isDone() && !f.isCancelled()) {
        try {
          discard.accept(f.get());
        } catch (ExecutionException failedToPrepare) {
          // nothing was prepared, nothing to free
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    futures.clear();
    inputs.clear();
  }

  /** Number of batches prepared or in preparation ahead of the consumer (tests). */
  int inFlight() {
    return futures.size();
  }
}
