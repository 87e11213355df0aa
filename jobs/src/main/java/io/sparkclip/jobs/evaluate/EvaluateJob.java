package io.sparkclip.jobs.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code sparkclip evaluate}: the decisions of a curate run against the generator's ground truth.
 *
 * <ul>
 *   <li>shuffled-caption detection: among embedded pairs that reached the filter, a pair is flagged
 *       when a score rule rejected it; truth is the {@code shuffled_caption} fault;
 *   <li>dedup per duplicate kind: an injected duplicate whose pair (copy and original) both reached
 *       dedup is found when dedup removed either of them; precision is the share of dedup removals
 *       that belong to an injected duplicate pair;
 *   <li>cap compliance: the largest per-query count after balance against the cap.
 * </ul>
 */
public final class EvaluateJob {
  private static final List<String> SCORE_RULES =
      List.of(
          RejectReason.LOW_CLIP_SCORE,
          RejectReason.BELOW_GLOBAL_TOP,
          RejectReason.BELOW_QUERY_TOP,
          RejectReason.CONTRASTIVE_RANK,
          RejectReason.LOW_QUERY_SCORE);
  private static final List<FaultKind> DUPLICATE_KINDS =
      List.of(FaultKind.EXACT_DUPLICATE, FaultKind.URL_DUPLICATE, FaultKind.NEAR_DUPLICATE);

  /**
   * Precision and recall of one detector; NaN when undefined (nothing flagged / nothing to find).
   */
  public record Detection(long truePositives, long flagged, long actual) {
    public double precision() {
      return flagged == 0 ? Double.NaN : (double) truePositives / flagged;
    }

    public double recall() {
      return actual == 0 ? Double.NaN : (double) truePositives / actual;
    }

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("true_positives", truePositives);
      m.put("flagged", flagged);
      m.put("actual", actual);
      m.put("precision", Double.isNaN(precision()) ? null : precision());
      m.put("recall", Double.isNaN(recall()) ? null : recall());
      return m;
    }
  }

  public record Evaluation(
      Optional<Detection> shuffledCaptions,
      Map<String, Detection> duplicatesByKind,
      Optional<Detection> dedupOverall,
      Map<String, Detection> semanticDuplicatesByKind,
      Optional<Detection> semdedupOverall,
      Optional<Detection> evalOverlap,
      Optional<Long> maxPerQuery,
      Optional<Long> cap) {
    public boolean capHolds() {
      return maxPerQuery.isEmpty() || cap.isEmpty() || maxPerQuery.get() <= cap.get();
    }

    public String render() {
      StringBuilder sb = new StringBuilder("Curation quality against the ground truth\n");
      shuffledCaptions.ifPresent(d -> sb.append(line("shuffled captions (filter)", d)));
      duplicatesByKind.forEach((k, d) -> sb.append(line(k + " (dedup)", d)));
      dedupOverall.ifPresent(d -> sb.append(line("dedup removals", d)));
      semanticDuplicatesByKind.forEach((k, d) -> sb.append(line(k + " (semdedup)", d)));
      semdedupOverall.ifPresent(d -> sb.append(line("semdedup removals", d)));
      evalOverlap.ifPresent(d -> sb.append(line("eval copies (decontaminate)", d)));
      maxPerQuery.ifPresent(
          m ->
              sb.append(
                  String.format(
                      "  %-30s largest query %,d, cap %s: %s%n",
                      "cap (balance)",
                      m,
                      cap.map(String::valueOf).orElse("?"),
                      capHolds() ? "holds" : "VIOLATED")));
      return sb.toString();
    }

    private static String line(String name, Detection d) {
      return String.format(
          Locale.ROOT,
          "  %-30s precision %s  recall %s  (%d found of %d, %d flagged)%n",
          name,
          pct(d.precision()),
          pct(d.recall()),
          d.truePositives(),
          d.actual(),
          d.flagged());
    }

    private static String pct(double v) {
      return Double.isNaN(v) ? "  n/a " : String.format(Locale.ROOT, "%6.3f", v);
    }
  }

  private final SparkSession spark;
  private final String groundTruth;
  private final String curated;
  private final Long cap;

  public EvaluateJob(SparkSession spark, String groundTruth, String curated, Long cap) {
    this.spark = spark;
    this.groundTruth = groundTruth;
    this.curated = curated;
    this.cap = cap;
  }

  public Evaluation run() {
    Dataset<Row> gt = Paths.readParquet(spark, groundTruth);
    if (!CurationOutput.has(gt, Columns.FAULT)) {
      throw Errors.notGroundTruth(groundTruth);
    }
    Sparks.describe(spark, "evaluate", "compare with ground truth");
    Optional<String> score = stage("score");
    Optional<String> filter = stage("filter");
    Optional<String> dedup = stage("dedup");
    Optional<String> balance = stage("balance");

    Optional<Detection> shuffled = Optional.empty();
    if (score.isPresent() && filter.isPresent()) {
      Dataset<Row> population =
          spark
              .read()
              .parquet(CurationOutput.data(score.get()))
              .filter(col(Columns.EMBED_STATUS).equalTo("ok"))
              .select(Columns.UID);
      Dataset<Row> flagged =
          spark
              .read()
              .parquet(CurationOutput.rejects(filter.get()))
              .filter(col(Columns.REASON).isin(SCORE_RULES.toArray()))
              .select(Columns.UID);
      Dataset<Row> truth =
          gt.filter(col(Columns.FAULT).equalTo(FaultKind.SHUFFLED_CAPTION.label()))
              .select(Columns.UID)
              .join(population, Columns.UID);
      shuffled =
          Optional.of(
              new Detection(
                  flagged.join(truth, Columns.UID).count(), flagged.count(), truth.count()));
    }

    Map<String, Detection> byKind = new LinkedHashMap<>();
    Optional<Detection> dedupAll = Optional.empty();
    if (dedup.isPresent()) {
      Dataset<Row> removed =
          spark
              .read()
              .parquet(CurationOutput.rejects(dedup.get()))
              .filter(
                  col(Columns.REASON)
                      .startsWith("duplicate")
                      .or(col(Columns.REASON).startsWith("near_duplicate")));
      dedupAll = Optional.of(duplicates(gt, previousData("dedup"), removed, byKind));
    }
    Map<String, Detection> semanticByKind = new LinkedHashMap<>();
    Optional<Detection> semanticAll = Optional.empty();
    Optional<String> semdedup = stage("semdedup");
    if (semdedup.isPresent()) {
      Dataset<Row> removed =
          spark
              .read()
              .parquet(CurationOutput.rejects(semdedup.get()))
              .filter(col(Columns.REASON).equalTo(RejectReason.SEMANTIC_DUPLICATE));
      semanticAll = Optional.of(duplicates(gt, previousData("semdedup"), removed, semanticByKind));
    }

    Optional<Detection> evalOverlap = Optional.empty();
    Optional<String> decontaminate = stage(Stages.DECONTAMINATE);
    if (decontaminate.isPresent()) {
      evalOverlap = Optional.of(evalCopies(gt, decontaminate.get()));
    }

    Optional<Long> maxQ = Optional.empty();
    if (balance.isPresent()) {
      Row r =
          spark
              .read()
              .parquet(CurationOutput.data(balance.get()))
              .groupBy(Columns.QUERY)
              .count()
              .agg(max("count"))
              .first();
      maxQ = r.isNullAt(0) ? Optional.empty() : Optional.of(r.getLong(0));
    }
    Evaluation e =
        new Evaluation(
            shuffled,
            byKind,
            dedupAll,
            semanticByKind,
            semanticAll,
            evalOverlap,
            maxQ,
            Optional.ofNullable(cap));
    write(e);
    return e;
  }

  /**
   * decontaminate against the injected eval copies that reached it: found when rejected as
   * eval_overlap with the eval item they copy as related_uid; precision over every eval_overlap
   * reject.
   */
  private Detection evalCopies(Dataset<Row> gt, String dir) {
    Dataset<Row> reached =
        spark.read().parquet(previousData(Stages.DECONTAMINATE)).select(Columns.UID).distinct();
    Dataset<Row> truth =
        gt.filter(col(Columns.FAULT).equalTo(FaultKind.EVAL_COPY.label()))
            .select(col(Columns.UID), col(Columns.ORIGINAL_UID))
            .join(reached, Columns.UID);
    Dataset<Row> flagged =
        spark
            .read()
            .parquet(CurationOutput.rejects(dir))
            .filter(col(Columns.REASON).equalTo(RejectReason.EVAL_OVERLAP))
            .select(col(Columns.UID), col(Columns.RELATED_UID));
    long right =
        flagged
            .join(
                truth,
                flagged
                    .col(Columns.UID)
                    .equalTo(truth.col(Columns.UID))
                    .and(flagged.col(Columns.RELATED_UID).equalTo(truth.col(Columns.ORIGINAL_UID))),
                "left_semi")
            .count();
    return new Detection(right, flagged.count(), truth.count());
  }

  /**
   * Recall per duplicate kind and overall precision of one dedup stage. Population: injected
   * duplicate pairs whose copy and original both reached the stage ({@code reachedData}, the
   * stage's input). A pair is found when the stage removed either of them. Precision: the share of
   * removals that are a member of such a pair.
   *
   * @param removed the stage's rejects with a duplicate reason
   * @param byKind filled with one recall-only {@link Detection} per kind, plus "all"
   * @return precision over the removals (recall-less)
   */
  private Detection duplicates(
      Dataset<Row> gt, String reachedData, Dataset<Row> removed, Map<String, Detection> byKind) {
    Dataset<Row> reached = spark.read().parquet(reachedData).select(Columns.UID);
    Dataset<Row> gone = removed.select(col(Columns.UID).as("_r"));
    Dataset<Row> pairs =
        gt.filter(col(Columns.FAULT).isin(DUPLICATE_KINDS.stream().map(FaultKind::label).toArray()))
            .select(col(Columns.UID), col(Columns.ORIGINAL_UID), col(Columns.FAULT))
            .join(reached, Columns.UID)
            .join(
                reached.withColumnRenamed(Columns.UID, "_o"),
                col(Columns.ORIGINAL_UID).equalTo(col("_o")))
            .drop("_o");
    org.apache.spark.sql.Column either =
        col("_r").equalTo(col(Columns.UID)).or(col("_r").equalTo(col(Columns.ORIGINAL_UID)));
    for (FaultKind k : DUPLICATE_KINDS) {
      Dataset<Row> kind = pairs.filter(col(Columns.FAULT).equalTo(k.label()));
      byKind.put(
          k.label(), new Detection(kind.join(gone, either, "left_semi").count(), 0, kind.count()));
    }
    byKind.put(
        "all", new Detection(pairs.join(gone, either, "left_semi").count(), 0, pairs.count()));
    Dataset<Row> members =
        pairs
            .select(col(Columns.UID).as("_m"))
            .union(pairs.select(col(Columns.ORIGINAL_UID).as("_m")))
            .distinct();
    long correct = gone.join(members, col("_r").equalTo(col("_m")), "left_semi").count();
    return new Detection(correct, gone.count(), 0);
  }

  private void write(Evaluation e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("curated", curated);
    m.put("ground_truth", groundTruth);
    e.shuffledCaptions().ifPresent(d -> m.put("shuffled_captions", d.json()));
    Map<String, Object> dups = new LinkedHashMap<>();
    e.duplicatesByKind()
        .forEach(
            (k, d) ->
                dups.put(
                    k,
                    Map.of(
                        "found",
                        d.truePositives(),
                        "injected",
                        d.actual(),
                        "recall",
                        Double.isNaN(d.recall()) ? "n/a" : d.recall())));
    m.put("duplicates_recall", dups);
    e.dedupOverall()
        .ifPresent(
            d -> m.put("dedup_precision", Double.isNaN(d.precision()) ? null : d.precision()));
    if (!e.semanticDuplicatesByKind().isEmpty()) {
      Map<String, Object> sem = new LinkedHashMap<>();
      e.semanticDuplicatesByKind().forEach((k, d) -> sem.put(k, d.json()));
      m.put("semantic_duplicates_recall", sem);
    }
    e.semdedupOverall()
        .ifPresent(
            d -> m.put("semdedup_precision", Double.isNaN(d.precision()) ? null : d.precision()));
    e.evalOverlap().ifPresent(d -> m.put("eval_copies", d.json()));
    e.maxPerQuery().ifPresent(x -> m.put("max_per_query", x));
    e.cap().ifPresent(x -> m.put("cap", x));
    m.put("cap_holds", e.capHolds());
    try {
      Paths.writeText(
          spark,
          new Path(curated, StageFiles.EVALUATION_FILE).toString(),
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m)
              + "\n");
    } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** The directory of a curate stage ("<n>-<stage>"), if it ran. */
  private Optional<String> stage(String name) {
    try {
      FileSystem fs = Paths.fs(spark, curated);
      for (FileStatus s : fs.listStatus(new Path(curated))) {
        String n = s.getPath().getName();
        if (s.isDirectory() && n.matches("\\d+-" + name)) {
          return Optional.of(s.getPath().toString());
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The data/ the named stage read: the previous stage's output. */
  private String previousData(String name) {
    try {
      FileSystem fs = Paths.fs(spark, curated);
      String prev = null;
      FileStatus[] all = fs.listStatus(new Path(curated));
      // By stage number: 10-filter runs after 9-score.
      java.util.Arrays.sort(
          all,
          java.util.Comparator.comparingLong(
              (FileStatus s) -> {
                String n = s.getPath().getName();
                return n.matches("\\d+-.*") ? Long.parseLong(n.substring(0, n.indexOf('-'))) : -1;
              }));
      for (FileStatus s : all) {
        String n = s.getPath().getName();
        if (n.matches("\\d+-" + name)) {
          if (prev == null) {
            throw Errors.evaluateFirstStage(name, curated);
          }
          return CurationOutput.data(prev);
        }
        if (s.isDirectory() && n.matches("\\d+-.*")) {
          prev = s.getPath().toString();
        }
      }
      throw new IllegalStateException("no stage " + name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
