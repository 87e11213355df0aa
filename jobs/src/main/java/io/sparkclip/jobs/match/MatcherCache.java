package io.sparkclip.jobs.match;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link QueryMatcher} per JVM and broadcast: built lazily by the first task that needs it (the
 * others wait for it), then shared by every task on that executor. Keyed by application and
 * broadcast id: a new query list in the same JVM gets a new automaton, also after the SparkContext
 * was stopped and another started (tests, notebooks), whose broadcast ids start again at 0.
 */
final class MatcherCache {
  private static final Logger LOG = LoggerFactory.getLogger(MatcherCache.class);
  private static final int MAX_ENTRIES = 2;
  private static final ConcurrentHashMap<String, QueryMatcher> CACHE = new ConcurrentHashMap<>();

  private MatcherCache() {}

  static QueryMatcher get(Broadcast<String[]> queries) {
    String key = key(queries);
    QueryMatcher m = CACHE.get(key);
    if (m != null) {
      return m;
    }
    synchronized (CACHE) {
      m = CACHE.get(key);
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
        CACHE.put(key, m);
      }
      return m;
    }
  }

  /** The running application's id (every executor's conf has it) and the broadcast's. */
  static String key(Broadcast<String[]> queries) {
    SparkEnv env = SparkEnv.get();
    String app = env == null ? "" : env.conf().get("spark.app.id", "");
    return app + "/" + queries.id();
  }
}
