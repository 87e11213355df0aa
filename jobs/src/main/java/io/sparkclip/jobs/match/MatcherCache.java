package io.sparkclip.jobs.match;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link QueryMatcher} per JVM and broadcast: built lazily by the first task that needs it (the
 * others wait for it), then shared by every task on that executor. Keyed by broadcast id, so a new
 * query list in the same JVM (tests, notebooks) gets a new automaton.
 */
final class MatcherCache {
  private static final Logger LOG = LoggerFactory.getLogger(MatcherCache.class);
  private static final int MAX_ENTRIES = 2;
  private static final ConcurrentHashMap<Long, QueryMatcher> CACHE = new ConcurrentHashMap<>();

  private MatcherCache() {}

  static QueryMatcher get(Broadcast<String[]> queries) {
    QueryMatcher m = CACHE.get(queries.id());
    if (m != null) {
      return m;
    }
    synchronized (CACHE) {
      m = CACHE.get(queries.id());
      if (m == null) {
        if (CACHE.size() >= MAX_ENTRIES) {
          CACHE.clear(); // an old query list: its job is over
        }
        long t0 = System.nanoTime();
        m = QueryMatcher.of(Arrays.asList(queries.value()));
        LOG.info(
            "built query automaton: {} patterns ({} duplicates after normalisation) in {} ms",
            m.size(),
            m.duplicates(),
            (System.nanoTime() - t0) / 1_000_000);
        CACHE.put(queries.id(), m);
      }
      return m;
    }
  }
}
