package io.sparkclip.jobs.embed;

import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.ShardCommitLog;
import io.sparkclip.jobs.stage.ShardPool;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.model.ModelDirectory;
import io.sparkclip.udfs.preprocess.ImageDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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
      long maxPixels,
      // Threads decoding and preprocessing the next batches of a task while its batch runs.
      int preprocessThreads,
      // 0: exact decode; else JPEGs are decoded at the smallest DCT scale covering this side.
      int reducedJpegTarget) {
    public static final String PRECISION = "precision";
    public static final String PRECISION_DEFAULT = "fp32";
    public static final String TEXT_ONLY = "text-only";
    public static final boolean TEXT_ONLY_DEFAULT = false;

    /** Shards embedded at once; 0 = the default parallelism. */
    public static final String CONCURRENT_SHARDS = "concurrent-shards";

    public static final int CONCURRENT_SHARDS_DEFAULT = 0;
    public static final String MAX_PIXELS = "max-pixels";
    public static final long MAX_PIXELS_DEFAULT = ImageDecoder.DEFAULT_MAX_PIXELS;
    public static final String PREPROCESS_THREADS = "preprocess-threads";
    public static final int PREPROCESS_THREADS_DEFAULT = EmbedSettings.PREPROCESS_THREADS_DEFAULT;
    static final int PREPROCESS_THREADS_MAX = 64;
    public static final String REDUCED_JPEG_TARGET = "reduced-jpeg-target";

    /** Off: the exact, Pillow-identical decode. */
    public static final int REDUCED_JPEG_TARGET_DEFAULT = 0;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.string(StageKeys.MODEL, null),
          c.integer(StageKeys.BATCH_SIZE, StageKeys.BATCH_SIZE_DEFAULT),
          c.string(StageKeys.DEVICE, StageKeys.DEVICE_DEFAULT),
          c.string(PRECISION, PRECISION_DEFAULT),
          c.bool(TEXT_ONLY, TEXT_ONLY_DEFAULT),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT),
          c.mapping(),
          c.integer(CONCURRENT_SHARDS, CONCURRENT_SHARDS_DEFAULT),
          c.longValue(MAX_PIXELS, MAX_PIXELS_DEFAULT),
          c.integer(PREPROCESS_THREADS, PREPROCESS_THREADS_DEFAULT),
          c.integer(REDUCED_JPEG_TARGET, REDUCED_JPEG_TARGET_DEFAULT));
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
      if (preprocessThreads < 1 || preprocessThreads > PREPROCESS_THREADS_MAX) {
        throw Errors.optionOutOfRange(
            "embed",
            "--" + PREPROCESS_THREADS + " in 1.." + PREPROCESS_THREADS_MAX,
            "got " + preprocessThreads);
      }
      if (reducedJpegTarget < 0) {
        throw Errors.optionOutOfRange(
            "embed",
            "--" + REDUCED_JPEG_TARGET + " is 0 (off) or an image side in pixels",
            "got " + reducedJpegTarget);
      }
      if (!precision.equals("fp32") && !precision.equals("fp16")) {
        throw Errors.unsupportedPrecision(precision);
      }
    }
  }

  private final SparkSession spark;
  private final Options options;

  public EmbedJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public EmbedReport.Result run() {
    long start = System.nanoTime();
    options.validate();
    // Fail fast on the driver: a bad model directory stops the run before any Spark work.
    ModelDirectory modelDir = Embedders.modelDirectory(options.model());
    String modelId = modelId(options.model());
    String inputData = Paths.resolveInput(spark, options.input());
    FileSystem inFs = Paths.fs(spark, inputData);
    Map<String, Path> shards = ShardCommitLog.listShards(inFs, new Path(inputData));
    if (shards.isEmpty()) {
      throw Errors.noParquetFiles(inputData);
    }
    // Detect the layout once (fails fast on a bad schema before any embedding).
    CurationInput probe = CurationInput.read(spark, inputData, options.mapping());
    if (!options.textOnly() && !probe.layout().hasImages()) {
      throw Errors.noImageColumnToEmbed(inputData, probe.layout().layout());
    }

    FileSystem outFs = Paths.fs(spark, options.out());
    ShardCommitLog log =
        new ShardCommitLog(outFs, new Path(options.out()), StageFiles.EMBED_MANIFEST_FILE);
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("model_id", modelId);
    manifest.put("precision", options.precision());
    manifest.put("text_only", options.textOnly());
    if (options.reducedJpegTarget() > 0) {
      // The approximate decode changes the embeddings, so resuming with another target must be
      // refused; unset, the manifest stays as outputs written before the option existed.
      manifest.put("reduced_jpeg_target", options.reducedJpegTarget());
    }
    log.open(options.overwrite(), manifest);
    ShardCommitLog.Pending p = log.pending(shards, inFs);
    List<String> pending = p.shards();
    int skipped = p.skipped();
    double saved = p.secondsSaved();
    LOG.info("embedding {} shards with {} ({})", pending.size(), modelId, modelDir);

    int parallel = ShardPool.parallelism(spark, options.concurrentShards());
    // Cores a shard gets while the others run: all of them for a lone shard, one each when at
    // least as many shards as cores run at once.
    int cores = Math.max(1, spark.sparkContext().defaultParallelism());
    int tasksPerShard =
        (int) Math.ceil((double) cores / Math.max(1, Math.min(parallel, pending.size())));
    List<ShardPool.ShardWork<Map<String, Long>>> work = new ArrayList<>();
    for (String name : pending) {
      work.add(() -> embedShard(shards.get(name), name, log, modelId, tasksPerShard));
    }
    long rows = 0;
    Map<String, Long> status = new TreeMap<>();
    for (Map<String, Long> counts : ShardPool.run(work, parallel, "embedding a shard")) {
      counts.forEach((k, v) -> status.merge(k, v, Long::sum));
      rows += counts.values().stream().mapToLong(Long::longValue).sum();
    }
    try {
      outFs.delete(log.staging, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    EmbedReport.Result r =
        new EmbedReport.Result(
            options.out(), shards.size(), skipped, pending.size(), rows, status, saved, seconds);
    EmbedReport.write(spark, options, r, modelId);
    LOG.info("embed done: {}", r);
    return r;
  }

  private Map<String, Long> embedShard(
      Path file, String name, ShardCommitLog log, String modelId, int tasks) throws IOException {
    long t0 = System.nanoTime();
    spark
        .sparkContext()
        .setLocalProperty("spark.job.description", "sparkclip embed: shard " + name);
    CurationInput in =
        spread(CurationInput.read(spark, file.toString(), options.mapping()), file, tasks);
    Dataset<Row> embedded = EmbedTransform.embed(in, modelId, options);
    Path tmp = new Path(log.staging, name);
    embedded.write().option("compression", "snappy").parquet(tmp.toString());
    Map<String, Long> counts = new TreeMap<>();
    spark
        .sparkContext()
        .setLocalProperty("spark.job.description", "sparkclip embed: count shard " + name);
    for (Row r :
        spark
            .read()
            .parquet(tmp.toString())
            .groupBy(Columns.EMBED_STATUS)
            .count()
            .collectAsList()) {
      counts.put(r.getString(0), r.getLong(1));
    }
    log.commit(
        name, tmp, file, Paths.fs(spark, file.toString()), counts, (System.nanoTime() - t0) / 1e9);
    LOG.info("committed shard {} ({})", name, counts);
    return counts;
  }

  /**
   * A shard of fewer row groups than the {@code tasks} it may use (the cores, shared among the
   * shards running at once; a 10,000-row img2dataset shard has two row groups, a few hundred rows
   * one, a WebDataset tar is read as one task) is shuffled into that many tasks by uid, so one big
   * file keeps every core busy; its rows still commit as one shard. Row groups, not Spark's
   * partitions, decide: Spark splits a file by byte ranges, and the ranges holding no row group's
   * start read nothing. Moving the bytes costs little next to inference (a ViT-B/32 image is about
   * 100 ms·core of inference and about 0.1 ms to shuffle).
   */
  private CurationInput spread(CurationInput in, Path file, int tasks) throws IOException {
    int groups = rowGroups(file);
    if (groups >= tasks) {
      return in;
    }
    LOG.info("shard {}: {} row group(s), spread over {} tasks", file.getName(), groups, tasks);
    return new CurationInput(
        in.pairs().repartition(tasks, org.apache.spark.sql.functions.col(Columns.UID)),
        in.layout());
  }

  /** Row groups of a Parquet file (its footer only); 1 for anything else (a tar shard). */
  private int rowGroups(Path file) throws IOException {
    if (!file.getName().endsWith(".parquet")) {
      return 1;
    }
    try (org.apache.parquet.hadoop.ParquetFileReader r =
        org.apache.parquet.hadoop.ParquetFileReader.open(
            org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                file, Paths.hadoopConf(spark)))) {
      return r.getRowGroups().size();
    }
  }

  /** The model directory's name, e.g. ViT-B-32__openai. */
  public static String modelId(String model) {
    String n = new Path(model).getName();
    return n.isEmpty() ? model : n;
  }
}
