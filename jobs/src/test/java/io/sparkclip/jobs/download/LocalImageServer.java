package io.sparkclip.jobs.download;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * A loopback HTTP server that the image downloader tests point at, so that they exercise real
 * sockets, redirects, status codes, timeouts and oversized bodies without touching the network.
 *
 * <p>It runs on the JDK's {@link HttpServer} (no extra test dependency), binds an ephemeral port on
 * the loopback address (tests can run in parallel without port clashes), and serves from a pool of
 * 256 daemon threads so that a throughput test can keep hundreds of requests in flight: with {@link
 * #start(int)} every response waits a fixed latency, and the downloader is only fast if it overlaps
 * them. Routes are looked up by exact path on every request, so they can be registered before or
 * after the server starts.
 *
 * <p>The static helpers build small, deterministic test images in memory (different seeds give
 * different pixels, hence different hashes), so no binary fixtures need to be committed.
 */
final class LocalImageServer implements AutoCloseable {

  /** Size of the chunks {@link #stream} writes; large enough to be quick, small enough to abort. */
  private static final int CHUNK = 64 * 1024;

  /** Pool size: the number of requests the server can have in flight at once. */
  private static final int THREADS = 256;

  /** Listen backlog, above {@link #THREADS} so that a burst of connects is never refused. */
  private static final int BACKLOG = 1024;

  /** What a route does with one request; {@code nth} is 1 for the first request to the path. */
  @FunctionalInterface
  private interface Route {
    void handle(HttpExchange exchange, int nth) throws IOException, InterruptedException;
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final int latencyMillis;
  private final String base;
  private final Map<String, Route> routes = new ConcurrentHashMap<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final Map<String, AtomicInteger> perPath = new ConcurrentHashMap<>();

  private LocalImageServer(int latencyMillis) throws IOException {
    if (latencyMillis < 0) {
      throw new IllegalArgumentException("latencyMillis must be >= 0: " + latencyMillis);
    }
    this.latencyMillis = latencyMillis;
    this.server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), BACKLOG);
    AtomicInteger threadNo = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            THREADS,
            r -> {
              Thread t = new Thread(r, "local-image-server-" + threadNo.incrementAndGet());
              // Daemon: a test that forgets close() must not keep the JVM (surefire fork) alive.
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/", this::dispatch);
    server.start();
    InetSocketAddress bound = server.getAddress();
    InetAddress addr = bound.getAddress();
    // 127.0.0.1 normally; bracketed ::1 only if the JVM prefers IPv6 loopback.
    String host =
        addr instanceof Inet6Address ? "[" + addr.getHostAddress() + "]" : addr.getHostAddress();
    this.base = "http://" + host + ":" + bound.getPort();
  }

  /** Starts a server that answers as fast as it can. */
  static LocalImageServer start() {
    return start(0);
  }

  /**
   * Starts a server that sleeps {@code latencyMillis} before sending the headers of every response,
   * to model a slow remote host in a throughput benchmark (e.g. 100 ms per response).
   */
  static LocalImageServer start(int latencyMillis) {
    // The JDK server writes headers and body separately with Nagle's algorithm on by default: the
    // body then waits for the client's delayed ACK (40 ms on Linux), which a real server (nginx,
    // a CDN) never adds. Read once, when the first server starts.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    try {
      return new LocalImageServer(latencyMillis);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the local image server", e);
    }
  }

  /** The absolute URL of {@code path} (which starts with '/') on this server. */
  String url(String path) {
    return base + path;
  }

  /** The ephemeral port the server listens on. */
  int port() {
    return server.getAddress().getPort();
  }

  /** Requests received so far, counted when handling starts (before any delay). */
  int requests() {
    return requests.get();
  }

  /** Requests received so far for exactly {@code path} (0 if never requested). */
  int requests(String path) {
    AtomicInteger n = perPath.get(path);
    return n == null ? 0 : n.get();
  }

  // ------------------------------------------------------------------------------------ routes

  /** Serves {@code body} with status 200 and {@code contentType} at {@code path}. */
  LocalImageServer image(String path, byte[] body, String contentType) {
    return image(path, body, contentType, Map.of());
  }

  /**
   * Serves {@code body} with status 200, {@code contentType} and extra response {@code headers}
   * (e.g. {@code X-Robots-Tag: noai}, to test opt-out handling).
   */
  LocalImageServer image(
      String path, byte[] body, String contentType, Map<String, String> headers) {
    byte[] copy = body.clone();
    Map<String, String> extra = Map.copyOf(headers);
    return route(
        path,
        (ex, nth) -> {
          extra.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
          send(ex, 200, contentType, copy);
        });
  }

  /** Answers {@code path} with status {@code code} and a small HTML error page. */
  LocalImageServer status(String path, int code) {
    byte[] page = ("<html><body>error " + code + "</body></html>").getBytes(StandardCharsets.UTF_8);
    return route(path, (ex, nth) -> send(ex, code, "text/html; charset=utf-8", page));
  }

  /**
   * Answers the first {@code failures} requests to {@code path} with 500 and later ones with 200
   * and {@code body}, to test retries.
   */
  LocalImageServer flaky(String path, int failures, byte[] body, String contentType) {
    byte[] copy = body.clone();
    byte[] error = "<html><body>error 500</body></html>".getBytes(StandardCharsets.UTF_8);
    return route(
        path,
        (ex, nth) -> {
          if (nth <= failures) {
            send(ex, 500, "text/html; charset=utf-8", error);
          } else {
            send(ex, 200, contentType, copy);
          }
        });
  }

  /**
   * Waits {@code delayMillis} (on top of the server latency) before sending the headers, then
   * answers 200 with {@code body}: a client with a shorter timeout gives up first.
   */
  LocalImageServer slow(String path, long delayMillis, byte[] body, String contentType) {
    byte[] copy = body.clone();
    return route(
        path,
        (ex, nth) -> {
          Thread.sleep(delayMillis);
          try {
            send(ex, 200, contentType, copy);
          } catch (IOException clientGone) {
            // The client timed out and closed the connection; nothing left to do.
          }
        });
  }

  /** Answers {@code path} with redirect status {@code code} to {@code location}, empty body. */
  LocalImageServer redirect(String path, String location, int code) {
    return route(
        path,
        (ex, nth) -> {
          ex.getResponseHeaders().set("Location", location);
          ex.sendResponseHeaders(code, -1);
        });
  }

  /**
   * Streams {@code bytes} bytes of a JPEG-looking payload (JPEG magic, then filler) in chunked
   * encoding without a Content-Length, so only a client that counts while reading can enforce its
   * size limit; the client aborting mid-body is expected.
   */
  LocalImageServer stream(String path, long bytes, String contentType) {
    return route(
        path,
        (ex, nth) -> {
          ex.getResponseHeaders().set("Content-Type", contentType);
          if (isHead(ex)) {
            ex.sendResponseHeaders(200, -1);
            return;
          }
          byte[] chunk = new byte[CHUNK];
          Arrays.fill(chunk, (byte) 0x5A);
          try {
            ex.sendResponseHeaders(200, 0); // 0 = chunked, no Content-Length
            OutputStream out = ex.getResponseBody();
            long left = bytes;
            boolean first = true;
            while (left > 0) {
              int n = (int) Math.min(CHUNK, left);
              if (first) {
                byte[] head = chunk.clone();
                head[0] = (byte) 0xFF;
                head[1] = (byte) 0xD8;
                head[2] = (byte) 0xFF;
                head[3] = (byte) 0xE0;
                out.write(head, 0, n);
                first = false;
              } else {
                out.write(chunk, 0, n);
              }
              left -= n;
            }
            out.close();
          } catch (IOException clientAborted) {
            // Expected: the client stops reading once the body passes its limit.
          }
        });
  }

  private LocalImageServer route(String path, Route route) {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path must start with '/': " + path);
    }
    routes.put(path, route);
    return this;
  }

  // ---------------------------------------------------------------------------------- handling

  private void dispatch(HttpExchange exchange) {
    try {
      requests.incrementAndGet();
      String path = exchange.getRequestURI().getPath();
      int nth = perPath.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      if (latencyMillis > 0) {
        Thread.sleep(latencyMillis);
      }
      Route route = routes.get(path);
      if (route == null) {
        send(
            exchange,
            404,
            "text/plain; charset=utf-8",
            ("not found: " + path).getBytes(StandardCharsets.UTF_8));
      } else {
        route.handle(exchange, nth);
      }
    } catch (InterruptedException e) {
      // close() shuts the pool down; give up on this response.
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // The client went away; the test asserting on that outcome looks at the client side.
    } finally {
      exchange.close();
    }
  }

  private static boolean isHead(HttpExchange exchange) {
    return "HEAD".equalsIgnoreCase(exchange.getRequestMethod());
  }

  /** Sends status, Content-Type and a fixed-length body (no body for HEAD and bodyless codes). */
  private static void send(HttpExchange exchange, int code, String contentType, byte[] body)
      throws IOException {
    Headers headers = exchange.getResponseHeaders();
    headers.set("Content-Type", contentType);
    boolean noBody = isHead(exchange) || code < 200 || code == 204 || code == 304;
    if (noBody || body.length == 0) {
      exchange.sendResponseHeaders(code, -1);
      return;
    }
    exchange.sendResponseHeaders(code, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  /** Stops the server at once and interrupts handlers still sleeping or streaming. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  // ------------------------------------------------------------------------------------ images

  /** A {@code w} x {@code h} baseline JPEG whose pixels depend only on {@code seed}. */
  static byte[] jpeg(int w, int h, long seed) {
    return write(pattern(w, h, seed), "jpeg");
  }

  /** A {@code w} x {@code h} RGB PNG whose pixels depend only on {@code seed}. */
  static byte[] png(int w, int h, long seed) {
    return write(pattern(w, h, seed), "png");
  }

  /** A {@code w} x {@code h} GIF (palette-quantised by the JDK writer) from {@code seed}. */
  static byte[] gif(int w, int h, long seed) {
    return write(toBgr(pattern(w, h, seed)), "gif");
  }

  /** A {@code w} x {@code h} 24-bit BMP whose pixels depend only on {@code seed}. */
  static byte[] bmp(int w, int h, long seed) {
    return write(toBgr(pattern(w, h, seed)), "bmp");
  }

  /**
   * A {@code w} x {@code h} WebP encoded by OpenCV's libwebp (the JDK writes no WebP), or null when
   * OpenCV's native library cannot load here or the encoder fails, so that a test can skip itself.
   */
  static byte[] webp(int w, int h, long seed) {
    if (!OpenCvHolder.AVAILABLE) {
      return null;
    }
    BufferedImage bgr = toBgr(pattern(w, h, seed));
    byte[] pixels = ((DataBufferByte) bgr.getRaster().getDataBuffer()).getData();
    Mat mat = new Mat(h, w, CvType.CV_8UC3);
    MatOfByte buf = new MatOfByte();
    try {
      mat.put(0, 0, pixels); // TYPE_3BYTE_BGR is B, G, R per pixel: OpenCV's order
      if (!Imgcodecs.imencode(".webp", mat, buf)) {
        return null;
      }
      return buf.toArray();
    } finally {
      mat.release();
      buf.release();
    }
  }

  /** The first {@code keepBytes} bytes of {@code image}: a download cut off mid-file. */
  static byte[] truncated(byte[] image, int keepBytes) {
    return Arrays.copyOf(image, Math.min(Math.max(keepBytes, 0), image.length));
  }

  /** Loads OpenCV once per JVM; a failure (no native build for this platform) means no WebP. */
  private static final class OpenCvHolder {
    static final boolean AVAILABLE = load();

    private static boolean load() {
      try {
        nu.pattern.OpenCV.loadLocally();
        return true;
      } catch (Throwable t) {
        return false;
      }
    }
  }

  /**
   * Gradients with seed-dependent phases and colours plus a few seed-placed rectangles, so images
   * with different seeds differ everywhere and images compress like photos rather than noise.
   */
  private static BufferedImage pattern(int w, int h, long seed) {
    if (w <= 0 || h <= 0) {
      throw new IllegalArgumentException("image size must be positive: " + w + "x" + h);
    }
    Random rnd = new Random(seed);
    int r0 = rnd.nextInt(256);
    int g0 = rnd.nextInt(256);
    int b0 = rnd.nextInt(256);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = (r0 + x * 255 / w) & 0xFF;
        int g = (g0 + y * 255 / h) & 0xFF;
        int b = (b0 + (x + y) * 255 / (w + h)) & 0xFF;
        img.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    Graphics2D g = img.createGraphics();
    try {
      int rects = 3 + rnd.nextInt(3);
      for (int i = 0; i < rects; i++) {
        int rx = rnd.nextInt(w);
        int ry = rnd.nextInt(h);
        int rw = 1 + rnd.nextInt(Math.max(1, w / 2));
        int rh = 1 + rnd.nextInt(Math.max(1, h / 2));
        g.setColor(new Color(rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256)));
        g.fillRect(rx, ry, rw, rh);
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  private static BufferedImage toBgr(BufferedImage rgb) {
    BufferedImage bgr =
        new BufferedImage(rgb.getWidth(), rgb.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = bgr.createGraphics();
    try {
      g.drawImage(rgb, 0, 0, null);
    } finally {
      g.dispose();
    }
    return bgr;
  }

  private static byte[] write(BufferedImage img, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
