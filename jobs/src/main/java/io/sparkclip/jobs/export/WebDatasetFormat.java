package io.sparkclip.jobs.export;

import io.sparkclip.schemas.Columns;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * WebDataset shards as img2dataset writes them and open_clip reads them: {@code 00000.tar}, … of
 * {@code samples-per-shard} samples, each {@code <key>.<ext>} (the original image bytes, never
 * re-encoded), {@code <key>.txt} (the caption, UTF-8) and {@code <key>.json}. The key is
 * img2dataset's: the 5-digit shard index, then the index in the shard in as many digits as the
 * shard size needs (9 digits for 10,000 per shard).
 *
 * <p>Byte-identical for the same input: entries carry a fixed mtime (the epoch), owner 0:0 with no
 * names and mode 0644, and PAX headers for long or non-ASCII names (none are, but a fixed mode
 * keeps the layout independent of the names).
 */
final class WebDatasetFormat implements UnitFormat {
  private static final long serialVersionUID = 1L;

  static final String IMAGE = "_image";

  /** rw-r--r--. */
  static final int FILE_MODE = 0644;

  private final int samplesPerShard;
  private final boolean hasUrl;
  private final boolean hasQuery;
  private final List<String> scores;

  WebDatasetFormat(int samplesPerShard, boolean hasUrl, boolean hasQuery, List<String> scores) {
    this.samplesPerShard = samplesPerShard;
    this.hasUrl = hasUrl;
    this.hasQuery = hasQuery;
    this.scores = List.copyOf(scores);
  }

  static String shardName(int shard) {
    return String.format("%05d.tar", shard);
  }

  /** img2dataset's key: shard (5 digits) then index in shard, as wide as the shard size needs. */
  static String key(long ordinal, int samplesPerShard) {
    long shard = ordinal / samplesPerShard;
    long index = ordinal % samplesPerShard;
    int width = String.valueOf(samplesPerShard - 1).length();
    return String.format("%05d%0" + width + "d", shard, index);
  }

  @Override
  public List<String> files(int unit, int units) {
    return List.of(shardName(unit));
  }

  @Override
  public void write(UnitContext ctx, Iterator<Tuple2<Long, Row>> rows) throws IOException {
    AtomicFile file = ctx.open(shardName(ctx.unit()));
    try (TarArchiveOutputStream tar =
        new TarArchiveOutputStream(file.stream(), StandardCharsets.UTF_8.name())) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      tar.setAddPaxHeadersForNonAsciiNames(true);
      while (rows.hasNext()) {
        Tuple2<Long, Row> t = rows.next();
        Row row = t._2();
        String key = key(t._1(), samplesPerShard);
        byte[] image = row.getAs(IMAGE);
        String url = hasUrl ? row.getAs(Columns.URL) : null;
        String caption = row.getAs(Columns.CAPTION);
        put(tar, key + "." + ImageExtension.of(image, url), image);
        put(tar, key + ".txt", (caption == null ? "" : caption).getBytes(StandardCharsets.UTF_8));
        put(
            tar,
            key + ".json",
            SampleJson.bytes(SampleJson.fields(row, key, hasUrl, hasQuery, scores)));
      }
      tar.finish();
    }
  }

  /** One regular-file entry with fixed metadata, so equal content gives equal bytes. */
  static void put(TarArchiveOutputStream tar, String name, byte[] data) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(data.length);
    e.setModTime(0L);
    // Permission bits only, as GNU tar and Python's tarfile write them; the type flag says file.
    e.setMode(FILE_MODE);
    e.setUserId(0);
    e.setGroupId(0);
    e.setUserName("");
    e.setGroupName("");
    tar.putArchiveEntry(e);
    tar.write(data);
    tar.closeArchiveEntry();
  }
}
