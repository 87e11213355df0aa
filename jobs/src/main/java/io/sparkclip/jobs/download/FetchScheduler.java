package io.sparkclip.jobs.download;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * Keeps up to {@code inFlight} URLs of one task being fetched at once, at most {@code perHost} of
 * them on one host, and hands back each item with its outcome as it completes (completion order,
 * not input order: one slow host must not stall the others).
 *
 * <p>Memory is bounded whatever the input: the task's input iterator is read only while a slot is
 * free, items waiting for a busy host are held up to {@code 8 × inFlight} (beyond that the input is
 * not read until one completes), and each outcome holds at most one capped body. All bookkeeping
 * runs on the task thread that calls {@link #next}; the HTTP client's threads only enqueue results.
 *
 * @param <T> an input item (a row)
 */
final class FetchScheduler<T> implements Iterator<FetchScheduler.Done<T>> {
  /** An item, what fetching its URL gave and the host it counted against (null: none). */
  record Done<T>(T item, FetchOutcome outcome, String host) {}

  private final Iterator<T> input;
  private final Function<T, String> urlOf;
  private final Function<String, CompletableFuture<FetchOutcome>> fetch;
  private final int inFlight;
  private final int perHost;
  private final int maxWaiting;
  private final LinkedBlockingQueue<Done<T>> completed = new LinkedBlockingQueue<>();
  private final Map<String, Integer> running = new HashMap<>();
  private final Map<String, ArrayDeque<T>> waiting = new HashMap<>();
  private int active;
  private int waitingCount;

  FetchScheduler(
      Iterator<T> input,
      Function<T, String> urlOf,
      Function<String, CompletableFuture<FetchOutcome>> fetch,
      int inFlight,
      int perHost) {
    this.input = input;
    this.urlOf = urlOf;
    this.fetch = fetch;
    this.inFlight = inFlight;
    this.perHost = Math.min(perHost, inFlight);
    this.maxWaiting = 8 * inFlight;
  }

  @Override
  public boolean hasNext() {
    fill();
    return active > 0 || !completed.isEmpty();
  }

  @Override
  public Done<T> next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Done<T> d;
    try {
      d = completed.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while downloading (task killed)", e);
    }
    active--;
    String host = d.host();
    if (host != null) {
      int n = running.merge(host, -1, Integer::sum);
      if (n == 0) {
        running.remove(host);
      }
      ArrayDeque<T> q = waiting.get(host);
      if (q != null && !q.isEmpty() && active < inFlight) {
        T next = q.poll();
        waitingCount--;
        if (q.isEmpty()) {
          waiting.remove(host);
        }
        start(next, host);
      }
    }
    fill();
    return d;
  }

  /** Starts items until every slot is taken, the input is read, or too many wait for a host. */
  private void fill() {
    while (active < inFlight && waitingCount < maxWaiting && input.hasNext()) {
      T item = input.next();
      String host = host(urlOf.apply(item));
      if (host != null && running.getOrDefault(host, 0) >= perHost) {
        waiting.computeIfAbsent(host, h -> new ArrayDeque<>()).add(item);
        waitingCount++;
        continue;
      }
      start(item, host);
    }
    // The input is exhausted or blocked: hosts with free capacity take their waiting items.
    if (active < inFlight && waitingCount > 0) {
      for (Iterator<Map.Entry<String, ArrayDeque<T>>> it = waiting.entrySet().iterator();
          it.hasNext() && active < inFlight; ) {
        Map.Entry<String, ArrayDeque<T>> e = it.next();
        while (!e.getValue().isEmpty()
            && active < inFlight
            && running.getOrDefault(e.getKey(), 0) < perHost) {
          waitingCount--;
          start(e.getValue().poll(), e.getKey());
        }
        if (e.getValue().isEmpty()) {
          it.remove();
        }
      }
    }
  }

  private void start(T item, String host) {
    active++;
    if (host != null) {
      running.merge(host, 1, Integer::sum);
    }
    CompletableFuture<FetchOutcome> f;
    try {
      f = fetch.apply(urlOf.apply(item));
    } catch (RuntimeException e) {
      f =
          CompletableFuture.completedFuture(
              FetchOutcome.failed(DownloadStatus.REASON_IO, "request failed: " + e, 0));
    }
    f.whenComplete(
        (o, e) ->
            completed.add(
                new Done<>(
                    item,
                    e == null
                        ? o
                        : FetchOutcome.failed(DownloadStatus.REASON_IO, "request failed: " + e, 0),
                    host)));
  }

  /** The lower-cased host of a URL (the per-host limit's key), or null when it has none. */
  static String host(String url) {
    if (url == null) {
      return null;
    }
    try {
      String h = HttpFetcher.parse(url).getHost();
      return h == null ? null : h.toLowerCase(Locale.ROOT);
    } catch (java.net.URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }
}
