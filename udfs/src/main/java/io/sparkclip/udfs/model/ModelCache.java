package io.sparkclip.udfs.model;

import io.sparkclip.udfs.ClipErrors;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a model directory available on the local disk, once per JVM.
 *
 * <p>A plain local path (or {@code file:} URI) is used in place. Any other Hadoop path (hdfs://,
 * s3a://, ...) is copied through Hadoop {@link FileSystem} into {@code <cacheRoot>/<sha256(uri)>},
 * first into a temporary folder that is then renamed, with a manifest of file sizes and CRC32s. A
 * cached copy is reused only if the remote sizes and the local sizes and checksums still match the
 * manifest; otherwise it is copied again.
 */
public final class ModelCache {
  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
  static final String MANIFEST = ".sparkclip-manifest";
  private static final Map<String, ModelDirectory> LOCALIZED = new ConcurrentHashMap<>();
  private static final Map<String, Path> LOCAL_ROOTS = new ConcurrentHashMap<>();

  private ModelCache() {}

  /**
   * Default cache root: {@code $SPARKCLIP_MODEL_CACHE} or {@code java.io.tmpdir/sparkclip-models}.
   */
  public static Path defaultCacheRoot() {
    String env = System.getenv("SPARKCLIP_MODEL_CACHE");
    String prop = System.getProperty("sparkclip.model.cache", env);
    return prop != null
        ? Paths.get(prop)
        : Paths.get(System.getProperty("java.io.tmpdir"), "sparkclip-models");
  }

  /** Localizes {@code uri} with the given Hadoop configuration into the default cache root. */
  public static ModelDirectory localize(String uri, Configuration conf) {
    return localize(uri, conf, defaultCacheRoot());
  }

  public static ModelDirectory localize(String uri, Configuration conf, Path cacheRoot) {
    return LOCALIZED.computeIfAbsent(
        uri,
        u ->
            ModelDirectory.open(
                localRoot(
                    u,
                    conf,
                    cacheRoot,
                    () -> ClipErrors.missingFile(u + "/" + ModelDirectory.CONFIG, u)),
                u));
  }

  /**
   * The local folder of any model-like directory (a CLIP model, a score head): {@code uri} itself
   * when local, else a checked copy under {@code cacheRoot}, once per JVM. {@code empty} is the
   * error for a remote path with no files.
   */
  public static Path localRoot(
      String uri, Configuration conf, Path cacheRoot, Supplier<RuntimeException> empty) {
    return LOCAL_ROOTS.computeIfAbsent(uri, u -> doLocalize(u, conf, cacheRoot, empty));
  }

  /** Forgets the JVM-level memo (tests). Cached files stay on disk. */
  static void clearMemo() {
    LOCALIZED.clear();
    LOCAL_ROOTS.clear();
  }

  private static Path doLocalize(
      String uri, Configuration conf, Path cacheRoot, Supplier<RuntimeException> empty) {
    URI u = URI.create(uri);
    if (u.getScheme() == null) {
      return Paths.get(uri);
    }
    if ("file".equals(u.getScheme())) {
      return Paths.get(u);
    }
    Path target = cacheRoot.resolve(sha256(uri));
    try {
      org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(uri);
      FileSystem fs = src.getFileSystem(conf);
      Map<String, Long> remote = listRemote(fs, src);
      if (remote.isEmpty()) {
        throw empty.get();
      }
      if (isValidCopy(target, remote)) {
        LOG.info("Model {} already cached at {}", uri, target);
        return target;
      }
      Files.createDirectories(cacheRoot);
      Path tmp = Files.createTempDirectory(cacheRoot, "copy-");
      long t0 = System.nanoTime();
      Map<String, String> manifest = new TreeMap<>();
      for (Map.Entry<String, Long> e : remote.entrySet()) {
        Path local = tmp.resolve(e.getKey());
        Files.createDirectories(local.getParent());
        CRC32 crc = new CRC32();
        long n = 0;
        try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(src, e.getKey()));
            OutputStream out = Files.newOutputStream(local)) {
          byte[] buf = new byte[1 << 16];
          for (int r; (r = in.read(buf)) > 0; ) {
            out.write(buf, 0, r);
            crc.update(buf, 0, r);
            n += r;
          }
        }
        if (n != e.getValue()) {
          throw new IOException(
              "copied " + n + " bytes of " + e.getKey() + " but the source has " + e.getValue());
        }
        manifest.put(e.getKey(), n + " " + Long.toHexString(crc.getValue()));
      }
      Files.writeString(tmp.resolve(MANIFEST), format(manifest), StandardCharsets.UTF_8);
      publish(tmp, target);
      LOG.info(
          "Copied model {} ({} files) to {} in {} ms",
          uri,
          remote.size(),
          target,
          (System.nanoTime() - t0) / 1_000_000);
      return target;
    } catch (IOException | UncheckedIOException e) {
      throw ClipErrors.modelCopyFailed(uri, target.toString(), e);
    }
  }

  private static Map<String, Long> listRemote(FileSystem fs, org.apache.hadoop.fs.Path src)
      throws IOException {
    Map<String, Long> files = new TreeMap<>();
    if (!fs.exists(src)) {
      return files;
    }
    String base = fs.getFileStatus(src).getPath().toUri().getPath();
    ArrayDeque<org.apache.hadoop.fs.Path> dirs = new ArrayDeque<>();
    dirs.add(src);
    while (!dirs.isEmpty()) {
      for (FileStatus st : fs.listStatus(dirs.poll())) {
        String rel = st.getPath().toUri().getPath().substring(base.length()).replaceFirst("^/", "");
        if (rel.startsWith(".") || rel.contains("/.")) {
          continue; // hidden files (e.g. .crc) are not part of the model
        }
        if (st.isDirectory()) {
          dirs.add(st.getPath());
        } else {
          files.put(rel, st.getLen());
        }
      }
    }
    return files;
  }

  /** True if {@code target} holds a complete copy matching the remote sizes. */
  static boolean isValidCopy(Path target, Map<String, Long> remote) throws IOException {
    Path mf = target.resolve(MANIFEST);
    if (!Files.isRegularFile(mf)) {
      return false;
    }
    Map<String, String> manifest = parse(Files.readString(mf, StandardCharsets.UTF_8));
    if (!manifest.keySet().equals(remote.keySet())) {
      return false;
    }
    for (Map.Entry<String, String> e : manifest.entrySet()) {
      String[] sizeCrc = e.getValue().split(" ");
      long size = Long.parseLong(sizeCrc[0]);
      Path local = target.resolve(e.getKey());
      if (size != remote.get(e.getKey())
          || !Files.isRegularFile(local)
          || Files.size(local) != size
          || !Long.toHexString(crc32(local)).equals(sizeCrc[1])) {
        LOG.warn("Cached model file {} does not match its manifest; copying again", local);
        return false;
      }
    }
    return true;
  }

  private static void publish(Path tmp, Path target) throws IOException {
    if (Files.exists(target)) {
      deleteRecursively(target); // stale or corrupt copy
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
      deleteRecursively(tmp); // another JVM on this host won the race
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    }
  }

  static long crc32(Path file) throws IOException {
    CRC32 crc = new CRC32();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int r; (r = in.read(buf)) > 0; ) {
        crc.update(buf, 0, r);
      }
    }
    return crc.getValue();
  }

  private static String format(Map<String, String> manifest) {
    StringBuilder sb = new StringBuilder();
    manifest.forEach((k, v) -> sb.append(v).append(' ').append(k).append('\n'));
    return sb.toString();
  }

  private static Map<String, String> parse(String text) {
    Map<String, String> m = new TreeMap<>();
    for (String line : text.split("\n")) {
      String[] parts = line.split(" ", 3);
      if (parts.length == 3) {
        m.put(parts[2], parts[0] + " " + parts[1]);
      }
    }
    return m;
  }

  static String sha256(String s) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
