package io.sparkclip.jobs.embed;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.Paths;
import io.sparkclip.jobs.curate.CurationInput;
import io.sparkclip.jobs.curate.CurationOutput;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Errors;
import io.sparkclip.udfs.RowStatus;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import io.sparkclip.udfs.spark.ClipEmbedderBase;
import io.sparkclip.udfs.spark.ClipImageEmbedder;
import io.sparkclip.udfs.spark.ClipTextEmbedder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sparkclip embed}: CLIP image and text embeddings for every pair, with the udfs engine.
 *
 * <p>Resumable shard by shard: every input Parquet file is one shard, embedded by its own Spark job
 * into {@code <out>/_staging/<shard>} (Spark's commit protocol: task retries never double-write).
 * The driver then moves the shard's files into the flat {@code <out>/data/} as {@code
 * <shard>__part-*.parquet} and commits by writing the marker {@code <out>/_committed/<shard>}. A
 * re-run embeds only shards without a marker, after deleting their partial files from data/ and any
 * leftovers in {@code _staging}: every input uid ends up exactly once, however the previous run
 * died. Shards run as concurrent Spark jobs (a driver thread each) so that every core stays busy.
 *
 * <p>Every row is kept: {@code embed_status} is {@code ok} or says which tower failed and why
 * ({@code image:decode_error}, {@code text:null_input}, ...), {@code embed_error} holds the
 * message, the embeddings are null then. The filter stage turns non-ok rows into rejects.
 */
public final class EmbedJob {
  private static final Logger LOG = LoggerFactory.getLogger(EmbedJob.class);
  public static final String JOB = "embed";
  public static final String STAGING_DIR = "_staging";
  public static final String COMMITTED_DIR = "_committed";

  /** Suffix of a commit marker being written (hidden name: {@code .<shard>.tmp}). */
  static final String MARKER_TMP_SUFFIX = ".tmp";

  static final String SHARD_SEPARATOR = "__";
  public static final String MANIFEST_FILE = "_embed.json";

  public static final String IMAGE_EMBEDDING = "image_embedding";
  public static final String TEXT_EMBEDDING = "text_embedding";
  public static final String EMBED_STATUS = "embed_status";
  public static final String EMBED_ERROR = "embed_error";
  public static final String MODEL_ID = "model_id";

  /** What to embed and how. {@code precision} is fp32 (float arrays) or fp16 (packed binary). */
  public record Options(
      String input,
      String out,
      String model,
      int batchSize,
      String device,
      String precision,
      boolean textOnly,
      boolean overwrite,
      ColumnMapping mapping,
      int concurrentShards,
      // Images above this many pixels get status too_large before their raster is allocated.
      long maxPixels) {

    public static Options of(String input, String out, String model) {
      return new Options(
          input,
          out,
          model,
          32,
          "auto",
          "fp32",
          false,
          false,
          ColumnMapping.DETECT,
          0,
          ImageDecoder.DEFAULT_MAX_PIXELS);
    }

    public Options withOverwrite(boolean v) {
      return new Options(
          input,
          out,
          model,
          batchSize,
          device,
          precision,
          textOnly,
          v,
          mapping,
          concurrentShards,
          maxPixels);
    }

    public Options withTextOnly(boolean v) {
      return new Options(
          input,
          out,
          model,
          batchSize,
          device,
          precision,
          v,
          overwrite,
          mapping,
          concurrentShards,
          maxPixels);
    }

    public Options withBatchSize(int v) {
      return new Options(
          input,
          out,
          model,
          v,
          device,
          precision,
          textOnly,
          overwrite,
          mapping,
          concurrentShards,
          maxPixels);
    }

    public Options withPrecision(String v) {
      return new Options(
          input,
          out,
          model,
          batchSize,
          device,
          v,
          textOnly,
          overwrite,
          mapping,
          concurrentShards,
          maxPixels);
    }

    public Options withDevice(String v) {
      return new Options(
          input,
          out,
          model,
          batchSize,
          v,
          precision,
          textOnly,
          overwrite,
          mapping,
          concurrentShards,
          maxPixels);
    }

    public Options withMaxPixels(long v) {
      return new Options(
          input,
          out,
          model,
          batchSize,
          device,
          precision,
          textOnly,
          overwrite,
          mapping,
          concurrentShards,
          v);
    }

    void validate() {
      if (input == null || out == null || model == null) {
        throw Errors.embedNeedsInputOutAndModel();
      }
      if (batchSize < 1 || batchSize > 4096) {
        throw Errors.batchSizeOutOfRange(batchSize);
      }
      if (maxPixels < 1) {
        throw Errors.maxPixelsOutOfRange(maxPixels, ImageDecoder.DEFAULT_MAX_PIXELS);
      }
      if (!precision.equals("fp32") && !precision.equals("fp16")) {
        throw Errors.unsupportedPrecision(precision);
      }
    }
  }

  /** What a run did. */
  public record Result(
      String out,
      int shards,
      int shardsSkipped,
      int shardsEmbedded,
      long rowsEmbedded,
      Map<String, Long> statusCounts,
      double secondsSaved,
      double seconds) {
    public String render() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format("embed: %s in %.1f s%n", out, seconds));
      sb.append(
          String.format(
              "  shards         %d (%d already committed, skipped; %d embedded now)%n",
              shards, shardsSkipped, shardsEmbedded));
      if (shardsSkipped > 0) {
        sb.append(
            String.format(
                "  time saved     %.1f s of shard work (as measured when the skipped shards were"
                    + " committed)%n",
                secondsSaved));
      }
      sb.append(String.format("  rows embedded  %,d", rowsEmbedded));
      if (seconds > 0 && rowsEmbedded > 0) {
        sb.append(String.format(" (%.1f pairs/s)", rowsEmbedded / seconds));
      }
      sb.append('\n');
      statusCounts.forEach((k, v) -> sb.append(String.format("    %-24s %,d%n", k, v)));
      return sb.toString();
    }
  }

  private final SparkSession spark;
  private final Options options;

  public EmbedJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public Result run() {
    long start = System.nanoTime();
    options.validate();
    // Fail fast on the driver: a bad model directory stops the run before any Spark work.
    ModelDirectory modelDir = Embedders.modelDirectory(options.model());
    String modelId = modelId(options.model());
    String inputData = resolveInput(spark, options.input());
    FileSystem inFs = Paths.fs(spark, inputData);
    Map<String, Path> shards = listShards(inFs, new Path(inputData));
    if (shards.isEmpty()) {
      throw Errors.noParquetFiles(inputData);
    }
    // Detect the layout once (fails fast on a bad schema before any embedding).
    CurationInput probe = CurationInput.read(spark, inputData, options.mapping());
    if (!options.textOnly() && !probe.layout().hasImages()) {
      throw Errors.noImageColumnToEmbed(inputData, probe.layout().layout());
    }

    FileSystem outFs = Paths.fs(spark, options.out());
    Path out = new Path(options.out());
    Path data = new Path(out, CurationOutput.DATA_DIR);
    Path staging = new Path(out, STAGING_DIR);
    try {
      if (options.overwrite() && outFs.exists(out)) {
        outFs.delete(out, true);
      }
      checkManifest(outFs, out, modelId);
      outFs.mkdirs(data);
      if (outFs.exists(staging)) {
        LOG.info("deleting leftovers of an interrupted run in {}", staging);
        outFs.delete(staging, true);
      }
      outFs.mkdirs(staging);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }

    Path committedDir = new Path(out, COMMITTED_DIR);
    List<String> pending = new ArrayList<>();
    int skipped = 0;
    double saved = 0;
    try {
      outFs.mkdirs(committedDir);
      for (String name : shards.keySet()) {
        Path marker = new Path(committedDir, name);
        double seconds =
            outFs.exists(marker)
                ? checkCommitted(outFs, marker, inFs.getFileStatus(shards.get(name)))
                : -1;
        if (seconds >= 0) {
          saved += seconds;
          skipped++;
        } else {
          pending.add(name);
        }
      }
      // Marker temp files of a driver killed while committing: their shards are pending.
      for (FileStatus f : outFs.listStatus(committedDir)) {
        if (f.getPath().getName().endsWith(MARKER_TMP_SUFFIX)) {
          outFs.delete(f.getPath(), false);
        }
      }
      // Partial files of shards that never committed (a driver killed while moving them).
      java.util.Set<String> pendingSet = new java.util.HashSet<>(pending);
      for (FileStatus f : outFs.listStatus(data)) {
        String shard = shardOfDataFile(f.getPath().getName());
        if (shard != null && pendingSet.contains(shard)) {
          LOG.info("deleting {}: its shard never committed", f.getPath());
          outFs.delete(f.getPath(), false);
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
    LOG.info("embedding {} shards with {} ({})", pending.size(), modelId, modelDir);

    int parallel =
        options.concurrentShards() > 0
            ? options.concurrentShards()
            : Math.max(1, spark.sparkContext().defaultParallelism());
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.min(parallel, Math.max(1, pending.size())));
    AtomicLong rows = new AtomicLong();
    Map<String, Long> status = new TreeMap<>();
    try {
      List<Future<Map<String, Long>>> futures = new ArrayList<>();
      for (String name : pending) {
        futures.add(
            pool.submit(
                () ->
                    embedShard(
                        shards.get(name), name, staging, data, committedDir, outFs, modelId)));
      }
      for (Future<Map<String, Long>> f : futures) {
        Map<String, Long> counts = f.get();
        synchronized (status) {
          counts.forEach((k, v) -> status.merge(k, v, Long::sum));
        }
        rows.addAndGet(counts.values().stream().mapToLong(Long::longValue).sum());
      }
      outFs.delete(staging, true);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("embedding a shard failed", c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Result r =
        new Result(
            options.out(),
            shards.size(),
            skipped,
            pending.size(),
            rows.get(),
            status,
            saved,
            seconds);
    writeSummary(r, modelId);
    LOG.info("embed done: {}", r);
    return r;
  }

  private Map<String, Long> embedShard(
      Path file,
      String name,
      Path staging,
      Path data,
      Path committedDir,
      FileSystem fs,
      String modelId)
      throws IOException {
    long t0 = System.nanoTime();
    spark
        .sparkContext()
        .setLocalProperty("spark.job.description", "sparkclip embed: shard " + name);
    CurationInput in = CurationInput.read(spark, file.toString(), options.mapping());
    Dataset<Row> embedded = embed(in, modelId);
    Path tmp = new Path(staging, name);
    embedded.write().option("compression", "snappy").parquet(tmp.toString());
    Map<String, Long> counts = new TreeMap<>();
    spark
        .sparkContext()
        .setLocalProperty("spark.job.description", "sparkclip embed: count shard " + name);
    for (Row r :
        spark.read().parquet(tmp.toString()).groupBy(EMBED_STATUS).count().collectAsList()) {
      counts.put(r.getString(0), r.getLong(1));
    }
    for (FileStatus f : fs.listStatus(tmp)) {
      String n = f.getPath().getName();
      if (n.endsWith(".parquet")) {
        Path target = new Path(data, name + SHARD_SEPARATOR + n);
        if (!fs.rename(f.getPath(), target)) {
          throw new IOException("could not move " + f.getPath() + " to " + target);
        }
      }
    }
    // The commit: a shard is complete exactly when its marker exists.
    FileStatus source = Paths.fs(spark, file.toString()).getFileStatus(file);
    Map<String, Object> marker = new LinkedHashMap<>();
    marker.put("source", file.toString());
    marker.put("source_bytes", source.getLen());
    marker.put("rows", counts);
    marker.put("seconds", (System.nanoTime() - t0) / 1e9);
    // Written aside and renamed: a driver killed mid-write leaves no truncated marker behind.
    Path markerTmp = new Path(committedDir, "." + name + MARKER_TMP_SUFFIX);
    try (var o = fs.create(markerTmp, true)) {
      o.write(new ObjectMapper().writeValueAsBytes(marker));
    }
    Path markerPath = new Path(committedDir, name);
    fs.delete(markerPath, false);
    if (!fs.rename(markerTmp, markerPath)) {
      throw new IOException("could not move " + markerTmp + " to " + markerPath);
    }
    fs.delete(tmp, true);
    LOG.info("committed shard {} ({})", name, counts);
    return counts;
  }

  /** The embedding transform of one shard: input columns + the five embed columns. */
  Dataset<Row> embed(CurationInput in, String modelId) {
    Dataset<Row> df = in.pairs();
    String caption = in.layout().captionCol();
    ClipTextEmbedder text =
        new ClipTextEmbedder()
            .setModelDir(options.model())
            .setInputCol(caption)
            .setOutputCol(TEXT_EMBEDDING)
            .setStatusCol("_text_status")
            .setErrorCol("_text_error")
            .setBatchSize(options.batchSize())
            .setDevice(options.device())
            .setPrecision(options.precision());
    df = text.transform(df);
    Column status;
    Column error;
    if (options.textOnly() || in.layout().imageCol().isEmpty()) {
      df =
          df.withColumn(
              IMAGE_EMBEDDING,
              lit(null)
                  .cast(
                      options.precision().equals("fp16")
                          ? DataTypes.BinaryType
                          : ClipEmbedderBase.FP32_EMBEDDING));
      status = col("_text_status");
      error = col("_text_error");
    } else {
      ClipImageEmbedder image =
          new ClipImageEmbedder()
              .setModelDir(options.model())
              .setInputCol(in.layout().imageCol().get())
              .setOutputCol(IMAGE_EMBEDDING)
              .setStatusCol("_image_status")
              .setErrorCol("_image_error")
              .setBatchSize(options.batchSize())
              .setDevice(options.device())
              .setPrecision(options.precision())
              .setMaxPixels(options.maxPixels());
      df = image.transform(df);
      String ok = RowStatus.OK.value();
      status =
          when(col("_image_status").notEqual(lit(ok)), concat(lit("image:"), col("_image_status")))
              .when(
                  col("_text_status").notEqual(lit(ok)), concat(lit("text:"), col("_text_status")))
              .otherwise(lit(ok));
      error =
          when(col("_image_status").notEqual(lit(ok)), col("_image_error"))
              .otherwise(col("_text_error"));
    }
    return df.withColumn(EMBED_STATUS, status)
        .withColumn(EMBED_ERROR, error)
        .withColumn(MODEL_ID, lit(modelId))
        .drop("_text_status", "_text_error", "_image_status", "_image_error");
  }

  /** A curation stage directory reads as its data/; anything else as given. */
  public static String resolveInput(SparkSession spark, String input) {
    try {
      FileSystem fs = Paths.fs(spark, input);
      Path data = new Path(input, CurationOutput.DATA_DIR);
      if (fs.exists(new Path(input, CurationOutput.SUMMARY_FILE)) && fs.isDirectory(data)) {
        return data.toString();
      }
      if (fs.exists(new Path(input, MANIFEST_FILE)) && fs.isDirectory(data)) {
        return data.toString();
      }
      return input;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parquet files under root (recursively), keyed by a name derived from their relative path. */
  static Map<String, Path> listShards(FileSystem fs, Path root) {
    Map<String, Path> out = new TreeMap<>();
    try {
      if (!fs.exists(root)) {
        throw Errors.embedInputNotFound(root.toString());
      }
      FileStatus st = fs.getFileStatus(root);
      if (st.isFile()) {
        out.put(shardName(root.getName()), root);
        return out;
      }
      Map<String, String> relOf = new TreeMap<>();
      String prefix = fs.makeQualified(root).toUri().getPath();
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      while (it.hasNext()) {
        LocatedFileStatus f = it.next();
        String p = f.getPath().toUri().getPath();
        String rel = p.substring(Math.min(p.length(), prefix.length())).replaceFirst("^/", "");
        if (!f.getPath().getName().endsWith(".parquet") || hidden(rel)) {
          continue;
        }
        String name = shardName(rel);
        String clash = relOf.put(name, rel);
        if (clash != null) {
          throw Errors.shardNameClash(clash, rel, name);
        }
        out.put(name, f.getPath());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static boolean hidden(String rel) {
    for (String part : rel.split("/")) {
      if (part.startsWith("_") || part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  /**
   * The shard a file in data/ belongs to: files are named {@code <shard>__part-….parquet}, and
   * shard names may themselves contain "__", so the last "__part-" separates them.
   */
  static String shardOfDataFile(String fileName) {
    int sep = fileName.lastIndexOf(SHARD_SEPARATOR + "part-");
    return sep > 0 ? fileName.substring(0, sep) : null;
  }

  /**
   * Checks that a committed shard's input is the file that was embedded (same size) and returns the
   * seconds its embedding took (0 for markers of older runs that did not record it), or -1 when the
   * marker is unreadable (truncated by a crash while an older version wrote it): that marker is
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

  static String shardName(String relativePath) {
    String n = relativePath.replaceAll("\\.parquet$", "").replaceAll("[^A-Za-z0-9._=-]", "_");
    return n.startsWith("_") || n.startsWith(".") ? "s" + n : n;
  }

  /** The model directory's name, e.g. ViT-B-32__openai. */
  public static String modelId(String model) {
    String n = new Path(model).getName();
    return n.isEmpty() ? model : n;
  }

  private void checkManifest(FileSystem fs, Path out, String modelId) throws IOException {
    Path manifest = new Path(out, MANIFEST_FILE);
    Map<String, Object> want = new LinkedHashMap<>();
    want.put("model_id", modelId);
    want.put("precision", options.precision());
    want.put("text_only", options.textOnly());
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

  private void writeSummary(Result r, String modelId) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("job", JOB);
    m.put("input", options.input());
    m.put("output", options.out());
    m.put("model_id", modelId);
    m.put("shards", r.shards());
    m.put("shards_skipped", r.shardsSkipped());
    m.put("shards_embedded", r.shardsEmbedded());
    m.put("seconds_saved_by_skipping", Math.round(r.secondsSaved() * 10) / 10.0);
    m.put("rows_embedded_now", r.rowsEmbedded());
    m.put("embed_status", r.statusCounts());
    m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
    try {
      Paths.writeText(
          spark,
          new Path(options.out(), "_embed_run.json").toString(),
          new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
