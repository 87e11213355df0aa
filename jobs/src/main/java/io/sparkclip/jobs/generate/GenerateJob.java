package io.sparkclip.jobs.generate;

import static io.sparkclip.schemas.Errors.optionConflict;
import static io.sparkclip.schemas.Errors.optionMissing;
import static io.sparkclip.schemas.Errors.optionOutOfRange;
import static io.sparkclip.schemas.Errors.require;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.Schemas;
import io.sparkclip.schemas.StageFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.IOUtils;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.ForeachPartitionFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sparkclip generate}: deterministic synthetic scraped pairs with injected faults, written
 * as img2dataset-layout Parquet shards ({@code 00000.parquet}, …) or as {@code images/} + {@code
 * captions.tsv}, plus the ground truth ({@code _ground_truth/}), the query list ({@code
 * queries.txt}) and a summary ({@code _sparkclip_generate.json}). Rows are produced on executors,
 * one task per shard; the driver never holds row data.
 */
public final class GenerateJob {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);

  public enum Format {
    PARQUET,
    FILES
  }

  /**
   * What to generate: the generator's {@link SyntheticPairs.Config} plus where and how to write.
   * Build with {@link #builder}; validated on the driver before any Spark work.
   */
  public record Options(
      SyntheticPairs.Config config, String out, Format format, boolean overwrite) {

    public static Builder builder(long rows, String out) {
      return new Builder(rows, out);
    }

    public static Options defaults(long rows, String out) {
      return builder(rows, out).build();
    }

    public long rows() {
      return config.rows();
    }

    void validate() {
      SyntheticPairs.Config c = config;
      require(
          c.rows() >= 1 && c.rows() <= 2_000_000_000L,
          () ->
              optionOutOfRange(
                  "generate", "--rows must be between 1 and 2,000,000,000", "got " + c.rows()));
      require(
          c.shardSize() >= 1 && c.shardSize() <= 1_000_000,
          () ->
              optionOutOfRange(
                  "generate",
                  "--shard-size must be between 1 and 1,000,000",
                  "got " + c.shardSize()));
      require(
          c.queries() >= 1 && c.queries() <= 5_000_000,
          () ->
              optionOutOfRange(
                  "generate", "--queries must be between 1 and 5,000,000", "got " + c.queries()));
      require(
          c.zipfExponent() > 0 && c.zipfExponent() <= 4,
          () ->
              optionOutOfRange("generate", "--zipf must be in (0, 4]", "got " + c.zipfExponent()));
      require(
          c.minSide() >= 16 && c.maxSide() <= 8192 && c.minSide() <= c.maxSide(),
          () ->
              optionOutOfRange(
                  "generate",
                  "--min-side/--max-side must satisfy 16 ≤ min ≤ max ≤ 8192",
                  "got " + c.minSide() + ".." + c.maxSide()));
      require(
          c.pngShare() >= 0 && c.pngShare() <= 1,
          () ->
              optionOutOfRange("generate", "--png-share must be in [0, 1]", "got " + c.pngShare()));
      require(
          !(c.metadataOnly() && format == Format.FILES),
          () ->
              optionConflict(
                  "generate",
                  "--metadata-only cannot be combined with --format files",
                  "files format writes images"));
      double total = 0;
      for (Map.Entry<FaultKind, Double> e : c.faultRates().entrySet()) {
        require(
            e.getValue() >= 0 && e.getValue() <= 0.5,
            () ->
                optionOutOfRange(
                    "generate",
                    "fault rate for " + e.getKey().label() + " must be in [0, 0.5]",
                    "got " + e.getValue()));
        total += e.getValue();
      }
      double faultTotal = total;
      require(
          faultTotal <= 0.9,
          () ->
              optionOutOfRange(
                  "generate",
                  "fault rates must add up to at most 0.9",
                  "they add up to " + faultTotal));
      require(
          c.evalExtra() >= 0 && c.evalExtra() <= 10_000_000,
          () ->
              optionOutOfRange(
                  "generate",
                  "--eval-extra must be between 0 and 10,000,000",
                  "got " + c.evalExtra()));
      require(
          !c.metadataOnly() || c.evalExtra() == 0,
          () ->
              optionConflict(
                  "generate",
                  "--eval-extra cannot be combined with --metadata-only",
                  "an evaluation set is images"));
      require(
          out != null && !out.isBlank(),
          () -> optionMissing("generate", "--out is required", "no output path given"));
    }
  }

  /** Fluent builder for {@link Options}; defaults are the CLI's defaults. */
  public static final class Builder {
    private final long rows;
    private final String out;
    private long seed = 42;
    private int shardSize = 10_000;
    private int queries = 1_000;
    private double zipfExponent = 1.1;
    private Map<FaultKind, Double> faultRates = SyntheticPairs.Config.defaultFaultRates();
    private int minSide = 64;
    private int maxSide = 512;
    private double pngShare = 0.1;
    private boolean metadataOnly;
    private Format format = Format.PARQUET;
    private boolean overwrite;
    private int evalExtra;

    private Builder(long rows, String out) {
      this.rows = rows;
      this.out = out;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder shardSize(int v) {
      shardSize = v;
      return this;
    }

    public Builder queries(int v) {
      queries = v;
      return this;
    }

    public Builder zipfExponent(double v) {
      zipfExponent = v;
      return this;
    }

    public Builder faultRates(Map<FaultKind, Double> v) {
      faultRates = v;
      return this;
    }

    public Builder sides(int min, int max) {
      minSide = min;
      maxSide = max;
      return this;
    }

    public Builder pngShare(double v) {
      pngShare = v;
      return this;
    }

    public Builder metadataOnly(boolean v) {
      metadataOnly = v;
      return this;
    }

    public Builder format(Format v) {
      format = v;
      return this;
    }

    public Builder overwrite(boolean v) {
      overwrite = v;
      return this;
    }

    /**
     * A held-out evaluation set in {@link StageFiles#EVAL_SET_DIR}: {@code copyRate} of the pool
     * rows are re-encoded, resized or lightly cropped copies of its images ({@link
     * FaultKind#EVAL_COPY}, one pool row per copied item), and {@code extra} more items are in no
     * pool row.
     */
    public Builder evalSet(double copyRate, int extra) {
      faultRates = new java.util.EnumMap<>(faultRates);
      faultRates.put(FaultKind.EVAL_COPY, copyRate);
      evalExtra = extra;
      return this;
    }

    public Options build() {
      return new Options(
          new SyntheticPairs.Config(
              rows,
              seed,
              shardSize,
              queries,
              zipfExponent,
              faultRates,
              minSide,
              maxSide,
              pngShare,
              metadataOnly,
              evalExtra),
          out,
          format,
          overwrite);
    }
  }

  /** What was written. */
  public record Result(
      String out, long rows, long shards, Map<String, Long> faults, double seconds) {
    public double rowsPerSecond() {
      return seconds > 0 ? rows / seconds : 0;
    }
  }

  private final SparkSession spark;
  private final Options options;

  public GenerateJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public Result run() {
    options.validate();
    long start = System.nanoTime();
    SyntheticPairs.Config config = options.config();
    long shards = config.shards();
    String out = options.out();
    Paths.prepareOutput(spark, out, options.overwrite());
    LOG.info("generating {} rows in {} shards into {}", options.rows(), shards, out);

    Dataset<Long> shardIds =
        spark.range(0, shards, 1, (int) Math.min(shards, Integer.MAX_VALUE)).as(Encoders.LONG());
    if (options.format() == Format.PARQUET) {
      StructType schema = config.metadataOnly() ? Schemas.METADATA_ONLY : Schemas.IMG2DATASET;
      Sparks.describe(
          spark,
          "generate",
          config.metadataOnly() ? "write metadata shards" : "render images and write shards");
      shardIds
          .flatMap(new ShardRows(config, schema), Encoders.row(schema))
          .write()
          .option("compression", "snappy")
          .parquet(out);
      renameShards(out);
    } else {
      Sparks.describe(spark, "generate", "render images and write files");
      writeFiles(shardIds, config, out);
    }

    Sparks.describe(spark, "generate", "write ground truth");
    String gt = new Path(out, StageFiles.GROUND_TRUTH_DIR).toString();
    int gtPartitions = (int) Math.max(1, Math.min(shards, 1 + shards / 10));
    spark
        .range(0, shards, 1, gtPartitions)
        .as(Encoders.LONG())
        .flatMap(new ShardFaults(config), Encoders.row(Schemas.GROUND_TRUTH))
        .write()
        .parquet(gt);

    if (!config.metadataOnly()) {
      Sparks.describe(spark, "generate", "write scenes");
      spark
          .range(0, shards, 1, gtPartitions)
          .as(Encoders.LONG())
          .flatMap(new ShardScenes(config), Encoders.row(Schemas.SCENES))
          .write()
          .json(new Path(out, StageFiles.SCENES_DIR).toString());
    }

    if (config.hasEvalSet()) {
      Sparks.describe(spark, "generate", "write the held-out evaluation set");
      writeEvalSet(config, new Path(out, StageFiles.EVAL_SET_DIR).toString());
    }

    writeQueries(config, new Path(out, StageFiles.QUERIES_FILE).toString());

    Sparks.describe(spark, "generate", "count faults");
    Map<String, Long> faults = new TreeMap<>();
    for (FaultKind k : FaultKind.values()) {
      faults.put(k.label(), 0L);
    }
    // One row per fault kind: a handful of rows, not row-level data.
    spark
        .read()
        .parquet(gt)
        .groupBy(Columns.FAULT)
        .count()
        .toLocalIterator()
        .forEachRemaining(r -> faults.put(r.getString(0), r.getLong(1)));
    double seconds = (System.nanoTime() - start) / 1e9;
    Result result = new Result(out, options.rows(), shards, faults, seconds);
    writeSummary(result);
    return result;
  }

  /** Renames Spark's part files to img2dataset's {@code 00000.parquet} names, by partition. */
  static final Pattern PART = Pattern.compile("part-(\\d+)-.*\\.parquet");

  private void renameShards(String out) {
    FileSystem fs = Paths.fs(spark, out);
    try {
      for (FileStatus f : fs.listStatus(new Path(out))) {
        Matcher m = PART.matcher(f.getPath().getName());
        if (m.matches()) {
          long shard = Long.parseLong(m.group(1));
          Path target = new Path(out, String.format("%05d.parquet", shard));
          if (!fs.rename(f.getPath(), target)) {
            throw new IOException("rename " + f.getPath() + " → " + target + " failed");
          }
        }
      }
    } catch (IOException e) {
      throw Errors.shardNamingFailed(out, e);
    }
  }

  /** Eval items per task of the items no pool row copies. */
  static final int EVAL_EXTRA_PER_TASK = 500;

  /**
   * The evaluation set, written by executors as image and caption files: task {@code t < shards}
   * writes the items its pool shard copies, each later task a range of the uncopied ones.
   */
  private void writeEvalSet(SyntheticPairs.Config config, String dir) {
    long shards = config.shards();
    long extraTasks = (config.evalExtra() + EVAL_EXTRA_PER_TASK - 1) / EVAL_EXTRA_PER_TASK;
    long tasks = shards + extraTasks;
    SerializableConfiguration conf = new SerializableConfiguration(Paths.hadoopConf(spark));
    spark
        .range(0, tasks, 1, (int) Math.max(1, Math.min(tasks, 10_000)))
        .as(Encoders.LONG())
        .foreachPartition(new EvalFiles(config, dir, conf));
  }

  /** Writes {@code {key}.jpg|png} and {@code {key}.txt} per eval item of its tasks. */
  static final class EvalFiles implements ForeachPartitionFunction<Long>, Serializable {
    private static final long serialVersionUID = 1L;
    private final SyntheticPairs.Config config;
    private final String dir;
    private final SerializableConfiguration conf;

    EvalFiles(SyntheticPairs.Config config, String dir, SerializableConfiguration conf) {
      this.config = config;
      this.dir = dir;
      this.conf = conf;
    }

    @Override
    public void call(Iterator<Long> tasks) throws IOException {
      SyntheticPairs gen = new SyntheticPairs(config);
      FileSystem fs = new Path(dir).getFileSystem(conf.value());
      long shards = config.shards();
      while (tasks.hasNext()) {
        long t = tasks.next();
        if (t < shards) {
          for (long i = config.firstRow(t); i < config.endRow(t); i++) {
            if (gen.faultOf(i) == FaultKind.EVAL_COPY) {
              write(fs, gen.evalItem(i));
            }
          }
        } else {
          long from = (t - shards) * EVAL_EXTRA_PER_TASK;
          long to = Math.min(config.evalExtra(), from + EVAL_EXTRA_PER_TASK);
          for (long j = from; j < to; j++) {
            write(fs, gen.evalItem(config.rows() + j));
          }
        }
      }
    }

    private void write(FileSystem fs, SyntheticPairs.EvalItem item) throws IOException {
      String ext = ShapeRenderer.isPng(item.image()) ? ".png" : ".jpg";
      try (OutputStream o = fs.create(new Path(dir, item.key() + ext), true)) {
        o.write(item.image());
      }
      try (OutputStream o = fs.create(new Path(dir, item.key() + ".txt"), true)) {
        o.write(item.caption().getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  private void writeQueries(SyntheticPairs.Config config, String path) {
    FileSystem fs = Paths.fs(spark, path);
    QueryList list = QueryList.of(config.queries(), config.zipfExponent());
    try (OutputStream o = fs.create(new Path(path), true)) {
      StringBuilder sb = new StringBuilder(64 * 1024);
      for (QueryList.Query q : list.all()) {
        sb.append(q.text()).append('\n');
        if (sb.length() > 60_000) {
          o.write(sb.toString().getBytes(StandardCharsets.UTF_8));
          sb.setLength(0);
        }
      }
      o.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw Errors.queryListWriteFailed(path, e);
    }
  }

  private void writeSummary(Result r) {
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("command", "generate");
    summary.put("rows", r.rows());
    summary.put("shards", r.shards());
    summary.put("seed", options.config().seed());
    summary.put("shard_size", options.config().shardSize());
    summary.put("queries", options.config().queries());
    summary.put("zipf_exponent", options.config().zipfExponent());
    summary.put("metadata_only", options.config().metadataOnly());
    if (options.config().hasEvalSet()) {
      summary.put("eval_set", StageFiles.EVAL_SET_DIR);
      summary.put("eval_extra", options.config().evalExtra());
    }
    summary.put("format", options.format().name().toLowerCase(java.util.Locale.ROOT));
    Map<String, Double> rates = new TreeMap<>();
    options.config().faultRates().forEach((k, v) -> rates.put(k.label(), v));
    summary.put("fault_rates", rates);
    summary.put("faults", r.faults());
    summary.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
    summary.put("rows_per_second", Math.round(r.rowsPerSecond()));
    try {
      String json =
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(summary);
      Paths.writeText(
          spark, new Path(r.out(), StageFiles.GENERATE_SUMMARY_FILE).toString(), json + "\n");
    } catch (IOException e) {
      throw Errors.generateSummaryWriteFailed(e);
    }
  }

  /** Files format: executors write images and per-shard TSV parts; the driver joins the parts. */
  private void writeFiles(Dataset<Long> shardIds, SyntheticPairs.Config config, String out) {
    Path parts = new Path(out, "_captions_parts");
    SerializableConfiguration conf = new SerializableConfiguration(Paths.hadoopConf(spark));
    shardIds.foreachPartition(new ShardFiles(config, out, parts.toString(), conf));
    FileSystem fs = Paths.fs(spark, out);
    try (OutputStream o = fs.create(new Path(out, StageFiles.CAPTIONS_FILE), true)) {
      o.write("key\tfile\tcaption\tquery\tuid\n".getBytes(StandardCharsets.UTF_8));
      List<Path> files = new ArrayList<>();
      for (FileStatus f : fs.listStatus(parts)) {
        files.add(f.getPath());
      }
      files.sort(null);
      for (Path p : files) {
        try (InputStream in = fs.open(p)) {
          IOUtils.copyBytes(in, o, 64 * 1024, false);
        }
      }
      fs.delete(parts, true);
    } catch (IOException e) {
      throw Errors.captionsAssemblyFailed(StageFiles.CAPTIONS_FILE, e);
    }
  }

  /** Lazily yields the rows of one shard: never materialises the shard. */
  static final class ShardRows implements FlatMapFunction<Long, Row> {
    private static final long serialVersionUID = 1L;
    private final SyntheticPairs.Config config;
    private final StructType schema;

    ShardRows(SyntheticPairs.Config config, StructType schema) {
      this.config = config;
      this.schema = schema;
    }

    @Override
    public Iterator<Row> call(Long shard) {
      SyntheticPairs gen = new SyntheticPairs(config);
      long from = config.firstRow(shard);
      long to = config.endRow(shard);
      return new Iterator<>() {
        long i = from;

        @Override
        public boolean hasNext() {
          return i < to;
        }

        @Override
        public Row next() {
          if (i >= to) {
            throw new NoSuchElementException();
          }
          return toRow(gen.pair(i++, true), schema);
        }
      };
    }
  }

  /** Writes a row's values by column name into the schema's order. */
  static Row toRow(SyntheticPairs.Pair p, StructType schema) {
    Object[] v = new Object[schema.size()];
    set(v, schema, Columns.QUERY, p.query());
    set(v, schema, Columns.CAPTION, p.caption());
    set(v, schema, Columns.URL, p.url());
    set(v, schema, Columns.KEY, p.key());
    set(v, schema, Columns.STATUS, p.status());
    set(v, schema, Columns.ERROR_MESSAGE, p.errorMessage());
    set(v, schema, Columns.WIDTH, p.width());
    set(v, schema, Columns.HEIGHT, p.height());
    set(v, schema, Columns.ORIGINAL_WIDTH, p.width());
    set(v, schema, Columns.ORIGINAL_HEIGHT, p.height());
    set(v, schema, Columns.EXIF, p.exif());
    set(v, schema, Columns.SHA256, p.sha256());
    set(v, schema, Columns.JPG, p.image());
    return RowFactory.create(v);
  }

  private static void set(Object[] v, StructType schema, String column, Object value) {
    scala.Option<Object> idx = schema.getFieldIndex(column);
    if (idx.isDefined()) {
      v[(Integer) idx.get()] = value;
    }
  }

  /** Ground truth of one shard: only rows with a fault, no images rendered. */
  static final class ShardFaults implements FlatMapFunction<Long, Row> {
    private static final long serialVersionUID = 1L;
    private final SyntheticPairs.Config config;

    ShardFaults(SyntheticPairs.Config config) {
      this.config = config;
    }

    @Override
    public Iterator<Row> call(Long shard) {
      SyntheticPairs gen = new SyntheticPairs(config);
      long from = config.firstRow(shard);
      long to = config.endRow(shard);
      List<Row> out = new ArrayList<>();
      for (long i = from; i < to; i++) {
        if (gen.faultOf(i) == null) {
          continue;
        }
        SyntheticPairs.Pair p = gen.pair(i, false);
        if (p.fault() != null) {
          Object[] v = new Object[Schemas.GROUND_TRUTH.size()];
          set(v, Schemas.GROUND_TRUTH, Columns.UID, p.uid());
          set(v, Schemas.GROUND_TRUTH, Columns.KEY, p.key());
          set(v, Schemas.GROUND_TRUTH, Columns.FAULT, p.fault().label());
          set(v, Schemas.GROUND_TRUTH, Columns.ORIGINAL_UID, p.originalUid());
          set(v, Schemas.GROUND_TRUTH, Columns.DETAIL, p.faultDetail());
          out.add(RowFactory.create(v));
        }
      }
      return out.iterator(); // faults are a small fraction of one shard
    }
  }

  /** Scenes of one shard: every row's background style, no images rendered. */
  static final class ShardScenes implements FlatMapFunction<Long, Row> {
    private static final long serialVersionUID = 1L;
    private final SyntheticPairs.Config config;

    ShardScenes(SyntheticPairs.Config config) {
      this.config = config;
    }

    @Override
    public Iterator<Row> call(Long shard) {
      SyntheticPairs gen = new SyntheticPairs(config);
      long from = config.firstRow(shard);
      long to = config.endRow(shard);
      return LongStream.range(from, to)
          .mapToObj(
              i -> {
                SyntheticPairs.Pair p = gen.pair(i, false);
                return RowFactory.create(p.uid(), p.key(), p.backgroundStyle());
              })
          .iterator();
    }
  }

  /** Files format: one image file per row with bytes, one TSV part per shard. */
  static final class ShardFiles implements ForeachPartitionFunction<Long>, Serializable {
    private static final long serialVersionUID = 1L;
    private final SyntheticPairs.Config config;
    private final String out;
    private final String parts;
    private final SerializableConfiguration conf;

    ShardFiles(
        SyntheticPairs.Config config, String out, String parts, SerializableConfiguration conf) {
      this.config = config;
      this.out = out;
      this.parts = parts;
      this.conf = conf;
    }

    @Override
    public void call(Iterator<Long> shards) throws IOException {
      SyntheticPairs gen = new SyntheticPairs(config);
      FileSystem fs = new Path(out).getFileSystem(conf.value());
      while (shards.hasNext()) {
        long shard = shards.next();
        long from = config.firstRow(shard);
        long to = config.endRow(shard);
        try (OutputStream tsv =
            fs.create(new Path(parts, String.format("%05d.tsv", shard)), true)) {
          for (long i = from; i < to; i++) {
            SyntheticPairs.Pair p = gen.pair(i, true);
            if (p.image() == null) {
              continue; // failed download: no file, as a downloader would leave it
            }
            String file =
                StageFiles.IMAGES_DIR
                    + "/"
                    + p.key()
                    + (ShapeRenderer.isPng(p.image()) ? ".png" : ".jpg");
            try (OutputStream img = fs.create(new Path(out, file), true)) {
              img.write(p.image());
            }
            String line =
                p.key()
                    + "\t"
                    + file
                    + "\t"
                    + tsvField(p.caption())
                    + "\t"
                    + tsvField(p.query())
                    + "\t"
                    + p.uid()
                    + "\n";
            tsv.write(line.getBytes(StandardCharsets.UTF_8));
          }
        }
      }
    }
  }

  static String tsvField(String s) {
    return s == null ? "" : s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
  }
}
