package io.sparkclip.jobs.export;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.when;

import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.ResolvedLayout;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sparkclip export}: a stage's kept rows in the layout a trainer or an index reads.
 *
 * <ul>
 *   <li>{@code webdataset}: tar shards, {@code sizes.json} and {@code _manifest.json} ({@link
 *       WebDatasetFormat});
 *   <li>{@code clip-retrieval}: float16 embeddings and Parquet metadata parts ({@link
 *       ClipRetrievalFormat});
 *   <li>{@code datacomp-uids}: a DataComp subset .npy ({@link DataCompUidFormat}).
 * </ul>
 *
 * <p>Executors write every file ({@link UnitWrites}); the driver holds only counts and one small
 * record per unit. The same input and options give byte-identical files. A run that died is
 * finished by running it again ({@link ExportOutput}): complete units are kept, the rest written.
 *
 * <p>A row that cannot be exported in the format (webdataset: pair_status not ok, so no image or no
 * caption; clip-retrieval: also a null embedding) is skipped and counted by reason in the manifest
 * and the result, never dropped silently. A stage's data/ holds no such row for webdataset; embed
 * keeps rows whose image failed to decode, with null embeddings.
 */
public final class ExportJob {
  private static final Logger LOG = LoggerFactory.getLogger(ExportJob.class);

  static final String SIZES_FILE = "sizes.json";
  private static final String SKIP = "_skip";

  /** What to export and how. */
  public record Options(
      String input,
      String out,
      String format,
      int samplesPerShard,
      int rowsPerPart,
      boolean overwrite,
      ColumnMapping mapping) {
    public static final String FORMAT = "format";

    /** {@link ExportFormat#WEBDATASET}; a literal so that --help can name it. */
    public static final String FORMAT_DEFAULT = "webdataset";

    /** img2dataset's and open_clip's usual shard size. */
    public static final String SAMPLES_PER_SHARD = "samples-per-shard";

    public static final int SAMPLES_PER_SHARD_DEFAULT = 10_000;

    /** clip-retrieval inference's write_batch_size. */
    public static final String ROWS_PER_PART = "rows-per-part";

    public static final int ROWS_PER_PART_DEFAULT = 1_000_000;

    public static Options from(StageConf c) {
      return new Options(
          c.string(StageKeys.INPUT, null),
          c.string(StageKeys.OUT, null),
          c.string(FORMAT, FORMAT_DEFAULT),
          c.integer(SAMPLES_PER_SHARD, SAMPLES_PER_SHARD_DEFAULT),
          c.integer(ROWS_PER_PART, ROWS_PER_PART_DEFAULT),
          c.bool(StageKeys.OVERWRITE, StageKeys.OVERWRITE_DEFAULT),
          c.mapping());
    }

    /** Checks the options before any Spark work; returns the format. */
    public ExportFormat validate() {
      if (input == null || out == null) {
        throw Errors.optionMissing(
            "export", "an input and --out are required", "One of them is missing");
      }
      ExportFormat f = ExportFormat.of(format);
      if (samplesPerShard < 1) {
        throw Errors.optionOutOfRange(
            "export", "--" + SAMPLES_PER_SHARD + " " + samplesPerShard, "It must be at least 1");
      }
      if (rowsPerPart < 1) {
        throw Errors.optionOutOfRange(
            "export", "--" + ROWS_PER_PART + " " + rowsPerPart, "It must be at least 1");
      }
      return f;
    }
  }

  /** What an export wrote. {@link #render()} is what the command prints. */
  public record Result(
      ExportFormat format,
      String out,
      long rows,
      int units,
      int unitsKept,
      Map<String, Long> skipped,
      double seconds) {
    public String render() {
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              Locale.ROOT,
              "Exported %,d row(s) as %s to %s: %d file unit(s)",
              rows,
              format.label(),
              out,
              units));
      if (unitsKept > 0) {
        sb.append(String.format(Locale.ROOT, ", %d kept from an earlier run", unitsKept));
      }
      sb.append(String.format(Locale.ROOT, " (%.1f s)%n", seconds));
      skipped.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  skipped %,d: %s%n", v, k)));
      sb.append("  manifest: ").append(out).append('/').append(ExportOutput.MANIFEST_FILE);
      sb.append('\n');
      return sb.toString();
    }
  }

  private final SparkSession spark;
  private final Options options;

  public ExportJob(SparkSession spark, Options options) {
    this.spark = spark;
    this.options = options;
  }

  public Result run() {
    long start = System.nanoTime();
    ExportFormat format = options.validate();
    ExportInput in = ExportInput.read(spark, options.input(), options.mapping());
    Result r =
        switch (format) {
          case WEBDATASET -> webdataset(in, start);
          case CLIP_RETRIEVAL -> clipRetrieval(in, start);
          case DATACOMP_UIDS -> dataCompUids(in, start);
        };
    LOG.info(
        "export: {} rows as {} into {} in {} s",
        r.rows(),
        format.label(),
        r.out(),
        String.format(Locale.ROOT, "%.1f", r.seconds()));
    return r;
  }

  private Result webdataset(ExportInput in, long start) {
    if (!in.layout().hasImages()) {
      throw Errors.exportNoImages(in.data, in.layout().layout());
    }
    Column skip = notOk();
    Map<String, Long> skipped = new TreeMap<>();
    long total = exportable(in.pairs().withColumn(SKIP, skip), skipped);
    Map<String, Object> opts = new LinkedHashMap<>();
    opts.put("samples_per_shard", options.samplesPerShard());
    ExportOutput out = open(in, ExportFormat.WEBDATASET, opts);

    List<Column> cols = in.metadataColumns();
    cols.add(in.layout().imageBytes().as(WebDatasetFormat.IMAGE));
    Dataset<Row> rows = in.pairs().filter(skip.isNull()).select(cols.toArray(Column[]::new));
    List<Column> order = order(in);
    order.add(col(WebDatasetFormat.IMAGE));
    WebDatasetFormat fmt =
        new WebDatasetFormat(options.samplesPerShard(), in.hasUrl(), in.hasQuery(), in.scores);
    List<Unit> units =
        UnitWrites.write(spark, out, rows, order, total, options.samplesPerShard(), fmt, "shards");

    // open_clip takes the dataset size from sizes.json in the shard folder.
    Map<String, Long> sizes = new LinkedHashMap<>();
    List<Map<String, Object>> shards = new ArrayList<>();
    for (Unit u : units) {
      AtomicFile.Written w = u.files().get(0);
      sizes.put(w.path(), u.rows());
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("name", w.path());
      s.put("samples", u.rows());
      s.put("bytes", w.bytes());
      s.put("sha256", w.sha256());
      shards.add(s);
    }
    out.writeText(SIZES_FILE, ExportOutput.json(sizes));
    Map<String, Object> body = body(total, skipped);
    body.put("shards", shards);
    out.finish(body);
    return result(ExportFormat.WEBDATASET, total, units, out, skipped, start);
  }

  private Result clipRetrieval(ExportInput in, long start) {
    boolean hasImage = embedding(in, Columns.IMAGE_EMBEDDING);
    boolean hasText = embedding(in, Columns.TEXT_EMBEDDING);
    if (!hasImage && !hasText) {
      throw Errors.exportNoEmbeddings(
          in.data, "no column " + Columns.IMAGE_EMBEDDING + " or " + Columns.TEXT_EMBEDDING);
    }
    Sparks.describe(spark, "export", "count embeddings");
    Row present =
        in.pairs()
            .agg(
                count(hasImage ? col(Columns.IMAGE_EMBEDDING) : lit(null)),
                count(hasText ? col(Columns.TEXT_EMBEDDING) : lit(null)))
            .first();
    // A text-only embed leaves image_embedding all null: that tower is not exported.
    boolean image = present.getLong(0) > 0;
    boolean text = present.getLong(1) > 0;
    if (!image && !text) {
      throw Errors.exportNoEmbeddings(in.data, "every embedding is null");
    }
    Column status =
        in.has(Columns.EMBED_STATUS) ? coalesce(col(Columns.EMBED_STATUS), lit("null")) : lit("?");
    Column skip = notOk();
    if (image) {
      skip =
          when(
                  skip.isNull().and(col(Columns.IMAGE_EMBEDDING).isNull()),
                  concat(lit("no " + Columns.IMAGE_EMBEDDING + ": embed_status="), status))
              .otherwise(skip);
    }
    if (text) {
      skip =
          when(
                  skip.isNull().and(col(Columns.TEXT_EMBEDDING).isNull()),
                  concat(lit("no " + Columns.TEXT_EMBEDDING + ": embed_status="), status))
              .otherwise(skip);
    }
    Map<String, Long> skipped = new TreeMap<>();
    long total = exportable(in.pairs().withColumn(SKIP, skip), skipped);
    Map<String, Object> opts = new LinkedHashMap<>();
    opts.put("rows_per_part", options.rowsPerPart());
    opts.put("samples_per_shard", options.samplesPerShard()); // image_path is the shard key
    ExportOutput out = open(in, ExportFormat.CLIP_RETRIEVAL, opts);

    List<Column> cols = in.metadataColumns();
    List<Column> order = order(in);
    if (image) {
      cols.add(col(Columns.IMAGE_EMBEDDING));
      order.add(col(Columns.IMAGE_EMBEDDING));
    }
    if (text) {
      cols.add(col(Columns.TEXT_EMBEDDING));
      order.add(col(Columns.TEXT_EMBEDDING));
    }
    Dataset<Row> rows = in.pairs().filter(skip.isNull()).select(cols.toArray(Column[]::new));
    List<MetadataParquet.Field> meta = new ArrayList<>();
    meta.add(new MetadataParquet.Field(Columns.UID, MetadataParquet.Kind.STRING));
    if (in.hasUrl()) {
      meta.add(new MetadataParquet.Field(Columns.URL, MetadataParquet.Kind.STRING));
    }
    if (in.hasQuery()) {
      meta.add(new MetadataParquet.Field(Columns.QUERY, MetadataParquet.Kind.STRING));
    }
    for (String s : in.scores) {
      meta.add(new MetadataParquet.Field(s, MetadataParquet.Kind.of(in.type(s))));
    }
    ClipRetrievalFormat fmt = new ClipRetrievalFormat(image, text, options.samplesPerShard(), meta);
    List<Unit> units =
        UnitWrites.write(spark, out, rows, order, total, options.rowsPerPart(), fmt, "parts");
    Map<String, Object> body = body(total, skipped);
    body.put("image_embeddings", image);
    body.put("text_embeddings", text);
    body.put("parts", units.stream().map(Unit::json).toList());
    out.finish(body);
    return result(ExportFormat.CLIP_RETRIEVAL, total, units, out, skipped, start);
  }

  private Result dataCompUids(ExportInput in, long start) {
    if (!in.has(Columns.SOURCE_UID)) {
      throw Errors.exportNoDataCompUids(in.data, in.pairs().schema());
    }
    Column u = col(Columns.SOURCE_UID);
    Column valid = u.isNotNull().and(u.rlike("^[0-9a-fA-F]{32}$"));
    Sparks.describe(spark, "export", "check DataComp uids");
    Row check =
        in.pairs()
            .agg(
                count(lit(1)),
                count(when(not(valid), lit(1))),
                first(when(not(valid), coalesce(u, lit("null"))), true),
                first(when(not(valid), col(Columns.UID)), true))
            .first();
    if (check.getLong(1) > 0) {
      String example = check.getString(2);
      throw Errors.exportBadDataCompUid(
          in.data, check.getLong(1), "null".equals(example) ? null : example, check.getString(3));
    }
    long rowsIn = check.getLong(0);
    Dataset<Row> uids = in.pairs().select(lower(u).as(DataCompUidFormat.UID)).distinct();
    Sparks.describe(spark, "export", "count distinct DataComp uids");
    long total = uids.count();
    ExportOutput out = open(in, ExportFormat.DATACOMP_UIDS, new LinkedHashMap<>());
    List<Unit> units = new ArrayList<>(out.completed().values());
    if (units.isEmpty()) {
      if (total == 0) {
        units.add(empty(out));
      } else {
        // One sorted partition, one task: a DataComp subset is a single file. The range sort
        // spreads the sorting; coalescing keeps the partitions' order.
        Sparks.describe(spark, "export", "write DataComp uids");
        units.addAll(
            uids.orderBy(col(DataCompUidFormat.UID))
                .coalesce(1)
                .toJavaRDD()
                .zipWithIndex()
                .mapToPair(new UnitWrites.ByOrdinal())
                .mapPartitionsWithIndex(
                    new UnitTask(
                        new DataCompUidFormat(),
                        out.root().toString(),
                        new SerializableConfiguration(Paths.hadoopConf(spark)),
                        total,
                        total,
                        1),
                    false)
                .collect());
      }
    }
    Map<String, Object> body = body(total, new TreeMap<>());
    body.put("rows_in", rowsIn);
    body.put("duplicate_uids", rowsIn - total);
    body.put("dtype", Npy.UID_PAIR);
    body.put("files", units.stream().flatMap(x -> x.files().stream()).map(Unit::file).toList());
    out.finish(body);
    return result(ExportFormat.DATACOMP_UIDS, total, units, out, Map.of(), start);
  }

  private static Unit empty(ExportOutput out) {
    try {
      return DataCompUidFormat.writeEmpty(out);
    } catch (IOException e) {
      throw Errors.writeFailed(out.root() + "/" + DataCompUidFormat.FILE, e);
    }
  }

  /** The reason a row cannot be exported at all: its pair_status; null for an ok pair. */
  private static Column notOk() {
    Column st = col(Columns.PAIR_STATUS);
    return when(st.notEqual(lit(PairStatus.OK)), concat(lit("pair_status="), st))
        .otherwise(lit(null).cast("string"));
  }

  /** Rows to export (the skip column null); fills {@code skipped} by reason. */
  private long exportable(Dataset<Row> labelled, Map<String, Long> skipped) {
    Sparks.describe(spark, "export", "count rows");
    long total = 0;
    for (Row r : labelled.groupBy(col(SKIP)).count().collectAsList()) { // one row per reason
      if (r.isNullAt(0)) {
        total = r.getLong(1);
      } else {
        skipped.put(r.getString(0), r.getLong(1));
      }
    }
    if (!skipped.isEmpty()) {
      LOG.warn("export: rows skipped, by reason: {}", skipped);
    }
    return total;
  }

  /**
   * A total order of the exported content, uid first: rows that tie on every key are equal in every
   * exported byte, so their relative order cannot change the output.
   */
  private static List<Column> order(ExportInput in) {
    List<Column> order = new ArrayList<>();
    order.add(col(Columns.UID));
    order.add(col(Columns.CAPTION));
    if (in.hasUrl()) {
      order.add(col(Columns.URL));
    }
    if (in.hasQuery()) {
      order.add(col(Columns.QUERY));
    }
    for (String s : in.scores) {
      order.add(ResolvedLayout.column(s));
    }
    return order;
  }

  private static boolean embedding(ExportInput in, String column) {
    if (!in.has(column)) {
      return false;
    }
    DataType t = in.type(column);
    boolean ok =
        t instanceof BinaryType
            || (t instanceof ArrayType a && a.elementType() instanceof NumericType);
    if (!ok) {
      throw Errors.exportNoEmbeddings(in.data, column + " has type " + t.simpleString());
    }
    return true;
  }

  private ExportOutput open(ExportInput in, ExportFormat format, Map<String, Object> opts) {
    Map<String, Object> identity = new LinkedHashMap<>();
    identity.put("format", format.label());
    identity.put("input", options.input());
    identity.put("input_fingerprint", in.fingerprint);
    identity.put("columns", in.layout().roles());
    identity.put("options", opts);
    return ExportOutput.open(spark, options.out(), options.overwrite(), identity);
  }

  private static Map<String, Object> body(long total, Map<String, Long> skipped) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("total", total);
    m.put("skipped", skipped);
    return m;
  }

  private Result result(
      ExportFormat format,
      long total,
      List<Unit> units,
      ExportOutput out,
      Map<String, Long> skipped,
      long start) {
    return new Result(
        format,
        options.out(),
        total,
        units.size(),
        out.completed().size(),
        java.util.Collections.unmodifiableMap(new TreeMap<>(skipped)),
        (System.nanoTime() - start) / 1e9);
  }
}
