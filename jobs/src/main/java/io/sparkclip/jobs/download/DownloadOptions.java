package io.sparkclip.jobs.download;

import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Errors;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import java.util.List;

/**
 * download's options. Each key and its default is defined once here; the command, curate's config
 * and the tests read these constants.
 */
public record DownloadOptions(
    String input,
    String out,
    ColumnMapping mapping,
    String resizeMode,
    int imageSize,
    boolean resizeOnlyIfBigger,
    int encodeQuality,
    int requestsInFlight,
    int perHostRequests,
    int rowsPerTask,
    int concurrentShards,
    long connectTimeoutMillis,
    long timeoutMillis,
    long totalTimeoutMillis,
    int maxRedirects,
    long maxBodyBytes,
    int retries,
    long retryBackoffMillis,
    String userAgent,
    String userAgentToken,
    List<String> disallowedHeaderDirectives,
    boolean allowPrivateAddresses,
    long maxPixels,
    boolean retryFailed,
    boolean overwrite) {

  public static final String RESIZE_MODE = "resize-mode";

  /** Keep the downloaded bytes: resizing is opt-in (img2dataset's default is border 256). */
  public static final String RESIZE_MODE_DEFAULT = "no";

  public static final String IMAGE_SIZE = "image-size";
  public static final int IMAGE_SIZE_DEFAULT = 256;
  public static final String RESIZE_ONLY_IF_BIGGER = "resize-only-if-bigger";
  public static final boolean RESIZE_ONLY_IF_BIGGER_DEFAULT = false;
  public static final String ENCODE_QUALITY = "encode-quality";
  public static final int ENCODE_QUALITY_DEFAULT = 95;

  /** Requests in flight per task (each task is one core's share of a shard). */
  public static final String REQUESTS_IN_FLIGHT = "requests-in-flight";

  public static final int REQUESTS_IN_FLIGHT_DEFAULT = 64;

  /** Requests in flight per task to one host: politeness towards small sites. */
  public static final String PER_HOST_REQUESTS = "per-host-requests";

  public static final int PER_HOST_REQUESTS_DEFAULT = 8;

  /** Rows of a shard per Spark task: a big metadata file is fetched by several tasks at once. */
  public static final String ROWS_PER_TASK = "rows-per-task";

  public static final int ROWS_PER_TASK_DEFAULT = 2_500;

  /** Shards downloaded at once; 0 = the default parallelism. */
  public static final String CONCURRENT_SHARDS = "concurrent-shards";

  public static final int CONCURRENT_SHARDS_DEFAULT = 0;
  public static final String CONNECT_TIMEOUT_MS = "connect-timeout-ms";
  public static final long CONNECT_TIMEOUT_MS_DEFAULT = 10_000;

  /** One request until its response headers (img2dataset's timeout is 10 s). */
  public static final String TIMEOUT_MS = "timeout-ms";

  public static final long TIMEOUT_MS_DEFAULT = 10_000;

  /** One URL in all: redirects, retries and the body. */
  public static final String TOTAL_TIMEOUT_MS = "total-timeout-ms";

  public static final long TOTAL_TIMEOUT_MS_DEFAULT = 60_000;
  public static final String MAX_REDIRECTS = "max-redirects";
  public static final int MAX_REDIRECTS_DEFAULT = 5;

  /** Largest body read; bounds each request's memory (64 in flight × 32 MiB = 2 GiB worst case). */
  public static final String MAX_BODY_BYTES = "max-body-bytes";

  public static final long MAX_BODY_BYTES_DEFAULT = 16L << 20;

  /** Extra attempts after a transient failure (timeout, connection error, 408, 429, 5xx). */
  public static final String RETRIES = "retries";

  public static final int RETRIES_DEFAULT = 2;

  /** Wait before the first retry; doubled for each next one. */
  public static final String RETRY_BACKOFF_MS = "retry-backoff-ms";

  public static final long RETRY_BACKOFF_MS_DEFAULT = 500;
  public static final String USER_AGENT = "user-agent";
  public static final String USER_AGENT_DEFAULT =
      "Mozilla/5.0 (compatible; sparkclip/1.0; +https://github.com/sparkclip/sparkclip)";

  /** The token {@code X-Robots-Tag: TOKEN: noai} values are addressed to. */
  public static final String USER_AGENT_TOKEN = "user-agent-token";

  public static final String USER_AGENT_TOKEN_DEFAULT = "sparkclip";

  /** {@code X-Robots-Tag} directives that opt an image out (img2dataset's defaults). */
  public static final String DISALLOWED_HEADER_DIRECTIVES = "disallowed-header-directives";

  public static final List<String> DISALLOWED_HEADER_DIRECTIVES_DEFAULT =
      List.of("noai", "noimageai", "noindex", "noimageindex");

  /** Allow loopback, private and link-local addresses (intranet crawls, tests). */
  public static final String ALLOW_PRIVATE_ADDRESSES = "allow-private-addresses";

  public static final boolean ALLOW_PRIVATE_ADDRESSES_DEFAULT = false;
  public static final String MAX_PIXELS = "max-pixels";
  public static final long MAX_PIXELS_DEFAULT = ImageDecoder.DEFAULT_MAX_PIXELS;

  /** Fetch again the rows of committed shards whose failure was transient. */
  public static final String RETRY_FAILED = "retry-failed";

  public static final boolean RETRY_FAILED_DEFAULT = false;

  public static DownloadOptions from(StageConf c) {
    return new DownloadOptions(
        c.string(StageKeys.INPUT, null),
        c.string(StageKeys.OUT, null),
        c.mapping(),
        c.string(RESIZE_MODE, RESIZE_MODE_DEFAULT),
        c.integer(IMAGE_SIZE, IMAGE_SIZE_DEFAULT),
        c.bool(RESIZE_ONLY_IF_BIGGER, RESIZE_ONLY_IF_BIGGER_DEFAULT),
        c.integer(ENCODE_QUALITY, ENCODE_QUALITY_DEFAULT),
        c.integer(REQUESTS_IN_FLIGHT, REQUESTS_IN_FLIGHT_DEFAULT),
        c.integer(PER_HOST_REQUESTS, PER_HOST_REQUESTS_DEFAULT),
        c.integer(ROWS_PER_TASK, ROWS_PER_TASK_DEFAULT),
        c.integer(CONCURRENT_SHARDS, CONCURRENT_SHARDS_DEFAULT),
        c.longValue(CONNECT_TIMEOUT_MS, CONNECT_TIMEOUT_MS_DEFAULT),
        c.longValue(TIMEOUT_MS, TIMEOUT_MS_DEFAULT),
        c.longValue(TOTAL_TIMEOUT_MS, TOTAL_TIMEOUT_MS_DEFAULT),
        c.integer(MAX_REDIRECTS, MAX_REDIRECTS_DEFAULT),
        c.longValue(MAX_BODY_BYTES, MAX_BODY_BYTES_DEFAULT),
        c.integer(RETRIES, RETRIES_DEFAULT),
        c.longValue(RETRY_BACKOFF_MS, RETRY_BACKOFF_MS_DEFAULT),
        c.string(USER_AGENT, USER_AGENT_DEFAULT),
        c.string(USER_AGENT_TOKEN, USER_AGENT_TOKEN_DEFAULT),
        c.strings(DISALLOWED_HEADER_DIRECTIVES, DISALLOWED_HEADER_DIRECTIVES_DEFAULT),
        c.bool(ALLOW_PRIVATE_ADDRESSES, ALLOW_PRIVATE_ADDRESSES_DEFAULT),
        c.longValue(MAX_PIXELS, MAX_PIXELS_DEFAULT),
        c.bool(RETRY_FAILED, RETRY_FAILED_DEFAULT),
        c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT));
  }

  /** Checks every value; fails before any Spark work. */
  public DownloadOptions validate() {
    if (input == null || out == null) {
      throw Errors.optionMissing(
          "download", "INPUT and --out", "download reads metadata and writes a pairs folder");
    }
    if (ResizeMode.parse(resizeMode) == null) {
      throw Errors.unknownResizeMode(resizeMode);
    }
    range(IMAGE_SIZE, imageSize, 1, 16_384);
    range(ENCODE_QUALITY, encodeQuality, 1, 100);
    range(REQUESTS_IN_FLIGHT, requestsInFlight, 1, 4_096);
    range(PER_HOST_REQUESTS, perHostRequests, 1, 4_096);
    range(ROWS_PER_TASK, rowsPerTask, 1, 10_000_000);
    range(CONCURRENT_SHARDS, concurrentShards, 0, 1_024);
    range(CONNECT_TIMEOUT_MS, connectTimeoutMillis, 1, 3_600_000);
    range(TIMEOUT_MS, timeoutMillis, 1, 3_600_000);
    range(TOTAL_TIMEOUT_MS, totalTimeoutMillis, 1, 3_600_000);
    range(MAX_REDIRECTS, maxRedirects, 0, 100);
    // A body is held in one byte array.
    range(MAX_BODY_BYTES, maxBodyBytes, 1, 1L << 30);
    range(RETRIES, retries, 0, 20);
    range(RETRY_BACKOFF_MS, retryBackoffMillis, 0, 600_000);
    range(MAX_PIXELS, maxPixels, 1, Long.MAX_VALUE);
    if (userAgent == null || userAgent.isBlank()) {
      throw Errors.optionOutOfRange("download", "--" + USER_AGENT + " is not empty", "got none");
    }
    return this;
  }

  private static void range(String key, long v, long lo, long hi) {
    if (v < lo || v > hi) {
      throw Errors.optionOutOfRange("download", "--" + key + " in " + lo + ".." + hi, "got " + v);
    }
  }

  ResizeMode mode() {
    return ResizeMode.parse(resizeMode);
  }

  FetchSettings fetchSettings() {
    return new FetchSettings(
        connectTimeoutMillis,
        timeoutMillis,
        totalTimeoutMillis,
        maxRedirects,
        maxBodyBytes,
        retries,
        retryBackoffMillis,
        userAgent,
        userAgentToken == null ? "" : userAgentToken,
        List.copyOf(disallowedHeaderDirectives),
        allowPrivateAddresses);
  }
}
