package io.sparkclip.jobs.download;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How URLs are fetched: what an executor needs of the download options (serialized to the tasks).
 *
 * @param connectTimeoutMillis TCP + TLS connect
 * @param timeoutMillis one request until its response headers
 * @param totalTimeoutMillis one URL from its first request to its last body byte, redirects and
 *     retries included
 */
record FetchSettings(
    long connectTimeoutMillis,
    long timeoutMillis,
    long totalTimeoutMillis,
    int maxRedirects,
    long maxBodyBytes,
    int retries,
    long retryBackoffMillis,
    String userAgent,
    String userAgentToken,
    List<String> disallowedDirectives,
    boolean allowPrivateAddresses)
    implements Serializable {

  Duration connectTimeout() {
    return Duration.ofMillis(connectTimeoutMillis);
  }

  /** The opt-out directives, trimmed and lower-cased (an empty list disables the check). */
  Set<String> directives() {
    return disallowedDirectives.stream()
        .map(d -> d.trim().toLowerCase(Locale.ROOT))
        .filter(d -> !d.isEmpty())
        .collect(Collectors.toSet());
  }
}
