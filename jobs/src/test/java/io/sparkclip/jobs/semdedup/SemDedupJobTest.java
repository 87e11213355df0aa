package io.sparkclip.jobs.semdedup;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.embed.EmbedJob;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.KeepPolicy;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.schemas.StageFiles;
import io.sparkclip.udfs.embed.Vectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SemDedupJobTest {
  private static final int D = 8;

  /** Rotation step in the e0–e3 plane: cos(θ) = 0.995 ≥ 0.99 but cos(2θ) ≈ 0.980 < 0.99. */
  private static final double THETA = Math.acos(0.995);

  @TempDir static Path tmp;
  static SparkSession spark;
  static String handBuilt;
  static String handBuiltFp16;
  static Map<String, float[]> vectors = new TreeMap<>();

  @BeforeAll
  static void setUp() {
    spark = LocalSpark.start("SemDedupJobTest");
    handBuilt = tmp.resolve("hand").toString();
    handBuiltFp16 = tmp.resolve("hand-fp16").toString();
    writeHandBuilt(handBuilt, false);
    writeHandBuilt(handBuiltFp16, true);
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  private static float[] rotated(int base, int towards, double angle) {
    float[] v = new float[D];
    v[base] = (float) Math.cos(angle);
    v[towards] = (float) Math.sin(angle);
    return v;
  }

  /**
   * Metadata-only pairs with hand-made embeddings (url = caption = name):
   *
   * <ul>
   *   <li>a1..a4 around e0 at angles 0, θ, 2θ, 4θ: a1–a2 and a2–a3 are duplicates, a1–a3 is not (a
   *       chain: one group {a1, a2, a3}); a4 is far from all;
   *   <li>b1 = b2 = e1 (identical); b3 at cosine 0.985 to e1 (not a duplicate at ε = 0.01);
   *   <li>c1 = e2 alone; z a zero vector; n without embedding; m without caption.
   * </ul>
   *
   * a2 is the largest image, b1 and b2 the same size.
   */
  private static void writeHandBuilt(String dir, boolean fp16) {
    Map<String, float[]> v = new TreeMap<>();
    v.put("a1", rotated(0, 3, 0));
    v.put("a2", rotated(0, 3, THETA));
    v.put("a3", rotated(0, 3, 2 * THETA));
    v.put("a4", rotated(0, 3, 4 * THETA));
    v.put("b1", rotated(1, 4, 0));
    v.put("b2", rotated(1, 4, 0));
    v.put("b3", rotated(1, 4, Math.acos(0.985)));
    v.put("c1", rotated(2, 5, 0));
    v.put("z", new float[D]);
    v.put("n", null);
    v.put("m", rotated(2, 6, 1.2));
    Map<String, Integer> side = Map.of("a2", 400, "b1", 200, "b2", 200);
    StructType schema =
        new StructType()
            .add(Columns.URL, DataTypes.StringType, false)
            .add(Columns.CAPTION, DataTypes.StringType, true)
            .add(Columns.WIDTH, DataTypes.IntegerType, true)
            .add(Columns.HEIGHT, DataTypes.IntegerType, true)
            .add(
                Columns.IMAGE_EMBEDDING,
                fp16 ? DataTypes.BinaryType : DataTypes.createArrayType(DataTypes.FloatType),
                true);
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, float[]> e : v.entrySet()) {
      String name = e.getKey();
      int s = side.getOrDefault(name, 100);
      Object emb =
          e.getValue() == null ? null : fp16 ? Vectors.packFp16(e.getValue()) : e.getValue();
      rows.add(
          RowFactory.create(
              "https://example.com/" + name, name.equals("m") ? null : name, s, s, emb));
    }
    spark.createDataFrame(rows, schema).coalesce(2).write().parquet(dir);
    if (!fp16) {
      vectors.putAll(v);
    }
  }

  /** Name → uid of the rows kept in an output (the name is the last url segment). */
  private static Map<String, String> uids(String out) {
    Map<String, String> m = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(CurationOutput.data(out))
            .select(Columns.URL, Columns.UID)
            .collectAsList()) {
      m.put(r.getString(0).replaceFirst(".*/", ""), r.getString(1));
    }
    return m;
  }

  /** name → (reason, related name) of the rejects. */
  private static Map<String, List<String>> rejects(String out) {
    Dataset<Row> rej = spark.read().parquet(CurationOutput.rejects(out));
    Dataset<Row> in =
        io.sparkclip.jobs.stage.CurationInput.read(
                spark, handBuilt, io.sparkclip.schemas.ColumnMapping.DETECT)
            .pairs()
            .select(Columns.UID, Columns.URL);
    Map<String, String> nameOf = new HashMap<>();
    for (Row r : in.collectAsList()) {
      nameOf.put(r.getString(0), r.getString(1).replaceFirst(".*/", ""));
    }
    Map<String, List<String>> m = new TreeMap<>();
    for (Row r : rej.collectAsList()) {
      String related = r.getString(r.fieldIndex(Columns.RELATED_UID));
      m.put(
          nameOf.get(r.getString(r.fieldIndex(Columns.UID))),
          List.of(
              r.getString(r.fieldIndex(Columns.REASON)),
              related == null ? "-" : nameOf.get(related)));
    }
    return m;
  }

  /** Brute force: connected groups of all rows with cosine ≥ 1 − ε, no clustering. */
  private static Set<Set<String>> bruteForceGroups(double eps) {
    List<String> names = new ArrayList<>();
    vectors.forEach(
        (k, v) -> {
          if (v != null && !k.equals("m") && Vectors.cosine(v, v) > 0) {
            names.add(k);
          }
        });
    Map<String, String> parent = new HashMap<>();
    names.forEach(n -> parent.put(n, n));
    for (int i = 0; i < names.size(); i++) {
      for (int j = i + 1; j < names.size(); j++) {
        if (Vectors.cosine(vectors.get(names.get(i)), vectors.get(names.get(j))) >= 1 - eps) {
          parent.put(find(parent, names.get(i)), find(parent, names.get(j)));
        }
      }
    }
    Map<String, Set<String>> groups = new HashMap<>();
    names.forEach(n -> groups.computeIfAbsent(find(parent, n), k -> new TreeSet<>()).add(n));
    Set<Set<String>> out = new HashSet<>();
    groups.values().stream().filter(g -> g.size() > 1).forEach(out::add);
    return out;
  }

  private static String find(Map<String, String> parent, String n) {
    while (!parent.get(n).equals(n)) {
      n = parent.get(n);
    }
    return n;
  }

  /** Groups as written: semantic_group over data + rejects (rejects joined back by uid). */
  private static Set<Set<String>> writtenGroups(String out) {
    Dataset<Row> all = spark.read().parquet(CurationOutput.data(out));
    Map<String, Set<String>> g = new HashMap<>();
    for (Row r :
        all.filter(col(Columns.SEMANTIC_GROUP).isNotNull())
            .select(Columns.SEMANTIC_GROUP, Columns.URL)
            .collectAsList()) {
      g.computeIfAbsent(r.getString(0), k -> new TreeSet<>())
          .add(r.getString(1).replaceFirst(".*/", ""));
    }
    return new HashSet<>(g.values());
  }

  @Test
  void chainsAndIdenticalEmbeddingsFormGroupsThatKeepOneRowByPolicy() {
    String out = tmp.resolve("sem-k3").toString();
    CurationSummary s =
        new SemDedupJob(
                spark,
                SemDedupJob.Options.from(
                    StageConf.io(handBuilt, out).with(SemDedupJob.Options.CLUSTERS, 3)))
            .run();
    assertThat(s.balanced()).as("in = out + rejected").isTrue();
    assertThat(s.rowsIn()).as("rows in").isEqualTo(11);
    Map<String, List<String>> rej = rejects(out);
    String bKept = uids(out).containsKey("b1") ? "b1" : "b2";
    String bDup = bKept.equals("b1") ? "b2" : "b1";
    assertThat(rej)
        .as("a1 and a3 duplicate the largest a2 (a chain); one of b1 = b2; m has no caption")
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "a1",
                List.of(RejectReason.SEMANTIC_DUPLICATE, "a2"),
                "a3",
                List.of(RejectReason.SEMANTIC_DUPLICATE, "a2"),
                bDup,
                List.of(RejectReason.SEMANTIC_DUPLICATE, bKept),
                "m",
                List.of(PairStatus.MISSING_CAPTION, "-")));
    assertThat(uids(out).keySet())
        .as("kept: group heads, the far a4, b3 at cosine 0.985, c1, zero vector, no embedding")
        .containsExactlyInAnyOrder("a2", "a4", bKept, "b3", "c1", "z", "n");
    Dataset<Row> data = spark.read().parquet(CurationOutput.data(out));
    assertThat(data.filter(col(Columns.SEMANTIC_CLUSTER).isNull()).count())
        .as("rows without a usable embedding have no cluster (z, n)")
        .isEqualTo(2);
    assertThat(data.select(Columns.SEMANTIC_CLUSTER).distinct().count() - 1)
        .as("k-means clusters used")
        .isEqualTo(3);
    assertThat(s.details()).as("k in the summary").containsEntry("clusters", 3);
  }

  @Test
  void groupsEqualABruteForceOverAllPairs() {
    Set<Set<String>> expected = bruteForceGroups(0.01);
    assertThat(expected)
        .as("brute-force groups of the fixture")
        .containsExactlyInAnyOrder(Set.of("a1", "a2", "a3"), Set.of("b1", "b2"));
    for (int k : new int[] {1}) {
      String out = tmp.resolve("sem-mark-k" + k).toString();
      CurationSummary s =
          new SemDedupJob(
                  spark,
                  SemDedupJob.Options.from(
                      StageConf.io(handBuilt, out)
                          .with(SemDedupJob.Options.CLUSTERS, k)
                          .with(StageKeys.MARK_ONLY, true)))
              .run();
      // Mark-only: duplicates stay in data, so the groups can be read back whole.
      assertThat(writtenGroups(out)).as("groups with k=%d", k).isEqualTo(expected);
      assertThat(s.rejected(RejectReason.SEMANTIC_DUPLICATE))
          .as("mark-only rejects no duplicate (k=%d)", k)
          .isZero();
      assertThat(
              spark
                  .read()
                  .parquet(CurationOutput.data(out))
                  .filter(col(Columns.DUP_OF).isNotNull())
                  .count())
          .as("dup_of set on the 3 duplicates (k=%d)", k)
          .isEqualTo(3);
    }
    // A looser ε joins b3 (cosine 0.985 ≥ 0.98) and a1–a3 (cos 2θ ≈ 0.980) stays a chain.
    String loose = tmp.resolve("sem-loose").toString();
    new SemDedupJob(
            spark,
            SemDedupJob.Options.from(
                StageConf.io(handBuilt, loose)
                    .with(SemDedupJob.Options.CLUSTERS, 1)
                    .with(SemDedupJob.Options.EPSILON, 0.02)
                    .with(StageKeys.MARK_ONLY, true)))
        .run();
    assertThat(writtenGroups(loose)).as("groups at ε = 0.02").isEqualTo(bruteForceGroups(0.02));
  }

  @Test
  void fp16EmbeddingsAndTheLowestUidPolicy() {
    String out = tmp.resolve("sem-fp16").toString();
    new SemDedupJob(
            spark,
            SemDedupJob.Options.from(
                StageConf.io(handBuiltFp16, out)
                    .with(SemDedupJob.Options.CLUSTERS, 2)
                    .with(StageKeys.KEEP, KeepPolicy.LOWEST_UID.label())))
        .run();
    Map<String, String> uid = uids(out);
    Map<String, List<String>> rej = rejects(out);
    assertThat(rej.keySet())
        .as("the same four rows rejected from fp16 embeddings")
        .hasSize(4)
        .contains("m");
    // Lowest uid: of {a1, a2, a3} the kept one has the smallest uid.
    List<String> groupA = new ArrayList<>(List.of("a1", "a2", "a3"));
    groupA.removeIf(rej::containsKey);
    assertThat(groupA).as("one of a1..a3 kept").hasSize(1);
    String keptA = groupA.get(0);
    io.sparkclip.schemas.ColumnMapping detect = io.sparkclip.schemas.ColumnMapping.DETECT;
    Map<String, String> allUids = new HashMap<>();
    for (Row r :
        io.sparkclip.jobs.stage.CurationInput.read(spark, handBuilt, detect)
            .pairs()
            .select(Columns.URL, Columns.UID)
            .collectAsList()) {
      allUids.put(r.getString(0).replaceFirst(".*/", ""), r.getString(1));
    }
    String lowest =
        List.of("a1", "a2", "a3").stream()
            .min((x, y) -> allUids.get(x).compareTo(allUids.get(y)))
            .orElseThrow();
    assertThat(keptA).as("lowest-uid policy keeps the smallest uid").isEqualTo(lowest);
    assertThat(uid).as("kept row in data").containsKey(keptA);
  }

  @Test
  void exactDuplicateImagesFromTheGeneratorAreAlwaysGroupedWithTheTinyModel() {
    String raw = tmp.resolve("raw").toString();
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(240, raw)
                .shardSize(120)
                .seed(5)
                .sides(64, 128)
                .faultRates(Map.of(FaultKind.EXACT_DUPLICATE, 0.08))
                .build())
        .run();
    String embedded = tmp.resolve("embedded").toString();
    new EmbedJob(
            spark,
            EmbedJob.Options.from(
                StageConf.io(raw, embedded)
                    .with(StageKeys.MODEL, TestModels.TINY)
                    .with(StageKeys.BATCH_SIZE, 32)))
        .run();
    String out = tmp.resolve("sem-gen").toString();
    CurationSummary s =
        new SemDedupJob(
                spark,
                SemDedupJob.Options.from(
                    StageConf.io(embedded, out).with(SemDedupJob.Options.CLUSTERS, 4)))
            .run();
    assertThat(s.balanced()).as("in = out + rejected").isTrue();
    assertThat(s.rowsIn()).as("every embedded row read").isEqualTo(240);

    // Identical bytes give identical embeddings (cosine 1), which always share a k-means
    // cluster: every exact duplicate whose original also has an embedding is found.
    Dataset<Row> ok =
        spark
            .read()
            .parquet(embedded + "/data")
            .filter(col(Columns.EMBED_STATUS).equalTo("ok"))
            .filter(col(Columns.PAIR_STATUS).equalTo(PairStatus.OK))
            .select(Columns.UID);
    Dataset<Row> truth =
        spark
            .read()
            .parquet(raw + "/" + StageFiles.GROUND_TRUTH_DIR)
            .filter(col(Columns.FAULT).equalTo(FaultKind.EXACT_DUPLICATE.label()))
            .join(ok, Columns.UID)
            .join(
                ok.withColumnRenamed(Columns.UID, "_o"),
                col(Columns.ORIGINAL_UID).equalTo(col("_o")));
    List<Row> pairs = truth.select(Columns.UID, Columns.ORIGINAL_UID).collectAsList();
    assertThat(pairs).as("exact duplicates with both copies embedded").isNotEmpty();
    Dataset<Row> data = spark.read().parquet(CurationOutput.data(out));
    Dataset<Row> rej = spark.read().parquet(CurationOutput.rejects(out));
    Set<String> rejected = new HashSet<>();
    rej.filter(col(Columns.REASON).equalTo(RejectReason.SEMANTIC_DUPLICATE))
        .select(Columns.UID)
        .collectAsList()
        .forEach(r -> rejected.add(r.getString(0)));
    for (Row p : pairs) {
      assertThat(rejected.contains(p.getString(0)) || rejected.contains(p.getString(1)))
          .as("exact duplicate %s / %s: one copy removed", p.getString(0), p.getString(1))
          .isTrue();
    }
    assertThat(
            rej.filter(col(Columns.REASON).equalTo(RejectReason.SEMANTIC_DUPLICATE))
                .join(data.select(col(Columns.UID).as(Columns.RELATED_UID)), Columns.RELATED_UID)
                .count())
        .as("every semantic duplicate names a kept row")
        .isEqualTo(rejected.size());
    assertThat(data.join(rej, Columns.UID).count()).as("no row both kept and rejected").isZero();
  }

  @Test
  void badInputFailsOnTheDriverWithAFix() {
    String raw = tmp.resolve("no-emb").toString();
    new GenerateJob(spark, GenerateJob.Options.builder(20, raw).metadataOnly(true).build()).run();
    String out = tmp.resolve("never").toString();
    assertThatThrownBy(
            () -> new SemDedupJob(spark, SemDedupJob.Options.from(StageConf.io(raw, out))).run())
        .as("input without embeddings")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of input without embeddings")
                    .isEqualTo(ErrorId.INPUT_NOT_EMBEDDED))
        .hasMessageContaining("image_embedding")
        .hasMessageContaining("Fix:");
    assertThat(java.nio.file.Files.exists(Path.of(out))).as("nothing written").isFalse();
    assertThat(SparkclipCli.execute("semdedup", handBuilt, "--out", out, "--epsilon", "1.5"))
        .as("CLI exit code for ε out of range")
        .isEqualTo(2);
    assertThat(
            SparkclipCli.execute(
                "semdedup", handBuilt, "--out", out, "--embedding-col", Columns.CAPTION))
        .as("CLI exit code for a non-embedding column")
        .isEqualTo(2);
  }
}
