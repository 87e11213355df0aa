package io.sparkclip.jobs.download;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fetches one URL asynchronously with the JDK's {@link HttpClient}: redirects followed by hand (so
 * the {@link AddressGuard} checks every hop and loops are bounded), a body read into memory only up
 * to the size limit, {@code X-Robots-Tag} opt-outs honoured from the headers before any body byte
 * is read, and retries with exponential backoff for failures that may not repeat (timeouts,
 * connection errors, 408, 429, 5xx), none for the others.
 *
 * <p>One client per executor JVM and connect timeout (a client owns a selector thread and a
 * connection pool; clients are not closed in Java 17, so one per task would leak them). Address
 * checks resolve DNS on a small shared pool, never on the task thread that schedules requests.
 */
final class HttpFetcher {
  private static final Map<Long, HttpClient> CLIENTS = new ConcurrentHashMap<>();

  /** DNS lookups of the SSRF guard (blocking calls, off the scheduling thread). */
  private static final ExecutorService RESOLVER =
      Executors.newFixedThreadPool(
          64,
          r -> {
            Thread t = new Thread(r, "sparkclip-download-resolve");
            t.setDaemon(true);
            return t;
          });

  private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

  /** Cancels bodies that stall past their deadline; a finished body removes its timer. */
  private static final java.util.concurrent.ScheduledThreadPoolExecutor TIMERS = timers();

  private static java.util.concurrent.ScheduledThreadPoolExecutor timers() {
    java.util.concurrent.ScheduledThreadPoolExecutor t =
        new java.util.concurrent.ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread th = new Thread(r, "sparkclip-download-deadline");
              th.setDaemon(true);
              return th;
            });
    t.setRemoveOnCancelPolicy(true);
    return t;
  }

  private final FetchSettings settings;
  private final AddressGuard guard;
  private final HttpClient client;
  private final Set<String> directives;

  HttpFetcher(FetchSettings settings) {
    this.settings = settings;
    this.guard = new AddressGuard(settings.allowPrivateAddresses());
    this.directives = settings.directives();
    this.client =
        CLIENTS.computeIfAbsent(
            settings.connectTimeoutMillis(),
            ms ->
                HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .followRedirects(HttpClient.Redirect.NEVER)
                    // A proxy would resolve the host itself, behind the guard's back.
                    .proxy(HttpClient.Builder.NO_PROXY)
                    .connectTimeout(Duration.ofMillis(ms))
                    .build());
  }

  /** Fetches {@code url}; the future never completes exceptionally. */
  CompletableFuture<FetchOutcome> fetch(String url) {
    URI uri;
    try {
      uri = parse(url);
    } catch (URISyntaxException | IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          FetchOutcome.failed(DownloadStatus.REASON_BAD_URL, "invalid URL: " + e.getMessage(), 0));
    }
    long deadline =
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.totalTimeoutMillis());
    return attempt(uri, 1, deadline)
        .completeOnTimeout(
            FetchOutcome.failed(
                DownloadStatus.REASON_TIMEOUT,
                "no complete response within the total timeout of "
                    + settings.totalTimeoutMillis()
                    + " ms (redirects and retries included)",
                0),
            settings.totalTimeoutMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** Parses a metadata URL leniently: spaces and other unescaped characters are quoted. */
  static URI parse(String url) throws URISyntaxException {
    if (url == null || url.isBlank()) {
      throw new URISyntaxException(String.valueOf(url), "the URL is empty");
    }
    String u = url.trim();
    try {
      return new URI(u);
    } catch (URISyntaxException e) {
      // Crawled URLs often hold raw spaces or non-ASCII: quote them the way browsers do.
      java.net.URL parsed;
      try {
        parsed = new java.net.URL(u);
      } catch (java.net.MalformedURLException m) {
        throw e;
      }
      return new URI(
          parsed.getProtocol(),
          parsed.getUserInfo(),
          parsed.getHost(),
          parsed.getPort(),
          parsed.getPath(),
          parsed.getQuery(),
          parsed.getRef());
    }
  }

  /** A redirect's Location against the URI it came from; unescaped characters are quoted. */
  static URI resolve(URI base, String location) throws URISyntaxException {
    try {
      return base.resolve(new URI(location.trim()));
    } catch (URISyntaxException e) {
      try {
        return parse(new java.net.URL(base.toURL(), location.trim()).toString());
      } catch (java.net.MalformedURLException m) {
        throw e;
      }
    }
  }

  /** The attempt-th request for {@code uri} (1-based), retried while the failure is transient. */
  private CompletableFuture<FetchOutcome> attempt(URI uri, int attempt, long deadline) {
    return hop(uri, 0, attempt, deadline)
        .thenCompose(
            o -> {
              boolean retry =
                  !o.ok()
                      && attempt <= settings.retries()
                      && DownloadStatus.transientReason(o.reason());
              if (!retry) {
                return CompletableFuture.completedFuture(o);
              }
              long backoff = settings.retryBackoffMillis() << Math.min(attempt - 1, 10);
              if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) >= deadline) {
                return CompletableFuture.completedFuture(o);
              }
              return CompletableFuture.supplyAsync(
                      () -> null, CompletableFuture.delayedExecutor(backoff, TimeUnit.MILLISECONDS))
                  .thenCompose(x -> attempt(uri, attempt + 1, deadline));
            });
  }

  /** One request of a redirect chain: {@code redirects} hops were followed to reach {@code uri}. */
  private CompletableFuture<FetchOutcome> hop(URI uri, int redirects, int attempt, long deadline) {
    return CompletableFuture.supplyAsync(
            () -> System.nanoTime() >= deadline ? "" : guard.refusal(uri), RESOLVER)
        .thenCompose(
            refusal -> {
              if ("".equals(refusal)) {
                return CompletableFuture.completedFuture(timeout(attempt));
              }
              if (refusal != null) {
                return CompletableFuture.completedFuture(
                    FetchOutcome.failed(
                        DownloadStatus.REASON_REFUSED_ADDRESS,
                        (redirects > 0 ? "redirect to " + uri + ": " : "") + refusal,
                        attempt));
              }
              long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
              if (left <= 0) {
                return CompletableFuture.completedFuture(timeout(attempt));
              }
              CompletableFuture<HttpResponse<Body>> sent;
              try {
                HttpRequest request =
                    HttpRequest.newBuilder(uri)
                        .GET()
                        .timeout(Duration.ofMillis(Math.min(settings.timeoutMillis(), left)))
                        .header("User-Agent", settings.userAgent())
                        .header("Accept", "image/*,*/*;q=0.8")
                        .build();
                sent = client.sendAsync(request, info -> subscriber(info, deadline));
              } catch (IllegalArgumentException e) {
                // A URI the client refuses (a port out of range, a bad authority): permanent.
                return CompletableFuture.completedFuture(
                    FetchOutcome.failed(
                        redirects > 0
                            ? DownloadStatus.REASON_BAD_REDIRECT
                            : DownloadStatus.REASON_BAD_URL,
                        "the HTTP client refuses " + uri + ": " + e.getMessage(),
                        attempt));
              }
              return sent.handle((r, e) -> e == null ? r.body() : Body.error(e))
                  .thenCompose(b -> outcome(b, uri, redirects, attempt, deadline));
            });
  }

  private CompletableFuture<FetchOutcome> outcome(
      Body b, URI uri, int redirects, int attempt, long deadline) {
    if (b.error != null) {
      return CompletableFuture.completedFuture(failure(b.error, attempt));
    }
    if (b.location != null) {
      if (redirects >= settings.maxRedirects()) {
        return CompletableFuture.completedFuture(
            FetchOutcome.failed(
                DownloadStatus.REASON_REDIRECTS,
                "more than "
                    + settings.maxRedirects()
                    + " redirects (a loop or a long chain); last to "
                    + b.location,
                attempt));
      }
      URI next;
      try {
        next = resolve(uri, b.location);
      } catch (URISyntaxException | IllegalArgumentException e) {
        return CompletableFuture.completedFuture(
            FetchOutcome.failed(
                DownloadStatus.REASON_BAD_REDIRECT,
                "HTTP " + b.code + " redirect to an invalid location '" + b.location + "'",
                attempt));
      }
      return hop(next, redirects + 1, attempt, deadline);
    }
    if (b.failure != null) {
      return CompletableFuture.completedFuture(b.failure.apply(attempt));
    }
    return CompletableFuture.completedFuture(
        FetchOutcome.fetched(b.bytes, b.contentType, uri.toString(), attempt));
  }

  private FetchOutcome timeout(int attempt) {
    return FetchOutcome.failed(
        DownloadStatus.REASON_TIMEOUT,
        "no complete response within the total timeout of " + settings.totalTimeoutMillis() + " ms",
        attempt);
  }

  /** A failed request's exception as a reason code and message. */
  private FetchOutcome failure(Throwable e, int attempt) {
    Throwable c = e;
    while ((c instanceof CompletionException
            || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    String what =
        c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
    if (c instanceof HttpConnectTimeoutException) {
      return FetchOutcome.failed(
          DownloadStatus.REASON_TIMEOUT,
          "connect timed out after " + settings.connectTimeoutMillis() + " ms",
          attempt);
    }
    if (c instanceof HttpTimeoutException || c instanceof TimeoutException) {
      return FetchOutcome.failed(
          DownloadStatus.REASON_TIMEOUT,
          "no response within " + settings.timeoutMillis() + " ms (" + what + ")",
          attempt);
    }
    if (hasCause(c, UnresolvedAddressException.class) || hasCause(c, UnknownHostException.class)) {
      return FetchOutcome.failed(
          DownloadStatus.REASON_UNKNOWN_HOST,
          "the host name does not resolve (" + what + ")",
          attempt);
    }
    if (hasCause(c, javax.net.ssl.SSLException.class)) {
      return FetchOutcome.failed(
          DownloadStatus.REASON_TLS, "TLS handshake or certificate failed (" + what + ")", attempt);
    }
    if (c instanceof ConnectException || hasCause(c, ConnectException.class)) {
      return FetchOutcome.failed(
          DownloadStatus.REASON_CONNECT, "could not connect (" + what + ")", attempt);
    }
    if (c instanceof IOException) {
      return FetchOutcome.failed(DownloadStatus.REASON_IO, "I/O error (" + what + ")", attempt);
    }
    return FetchOutcome.failed(DownloadStatus.REASON_IO, "request failed (" + what + ")", attempt);
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  /** Decides from the status line and headers what to do with the body. */
  private HttpResponse.BodySubscriber<Body> subscriber(
      HttpResponse.ResponseInfo info, long deadline) {
    int code = info.statusCode();
    HttpHeaders h = info.headers();
    if (REDIRECTS.contains(code)) {
      String location = h.firstValue("Location").orElse(null);
      if (location == null) {
        return discard(
            Body.failed(
                a ->
                    FetchOutcome.failed(
                        DownloadStatus.REASON_BAD_REDIRECT,
                        "HTTP " + code + " redirect without a Location header",
                        a)));
      }
      Body b = new Body();
      b.location = location;
      b.code = code;
      return discard(b);
    }
    if (code < 200 || code > 299) {
      return discard(
          Body.failed(
              a ->
                  FetchOutcome.failed(
                      DownloadStatus.http(code), "HTTP error " + code + reasonPhrase(code), a)));
    }
    String directive = optOut(h.allValues("X-Robots-Tag"));
    if (directive != null) {
      return discard(
          Body.failed(
              a ->
                  FetchOutcome.optedOut(
                      "use of the image is disallowed by the X-Robots-Tag directive '"
                          + directive
                          + "'",
                      a)));
    }
    long declared = h.firstValueAsLong("Content-Length").orElse(-1);
    if (declared > settings.maxBodyBytes()) {
      return discard(Body.failed(a -> tooLarge(declared + " bytes declared", a)));
    }
    return new CappedBody(
        settings.maxBodyBytes(), deadline, h.firstValue("Content-Type").orElse(null));
  }

  private FetchOutcome tooLarge(String what, int attempt) {
    return FetchOutcome.failed(
        DownloadStatus.REASON_TOO_LARGE,
        "body larger than the limit of " + settings.maxBodyBytes() + " bytes (" + what + ")",
        attempt);
  }

  private static String reasonPhrase(int code) {
    return switch (code) {
      case 400 -> " (Bad Request)";
      case 401 -> " (Unauthorized)";
      case 403 -> " (Forbidden)";
      case 404 -> " (Not Found)";
      case 410 -> " (Gone)";
      case 429 -> " (Too Many Requests)";
      case 500 -> " (Internal Server Error)";
      case 502 -> " (Bad Gateway)";
      case 503 -> " (Service Unavailable)";
      case 504 -> " (Gateway Timeout)";
      default -> "";
    };
  }

  /**
   * The first disallowed directive of the {@code X-Robots-Tag} values addressed to every crawler or
   * to this one, as img2dataset decides it: a value is {@code [token:] d1, d2, ...}; directives for
   * img2dataset's token count too, since sparkclip does its job.
   */
  String optOut(List<String> values) {
    if (directives.isEmpty()) {
      return null;
    }
    for (String v : values) {
      String[] parts = v.split(":", 2);
      String token = parts.length == 2 ? parts[0].trim().toLowerCase(Locale.ROOT) : null;
      if (token != null
          && !token.equals(settings.userAgentToken().toLowerCase(Locale.ROOT))
          && !token.equals("img2dataset")) {
        continue;
      }
      for (String d : parts[parts.length - 1].split(",")) {
        String dd = d.trim().toLowerCase(Locale.ROOT);
        if (directives.contains(dd)) {
          return dd;
        }
      }
    }
    return null;
  }

  /**
   * Completes with {@code b} at once and cancels the body: a refused, redirected or failed
   * response's body is never read (a 5 GB or endless one would otherwise hold the connection).
   */
  private static HttpResponse.BodySubscriber<Body> discard(Body b) {
    return new HttpResponse.BodySubscriber<>() {
      @Override
      public CompletableFuture<Body> getBody() {
        return CompletableFuture.completedFuture(b);
      }

      @Override
      public void onSubscribe(Flow.Subscription s) {
        s.cancel();
      }

      @Override
      public void onNext(List<ByteBuffer> items) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onComplete() {}
    };
  }

  /** What a response's body handling gave. */
  static final class Body {
    byte[] bytes;
    String contentType;
    String location;
    int code;
    Throwable error;
    java.util.function.IntFunction<FetchOutcome> failure;

    static Body failed(java.util.function.IntFunction<FetchOutcome> f) {
      Body b = new Body();
      b.failure = f;
      return b;
    }

    static Body error(Throwable e) {
      Body b = new Body();
      b.error = e;
      return b;
    }
  }

  /**
   * Collects a body up to {@code max} bytes and cancels the stream beyond it (the rest is never
   * read), or when the deadline passes between chunks.
   */
  private final class CappedBody implements HttpResponse.BodySubscriber<Body> {
    private final long max;
    private final long deadline;
    private final String contentType;
    private final CompletableFuture<Body> result = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    CappedBody(long max, long deadline, String contentType) {
      this.max = max;
      this.deadline = deadline;
      this.contentType = contentType;
    }

    @Override
    public CompletableFuture<Body> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      // A body that stalls sends no chunk to check the deadline on: cancel it when it passes.
      long left = Math.max(0, deadline - System.nanoTime());
      java.util.concurrent.ScheduledFuture<?> timer =
          TIMERS.schedule(
              () -> {
                if (result.complete(Body.failed(HttpFetcher.this::timeout))) {
                  s.cancel();
                }
              },
              left,
              TimeUnit.NANOSECONDS);
      result.whenComplete((b, e) -> timer.cancel(false));
      s.request(1);
    }

    @Override
    public synchronized void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        int n = b.remaining();
        if (bytes.size() + (long) n > max) {
          subscription.cancel();
          long seen = bytes.size() + (long) n;
          result.complete(Body.failed(a -> tooLarge("more than " + (seen - 1) + " bytes sent", a)));
          return;
        }
        byte[] chunk = new byte[n];
        b.get(chunk);
        bytes.write(chunk, 0, n);
      }
      if (System.nanoTime() > deadline) {
        subscription.cancel();
        result.complete(Body.failed(HttpFetcher.this::timeout));
        return;
      }
      subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
      result.complete(Body.error(t));
    }

    @Override
    public synchronized void onComplete() {
      if (result.isDone()) {
        return;
      }
      Body b = new Body();
      b.bytes = bytes.toByteArray();
      b.contentType = contentType;
      result.complete(b);
    }
  }
}
