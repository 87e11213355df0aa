package io.sparkclip.jobs.decontaminate;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.schemas.Stages;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * decontaminate against the generator's ground truth: a pool in which 4 % of the rows are
 * re-encoded, resized or cropped copies of a held-out evaluation set (written beside the pool with
 * 60 more items the pool never copies), every copy recorded with the eval item it copies. Found
 * means rejected with reason eval_overlap and the right eval id as related_uid.
 */
class DecontaminateJobTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static String raw;
  static String evalDir;

  /** Pool uid → eval key it copies, and pool uid → how (resized / cropped / reencoded). */
  static final Map<String, String> COPIES = new HashMap<>();

  static final Map<String, String> HOW = new HashMap<>();

  static final int EXTRA = 60;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("DecontaminateJobTest");
    raw = tmp.resolve("raw").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(1_500, raw)
                .seed(5)
                .shardSize(500)
                .queries(60)
                .sides(64, 320)
                .evalSet(0.04, EXTRA)
                .build())
        .run();
    evalDir = tmp.resolve("raw").resolve(StageFiles.EVAL_SET_DIR).toString();
    for (Row r :
        spark
            .read()
            .parquet(raw + "/" + StageFiles.GROUND_TRUTH_DIR)
            .filter(col(Columns.FAULT).equalTo(FaultKind.EVAL_COPY.label()))
            .select(Columns.UID, Columns.ORIGINAL_UID, Columns.DETAIL)
            .collectAsList()) {
      COPIES.put(r.getString(0), r.getString(1));
      HOW.put(r.getString(0), r.getString(2).split(" ")[0]);
    }
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** An image file of the eval folder (not its captions nor the local file system's checksums). */
  static boolean isEvalImage(Path p) {
    String n = p.getFileName().toString();
    return !n.startsWith(".") && (n.endsWith(".jpg") || n.endsWith(".png"));
  }

  static CurationSummary run(String out, StageConf extra) {
    StageConf c = StageConf.io(raw, out).withFallback(extra);
    DecontaminateStage stage = new DecontaminateStage();
    return stage.run(spark, stage.options(c));
  }

  static StageConf evalSets(String... specs) {
    return StageConf.empty().with(DecontaminateJob.Options.EVAL_SETS, List.of(specs));
  }

  @Test
  void theGeneratorWritesTheEvalSetItsCopiesCopy() throws IOException {
    long images;
    try (Stream<Path> s = Files.list(Path.of(evalDir))) {
      images = s.filter(DecontaminateJobTest::isEvalImage).count();
    }
    assertThat(COPIES).as("eval copies injected (4 % of 1,500)").hasSizeBetween(35, 90);
    assertThat(images)
        .as("eval set: one image per copied item plus the extra ones")
        .isEqualTo(COPIES.size() + EXTRA);
    for (String key : COPIES.values()) {
      assertThat(
              Files.exists(Path.of(evalDir, key + ".jpg"))
                  || Files.exists(Path.of(evalDir, key + ".png")))
          .as("the copied eval item " + key + " is in the eval set")
          .isTrue();
    }
    assertThat(new java.util.TreeSet<>(HOW.values()))
        .as("every kind of copy is injected")
        .containsExactly("cropped", "reencoded", "resized");
  }

  @Test
  void findsTheInjectedCopiesWithTheirEvalIds() throws IOException {
    String out = tmp.resolve("decon").toString();
    CurationSummary s = run(out, evalSets("gen=" + evalDir));
    CurationChecks.assertAccounting(
        spark,
        "decontaminate",
        CurationInput.read(spark, raw, ColumnMapping.DETECT).pairs(),
        out,
        s);

    Map<String, String> found = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(CurationOutput.rejects(out))
            .filter(col(Columns.REASON).equalTo(RejectReason.EVAL_OVERLAP))
            .select(Columns.UID, Columns.RELATED_UID, Columns.STAGE, Columns.DETAIL)
            .collectAsList()) {
      assertThat(r.getString(2)).as("reject stage").isEqualTo(Stages.REJECT_DECONTAMINATE);
      assertThat(r.getString(3)).as("detail names the set").startsWith("copy of gen item ");
      found.put(r.getString(0), r.getString(1));
    }
    long right =
        found.entrySet().stream().filter(e -> e.getValue().equals(COPIES.get(e.getKey()))).count();
    double recall = (double) right / COPIES.size();
    double precision = found.isEmpty() ? 0 : (double) right / found.size();
    Map<String, String> detailOf = new HashMap<>();
    spark
        .read()
        .parquet(raw + "/" + StageFiles.GROUND_TRUTH_DIR)
        .select(Columns.UID, Columns.DETAIL, Columns.KEY)
        .collectAsList()
        .forEach(r -> detailOf.put(r.getString(0), r.getString(2) + " " + r.getString(1)));
    List<String> missed =
        COPIES.keySet().stream()
            .filter(u -> !COPIES.get(u).equals(found.get(u)))
            .map(detailOf::get)
            .sorted()
            .toList();
    Map<String, int[]> perKind = new TreeMap<>();
    COPIES.forEach(
        (uid, key) -> {
          int[] c = perKind.computeIfAbsent(HOW.get(uid), k -> new int[2]);
          c[1]++;
          if (key.equals(found.get(uid))) {
            c[0]++;
          }
        });
    String summary =
        String.format(
            "recall %.3f, precision %.3f (%d found, %d right, %d injected); per kind %s; missed %s",
            recall,
            precision,
            found.size(),
            right,
            COPIES.size(),
            perKind.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()[0] + "/" + e.getValue()[1])
                .toList(),
            missed);
    System.out.println("decontaminate: " + summary);
    assertThat(recall).as("recall: " + summary).isGreaterThanOrEqualTo(0.95);
    assertThat(precision).as("precision: " + summary).isGreaterThanOrEqualTo(0.99);
    perKind.forEach(
        (kind, c) ->
            assertThat((double) c[0] / c[1])
                .as("recall of " + kind + " copies: " + summary)
                .isGreaterThanOrEqualTo(0.9));

    // The overlap table, as the paper's: items, items found, share of the set, pool rows.
    JsonNode table =
        new ObjectMapper()
            .readTree(Path.of(out, StageFiles.EVAL_OVERLAP_FILE).toFile())
            .get("eval_sets");
    assertThat(table.size()).as("one line per eval set").isEqualTo(1);
    JsonNode g = table.get(0);
    long foundItems = found.values().stream().distinct().count();
    assertThat(g.get("name").asText()).as("name").isEqualTo("gen");
    assertThat(g.get("items").asLong()).as("items").isEqualTo(COPIES.size() + EXTRA);
    assertThat(g.get("items_found").asLong())
        .as("eval items found in the pool")
        .isEqualTo(foundItems);
    assertThat(g.get("pool_rows").asLong()).as("pool rows removed").isEqualTo(found.size());
    assertThat(g.get("percent_found").asDouble())
        .as("percent of the set found")
        .isCloseTo(
            100.0 * foundItems / (COPIES.size() + EXTRA),
            org.assertj.core.data.Offset.offset(0.01));

    // The matched pairs and the report's samples with both images.
    assertThat(spark.read().parquet(out + "/" + StageFiles.EVAL_OVERLAP_DIR).count())
        .as("overlap pairs")
        .isEqualTo(found.size());
    List<Row> samples =
        spark.read().parquet(out + "/" + StageFiles.EVAL_OVERLAP_SAMPLES_DIR).collectAsList();
    assertThat(samples)
        .as("samples")
        .hasSize(Math.min(found.size(), DecontaminateJob.Options.SAMPLES_DEFAULT));
    for (Row r : samples) {
      String uid = r.getAs(Columns.UID);
      assertThat((String) r.getAs(Columns.EVAL_ID))
          .as("sample pairs a reject with its eval item")
          .isEqualTo(found.get(uid));
      assertThat(ImageIO.read(new ByteArrayInputStream(r.getAs(Columns.EVAL_IMAGE))))
          .as("eval image decodes")
          .isNotNull();
      assertThat(ImageIO.read(new ByteArrayInputStream(r.getAs(Columns.POOL_IMAGE))))
          .as("pool image decodes")
          .isNotNull();
    }
  }

  @Test
  void markOnlyKeepsEveryRowAndMarksTheSameCopiesFromAParquetEvalSet() throws IOException {
    // The eval set again, as Parquet with key and image bytes (img2dataset's column names).
    List<Row> rows = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of(evalDir))) {
      for (Path p : s.filter(DecontaminateJobTest::isEvalImage).toList()) {
        String name = p.getFileName().toString();
        rows.add(RowFactory.create(name.substring(0, name.indexOf('.')), Files.readAllBytes(p)));
      }
    }
    String parquet = tmp.resolve("eval-parquet").toString();
    spark
        .createDataFrame(
            rows,
            new StructType()
                .add(Columns.KEY, DataTypes.StringType)
                .add(Columns.JPG, DataTypes.BinaryType))
        .repartition(2)
        .write()
        .parquet(parquet);
    String out = tmp.resolve("marked").toString();
    CurationSummary s = run(out, evalSets("held_out=" + parquet).with(StageKeys.MARK_ONLY, true));
    assertThat(s.rejected().getOrDefault(Stages.REJECT_DECONTAMINATE, Map.of()))
        .as("mark-only rejects only unusable rows, never a copy")
        .doesNotContainKey(RejectReason.EVAL_OVERLAP)
        .isNotEmpty();
    Map<String, String> marked = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(CurationOutput.data(out))
            .filter(col(Columns.EVAL_ID).isNotNull())
            .select(Columns.UID, Columns.EVAL_ID, Columns.EVAL_SET)
            .collectAsList()) {
      assertThat(r.getString(2)).as("eval set").isEqualTo("held_out");
      marked.put(r.getString(0), r.getString(1));
    }
    long right =
        marked.entrySet().stream().filter(e -> e.getValue().equals(COPIES.get(e.getKey()))).count();
    assertThat((double) right / COPIES.size())
        .as("recall from the Parquet eval set")
        .isGreaterThanOrEqualTo(0.95);
    assertThat((double) right / marked.size())
        .as("precision from the Parquet eval set")
        .isGreaterThanOrEqualTo(0.99);
  }

  @Test
  void anEvalSetThePoolNeverCopiedMatchesNothing() {
    String other = tmp.resolve("other").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(40, other)
                .seed(99)
                .sides(64, 320)
                .evalSet(0.0, 200)
                .build())
        .run();
    String out = tmp.resolve("unrelated").toString();
    CurationSummary s = run(out, evalSets("other=" + other + "/" + StageFiles.EVAL_SET_DIR));
    long matched =
        s.rejected()
            .getOrDefault(Stages.REJECT_DECONTAMINATE, Map.of())
            .getOrDefault(RejectReason.EVAL_OVERLAP, 0L);
    assertThat(matched)
        .as("pool rows matched to 200 distinct eval images of another seed")
        .isZero();
  }

  @Test
  void badSetsFailBeforeAnyWork() throws IOException {
    String out = tmp.resolve("never").toString();
    for (String bad : List.of("noequals", "Upper=/x", "a=", "=/x")) {
      assertThatThrownBy(() -> run(out, evalSets(bad)))
          .as("spec " + bad)
          .isInstanceOfSatisfying(
              SparkclipException.class,
              e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.EVAL_SPEC_INVALID));
    }
    assertThatThrownBy(() -> run(out, evalSets("a=" + evalDir, "a=" + evalDir)))
        .as("a name twice")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.EVAL_SPEC_INVALID));
    assertThatThrownBy(() -> run(out, StageConf.empty()))
        .as("no eval set")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.OPTION_MISSING));
    assertThatThrownBy(() -> run(out, evalSets("gt=" + raw + "/" + StageFiles.GROUND_TRUTH_DIR)))
        .as("an eval set without images")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).isEqualTo(ErrorId.EVAL_SET_NO_IMAGES));
    Path junk = tmp.resolve("junk");
    Files.createDirectories(junk);
    Files.write(junk.resolve("a.jpg"), "<html>not found</html>".getBytes());
    Files.write(junk.resolve("b.png"), new byte[0]);
    assertThatThrownBy(() -> run(tmp.resolve("junk-out").toString(), evalSets("junk=" + junk)))
        .as("an eval set whose images do not decode")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> {
              assertThat(e.id()).isEqualTo(ErrorId.EVAL_SET_NO_IMAGES);
              assertThat(e.getMessage()).contains("none of its 2 images decodes");
            });
    assertThat(Files.exists(Path.of(out))).as("no output for a bad set").isFalse();

    String meta = tmp.resolve("meta").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(30, meta).metadataOnly(true).build()).run();
    assertThatThrownBy(
            () -> {
              StageConf c =
                  StageConf.io(meta, tmp.resolve("meta-out").toString())
                      .withFallback(evalSets("gen=" + evalDir));
              DecontaminateStage stage = new DecontaminateStage();
              stage.run(spark, stage.options(c));
            })
        .as("metadata-only pairs")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).isEqualTo(ErrorId.DECONTAMINATE_NO_IMAGES));
  }
}
