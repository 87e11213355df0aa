package io.sparkclip.jobs.stage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shard commit log of a resumable stage (embed, download) under {@code <out>}: {@code
 * _staging/} (one Spark write per shard), {@code data/} (committed files, {@code
 * <shard>__part-*.parquet}) and {@code _committed/} (one marker per committed shard, with its
 * source size, row counts, seconds and the data files it committed). A re-run processes only shards
 * without a marker, after deleting their partial files, and deletes a committed shard's files that
 * its marker does not list (a shard being {@link #commit replaced} when the driver died): every
 * input row ends up exactly once, however the previous run died.
 */
public final class ShardCommitLog {
  private static final Logger LOG = LoggerFactory.getLogger(ShardCommitLog.class);

  /** Suffix of a commit marker being written (hidden name: {@code .<shard>.tmp}). */
  public static final String MARKER_TMP_SUFFIX = ".tmp";

  static final String SHARD_SEPARATOR = "__";

  /** Marker key listing the data files of the committed shard (absent in older markers). */
  static final String FILES = "files";

  private final FileSystem fs;
  private final Path out;
  private final String manifestFile;
  public final Path data;
  public final Path staging;
  public final Path committed;

  /**
   * The log of {@code out}, whose resume manifest (the options a resume must match) is named so.
   */
  public ShardCommitLog(FileSystem fs, Path out, String manifestFile) {
    this.fs = fs;
    this.out = out;
    this.data = new Path(out, StageFiles.DATA_DIR);
    this.staging = new Path(out, StageFiles.EMBED_STAGING_DIR);
    this.committed = new Path(out, StageFiles.EMBED_COMMITTED_DIR);
    this.manifestFile = manifestFile;
  }

  /** The shards still to embed, and what skipping the committed ones saves. */
  public record Pending(List<String> shards, int skipped, double secondsSaved) {}

  /**
   * Opens the log for a run: deletes the output first on overwrite, checks that a resumed output
   * was made with the same model and precision, and clears the leftovers of an interrupted run.
   */
  public void open(boolean overwrite, Map<String, Object> manifest) {
    try {
      if (overwrite && fs.exists(out)) {
        fs.delete(out, true);
      }
      checkManifest(manifest);
      fs.mkdirs(data);
      if (fs.exists(staging)) {
        LOG.info("deleting leftovers of an interrupted run in {}", staging);
        fs.delete(staging, true);
      }
      fs.mkdirs(staging);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Committed shards are skipped; marker temp files and the partial data files of shards that never
   * committed (a driver killed while committing) are deleted.
   */
  public Pending pending(Map<String, Path> shards, FileSystem inFs) {
    List<String> pending = new ArrayList<>();
    int skipped = 0;
    double saved = 0;
    try {
      fs.mkdirs(committed);
      java.util.Map<String, java.util.Set<String>> listed = new java.util.HashMap<>();
      for (String name : shards.keySet()) {
        Path marker = new Path(committed, name);
        double seconds =
            fs.exists(marker)
                ? checkCommitted(fs, marker, inFs.getFileStatus(shards.get(name)))
                : -1;
        if (seconds >= 0) {
          saved += seconds;
          skipped++;
          java.util.Set<String> files = committedFiles(name);
          if (files != null) {
            listed.put(name, files);
          }
        } else {
          pending.add(name);
        }
      }
      // Marker temp files of a driver killed while committing: their shards are pending.
      for (FileStatus f : fs.listStatus(committed)) {
        if (f.getPath().getName().endsWith(MARKER_TMP_SUFFIX)) {
          fs.delete(f.getPath(), false);
        }
      }
      // Partial files of shards that never committed (a driver killed while moving them).
      java.util.Set<String> pendingSet = new java.util.HashSet<>(pending);
      for (FileStatus f : fs.listStatus(data)) {
        String shard = shardOfDataFile(f.getPath().getName());
        if (shard != null && pendingSet.contains(shard)) {
          LOG.info("deleting {}: its shard never committed", f.getPath());
          fs.delete(f.getPath(), false);
        } else if (shard != null
            && listed.containsKey(shard)
            && !listed.get(shard).contains(f.getPath().getName())) {
          // A replacement moved in before its marker was written, or an old file the new marker
          // no longer lists: the marker decides which generation the shard is.
          LOG.info("deleting {}: not a file of its shard's committed generation", f.getPath());
          fs.delete(f.getPath(), false);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (skipped > 0) {
      LOG.info(
          "{} of {} shards already committed in {}: skipping them, which saves ~{} s of shard work"
              + " (use --overwrite to redo them)",
          skipped,
          shards.size(),
          data,
          String.format(java.util.Locale.ROOT, "%.1f", saved));
    }
    return new Pending(pending, skipped, saved);
  }

  /**
   * Commits a shard written to {@code tmp}: its files move into data/, then its marker is written
   * (aside, then renamed): a shard is complete exactly when its marker exists.
   */
  public void commit(
      String name,
      Path tmp,
      Path source,
      FileSystem sourceFs,
      Map<String, ?> counts,
      double seconds)
      throws IOException {
    // A shard committed before (being redone, e.g. download --retry-failed): its files are
    // deleted once the new marker stands; Spark names every write's files uniquely, so the two
    // generations never collide in data/.
    java.util.Set<String> previous = new java.util.TreeSet<>();
    for (FileStatus f : fs.listStatus(data)) {
      if (name.equals(shardOfDataFile(f.getPath().getName()))) {
        previous.add(f.getPath().getName());
      }
    }
    List<String> files = new ArrayList<>();
    for (FileStatus f : fs.listStatus(tmp)) {
      String n = f.getPath().getName();
      if (n.endsWith(".parquet")) {
        Path target = new Path(data, name + SHARD_SEPARATOR + n);
        if (previous.contains(target.getName())) {
          throw new IOException(target + " exists already: a write reused a file name");
        }
        if (!fs.rename(f.getPath(), target)) {
          throw new IOException("could not move " + f.getPath() + " to " + target);
        }
        files.add(target.getName());
      }
    }
    // The commit: a shard is complete exactly when its marker exists.
    FileStatus sourceStatus = sourceFs.getFileStatus(source);
    Map<String, Object> marker = new LinkedHashMap<>();
    marker.put("source", source.toString());
    marker.put("source_bytes", sourceStatus.getLen());
    marker.put("rows", counts);
    marker.put("seconds", seconds);
    marker.put(FILES, files);
    // Written aside and renamed: a driver killed mid-write leaves no truncated marker behind.
    Path markerTmp = new Path(committed, "." + name + MARKER_TMP_SUFFIX);
    try (var o = fs.create(markerTmp, true)) {
      o.write(new ObjectMapper().writeValueAsBytes(marker));
    }
    Path markerPath = new Path(committed, name);
    fs.delete(markerPath, false);
    if (!fs.rename(markerTmp, markerPath)) {
      throw new IOException("could not move " + markerTmp + " to " + markerPath);
    }
    for (String old : previous) {
      fs.delete(new Path(data, old), false);
    }
    fs.delete(tmp, true);
  }

  /** The marker of a committed shard, or null when it has none (or an unreadable one). */
  public Map<?, ?> marker(String name) throws IOException {
    Path marker = new Path(committed, name);
    if (!fs.exists(marker)) {
      return null;
    }
    try (java.io.InputStream in = fs.open(marker)) {
      return new ObjectMapper().readValue(in, Map.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      return null;
    }
  }

  /** The data files a committed shard's marker lists, or null for a marker that lists none. */
  private java.util.Set<String> committedFiles(String name) throws IOException {
    Map<?, ?> m = marker(name);
    if (m == null || !(m.get(FILES) instanceof List<?> l)) {
      return null;
    }
    java.util.Set<String> out = new java.util.HashSet<>();
    l.forEach(f -> out.add(String.valueOf(f)));
    return out;
  }

  /** The committed data files of one shard, as paths. */
  public List<Path> dataFiles(String name) throws IOException {
    List<Path> out = new ArrayList<>();
    for (FileStatus f : fs.listStatus(data)) {
      if (name.equals(shardOfDataFile(f.getPath().getName()))) {
        out.add(f.getPath());
      }
    }
    return out;
  }

  /**
   * The input's data files under root (recursively: Parquet files, or WebDataset tar shards), keyed
   * by a name derived from their relative path.
   */
  public static Map<String, Path> listShards(FileSystem fs, Path root) {
    Map<String, Path> out = new TreeMap<>();
    try {
      if (!fs.exists(root)) {
        throw Errors.embedInputNotFound(root.toString());
      }
      if (fs.getFileStatus(root).isFile()) {
        out.put(shardName(root.getName()), root);
        return out;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    InputFiles.Listing listing = InputFiles.list(fs, root);
    Map<String, String> relOf = new TreeMap<>();
    String prefix = fs.makeQualified(root).toUri().getPath();
    for (FileStatus f : listing.files()) {
      String p = f.getPath().toUri().getPath();
      String rel = p.substring(Math.min(p.length(), prefix.length())).replaceFirst("^/", "");
      String name = shardName(rel);
      String clash = relOf.put(name, rel);
      if (clash != null) {
        throw Errors.shardNameClash(clash, rel, name);
      }
      out.put(name, f.getPath());
    }
    return out;
  }

  /**
   * The shard a file in data/ belongs to: files are named {@code <shard>__part-….parquet}, and
   * shard names may themselves contain "__", so the last "__part-" separates them.
   */
  public static String shardOfDataFile(String fileName) {
    int sep = fileName.lastIndexOf(SHARD_SEPARATOR + "part-");
    return sep > 0 ? fileName.substring(0, sep) : null;
  }

  /**
   * Checks that a committed shard's input is the file that was embedded (same size) and returns the
   * seconds its embedding took (0 when the marker does not record it), or -1 when the marker is
   * unreadable (truncated by a crash of whatever wrote it, or edited by hand): that marker is
   * deleted and its shard embedded again.
   */
  static double checkCommitted(FileSystem fs, Path marker, FileStatus source) throws IOException {
    Map<?, ?> m;
    try (java.io.InputStream in = fs.open(marker)) {
      m = new ObjectMapper().readValue(in, Map.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      LOG.warn(
          "commit marker {} is unreadable ({}); its shard is embedded again",
          marker,
          e.getOriginalMessage());
      fs.delete(marker, false);
      return -1;
    }
    if (m.get("source_bytes") instanceof Number n && n.longValue() != source.getLen()) {
      throw Errors.inputShardChanged(
          source.getPath().toString(), n.longValue(), source.getLen(), marker.toString());
    }
    return m.get("seconds") instanceof Number s ? s.doubleValue() : 0;
  }

  public static String shardName(String relativePath) {
    String n = relativePath.replaceAll("\\.(parquet|tar)$", "").replaceAll("[^A-Za-z0-9._=-]", "_");
    return n.startsWith("_") || n.startsWith(".") ? "s" + n : n;
  }

  private void checkManifest(Map<String, Object> want) throws IOException {
    Path manifest = new Path(out, manifestFile);
    ObjectMapper json = new ObjectMapper();
    if (fs.exists(manifest)) {
      Map<?, ?> have;
      try (java.io.InputStream in = fs.open(manifest)) {
        have = json.readValue(in, Map.class);
      }
      for (Map.Entry<String, Object> e : want.entrySet()) {
        if (!String.valueOf(have.get(e.getKey())).equals(String.valueOf(e.getValue()))) {
          throw Errors.resumeOptionsChanged(
              out.toString(), e.getKey(), have.get(e.getKey()), e.getValue());
        }
      }
      return;
    }
    fs.mkdirs(out);
    try (var o = fs.create(manifest, true)) {
      o.write(json.writerWithDefaultPrettyPrinter().writeValueAsBytes(want));
    }
  }
}
