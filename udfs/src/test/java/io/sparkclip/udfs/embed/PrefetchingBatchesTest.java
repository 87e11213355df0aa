package io.sparkclip.udfs.embed;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PrefetchingBatchesTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** Counts how many items the consumer has pulled from the source. */
  static final class CountingIterator implements Iterator<Integer> {
    final AtomicInteger pulled = new AtomicInteger();
    final int n;

    CountingIterator(int n) {
      this.n = n;
    }

    @Override
    public boolean hasNext() {
      return pulled.get() < n;
    }

    @Override
    public Integer next() {
      return pulled.getAndIncrement();
    }
  }

  @Test
  void keepsOrderAndBatchSizes() {
    PrefetchingBatches<Integer, Integer> b =
        new PrefetchingBatches<>(
            new CountingIterator(10), 4, 2, pool, l -> l.stream().mapToInt(i -> i).sum());
    List<Integer> sizes = new ArrayList<>();
    List<Integer> sums = new ArrayList<>();
    List<Integer> all = new ArrayList<>();
    while (b.hasNext()) {
      PrefetchingBatches.Batch<Integer, Integer> x = b.next();
      sizes.add(x.inputs.size());
      sums.add(x.prepared);
      all.addAll(x.inputs);
    }
    assertThat(sizes).as("batch sizes").containsExactly(4, 4, 2);
    assertThat(sums)
        .as("prepared in the same order")
        .containsExactly(0 + 1 + 2 + 3, 4 + 5 + 6 + 7, 8 + 9);
    assertThat(all)
        .as("every item once, in order")
        .containsExactlyElementsOf(IntStream.range(0, 10).boxed().toList());
  }

  @Test
  void readsAheadAtMostDepthBatches() {
    CountingIterator src = new CountingIterator(1_000_000);
    PrefetchingBatches<Integer, Integer> b = new PrefetchingBatches<>(src, 8, 3, pool, List::size);
    b.next();
    assertThat(src.pulled.get())
        .as("after one batch: that batch plus at most 3 prepared ahead (lazy, bounded)")
        .isLessThanOrEqualTo(8 * 4);
    assertThat(b.inFlight()).as("batches in flight").isLessThanOrEqualTo(3);
  }

  @Test
  void cancelDiscardsThePreparedBatchesNobodyConsumed() throws Exception {
    List<Integer> prepared = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Integer> discarded = new java.util.concurrent.CopyOnWriteArrayList<>();
    PrefetchingBatches<Integer, Integer> b =
        new PrefetchingBatches<>(
            new CountingIterator(100),
            10,
            3,
            pool,
            l -> {
              prepared.add(l.get(0));
              return l.get(0);
            },
            discarded::add);
    int consumed = b.next().prepared;
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (prepared.size() < 4 && System.nanoTime() < deadline) {
      Thread.sleep(5); // the 3 batches read ahead finish preparing
    }
    b.cancel();
    assertThat(consumed).as("first batch").isZero();
    assertThat(prepared).as("prepared: the consumed batch and 3 ahead").hasSize(4);
    assertThat(discarded)
        .as("discarded: every prepared batch but the consumed one, once each")
        .containsExactlyInAnyOrder(10, 20, 30);
    assertThat(b.hasNext()).as("nothing left after cancel").isFalse();
  }

  @Test
  void groupedIsLazy() {
    CountingIterator src = new CountingIterator(100);
    Iterator<List<Integer>> g = PrefetchingBatches.grouped(src, 7);
    assertThat(g.next()).as("first group").hasSize(7);
    assertThat(src.pulled.get()).as("only one group read").isEqualTo(7);
  }
}
