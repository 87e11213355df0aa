package io.sparkclip.jobs.export;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.schemas.Errors;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An export's output directory and its bookkeeping: {@code _manifest.json} and the unit markers in
 * {@code _progress/}.
 *
 * <p>An export starts by writing a manifest with {@code "complete": false} and the export's
 * identity (format, input, a fingerprint of the input files, the options). It ends by writing the
 * full manifest with {@code "complete": true} and deleting {@code _progress/}. Running the same
 * export again into an unfinished output resumes it: units with a valid marker are kept, every
 * other file (temporary files of dead attempts, a shard renamed whose marker never came) is deleted
 * and its unit written again. The result is byte-identical to an uninterrupted export, because
 * every unit is a pure function of the input and the options. An unfinished output of another
 * identity is refused ({@code EXPORT_RESUME_MISMATCH}); a finished one, or anything that is not an
 * export, needs {@code --overwrite} ({@code OUTPUT_EXISTS}), as for every command.
 */
final class ExportOutput {
  private static final Logger LOG = LoggerFactory.getLogger(ExportOutput.class);

  static final String MANIFEST_FILE = "_manifest.json";
  static final String PROGRESS_DIR = "_progress";
  static final String COMPLETE = "complete";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final FileSystem fs;
  private final Path root;
  private final Map<String, Object> identity;
  private final Map<Integer, Unit> completed;

  private ExportOutput(
      FileSystem fs, Path root, Map<String, Object> identity, Map<Integer, Unit> completed) {
    this.fs = fs;
    this.root = root;
    this.identity = identity;
    this.completed = completed;
  }

  /** Prepares {@code out}: fresh, replaced ({@code overwrite}) or resumed. */
  static ExportOutput open(
      SparkSession spark, String out, boolean overwrite, Map<String, Object> identity) {
    FileSystem fs = Paths.fs(spark, out);
    // Qualified, so that listings (which return qualified paths) relativise against it.
    Path root = fs.makeQualified(new Path(out));
    try {
      Map<String, Object> previous = overwrite ? null : readManifest(fs, root);
      if (previous == null) {
        Paths.prepareOutput(spark, out, overwrite);
        fs.mkdirs(root);
        ExportOutput o = new ExportOutput(fs, root, identity, new TreeMap<>());
        o.writeManifest(unfinished(identity));
        return o;
      }
      if (Boolean.TRUE.equals(previous.get(COMPLETE))) {
        throw Errors.outputExists(out);
      }
      for (Map.Entry<String, Object> e : identity.entrySet()) {
        Object have = previous.get(e.getKey());
        if (!Objects.equals(JSON.valueToTree(have), JSON.valueToTree(e.getValue()))) {
          throw Errors.exportResumeMismatch(out, e.getKey(), have, e.getValue());
        }
      }
      ExportOutput o = new ExportOutput(fs, root, identity, readMarkers(fs, root));
      o.clearAllBut(o.keptFiles());
      LOG.info(
          "export: resuming {}: {} unit(s) already complete are kept", out, o.completed.size());
      return o;
    } catch (IOException e) {
      throw Errors.outputPrepareFailed(out, e);
    }
  }

  /** Units a previous run completed, by index (empty for a fresh export). */
  Map<Integer, Unit> completed() {
    return completed;
  }

  FileSystem fs() {
    return fs;
  }

  Path root() {
    return root;
  }

  /** Writes a finished export's files that are not units (e.g. sizes.json), atomically. */
  void writeText(String relative, String text) {
    Path target = new Path(root, relative);
    Path tmp = new Path(root, "." + relative + AtomicFile.TMP_INFIX + "driver");
    try {
      try (OutputStream o = fs.create(tmp, true)) {
        o.write(text.getBytes(StandardCharsets.UTF_8));
      }
      fs.delete(target, false);
      if (!fs.rename(tmp, target)) {
        throw new IOException("cannot rename " + tmp + " to " + target);
      }
    } catch (IOException e) {
      throw Errors.writeFailed(target.toString(), e);
    }
  }

  /** The finished manifest: identity, {@code "complete": true}, then {@code body}. */
  void finish(Map<String, Object> body) {
    Map<String, Object> m = new LinkedHashMap<>(identity);
    m.put(COMPLETE, true);
    m.putAll(body);
    writeManifest(m);
    try {
      fs.delete(new Path(root, PROGRESS_DIR), true);
    } catch (IOException e) {
      // The manifest already says complete, so a leftover _progress/ misleads nobody.
      LOG.warn("export: cannot delete {}: {}", new Path(root, PROGRESS_DIR), e.toString());
    }
  }

  static String json(Object value) {
    try {
      return JSON.writeValueAsString(value) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Object> unfinished(Map<String, Object> identity) {
    Map<String, Object> m = new LinkedHashMap<>(identity);
    m.put(COMPLETE, false);
    return m;
  }

  private void writeManifest(Map<String, Object> manifest) {
    writeText(MANIFEST_FILE, json(manifest));
  }

  /** The manifest in {@code root}, or null when there is none or it is not an export's. */
  private static Map<String, Object> readManifest(FileSystem fs, Path root) throws IOException {
    Path p = new Path(root, MANIFEST_FILE);
    if (!fs.exists(p)) {
      return null;
    }
    try (InputStream in = fs.open(p)) {
      Map<String, Object> m = JSON.readValue(in, new TypeReference<Map<String, Object>>() {});
      return m.containsKey(COMPLETE) ? m : null;
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      return null; // not ours: prepareOutput then refuses a non-empty directory
    }
  }

  /** Markers whose files are all present with their recorded lengths; others are deleted. */
  private static Map<Integer, Unit> readMarkers(FileSystem fs, Path root) throws IOException {
    Map<Integer, Unit> out = new TreeMap<>();
    Path dir = new Path(root, PROGRESS_DIR);
    if (!fs.exists(dir)) {
      return out;
    }
    for (FileStatus s : fs.listStatus(dir)) {
      if (AtomicFile.isTemporary(s.getPath().getName())) {
        continue; // removed with every other file no marker covers
      }
      Unit u = readMarker(fs, s.getPath());
      if (u != null && present(fs, root, u)) {
        out.put(u.index(), u);
      } else {
        LOG.info("export: marker {} is unreadable or its files changed; redoing it", s.getPath());
        fs.delete(s.getPath(), false);
      }
    }
    return out;
  }

  private static Unit readMarker(FileSystem fs, Path p) {
    try (InputStream in = fs.open(p)) {
      return Unit.fromJson(JSON.readValue(in, new TypeReference<Map<String, Object>>() {}));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static boolean present(FileSystem fs, Path root, Unit u) throws IOException {
    for (AtomicFile.Written w : u.files()) {
      Path p = new Path(root, w.path());
      if (!fs.exists(p) || fs.getFileStatus(p).getLen() != w.bytes()) {
        return false;
      }
    }
    return true;
  }

  private Set<String> keptFiles() {
    Set<String> keep =
        completed.values().stream()
            .flatMap(u -> u.files().stream().map(AtomicFile.Written::path))
            .collect(Collectors.toSet());
    keep.add(MANIFEST_FILE);
    return keep;
  }

  /** Deletes every file but {@code keep} and the markers: what dead attempts left behind. */
  private void clearAllBut(Set<String> keep) throws IOException {
    String base = root.toUri().getPath();
    // listFiles gives qualified paths under the qualified root.
    List<Path> doomed = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
    while (it.hasNext()) {
      Path p = it.next().getPath();
      String rel = p.toUri().getPath().substring(base.length()).replaceFirst("^/", "");
      boolean marker = rel.startsWith(PROGRESS_DIR + "/") && !AtomicFile.isTemporary(p.getName());
      if (!marker && !keep.contains(rel)) {
        doomed.add(p);
      }
    }
    for (Path p : doomed) {
      LOG.info("export: deleting {} (no complete unit holds it)", p);
      fs.delete(p, false);
    }
  }
}
