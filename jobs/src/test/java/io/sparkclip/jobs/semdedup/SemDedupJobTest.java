package io.sparkclip.jobs.semdedup;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.SparkclipCli;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.curate.CurationChecks;
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
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.PairStatus;
import io.sparkclip.schemas.Pairs;
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
  void chainsAndIdenticalEmbeddingsFormGroupsThatKeepOneRowByPolicy() throws Exception {
    String out = tmp.resolve("sem-k3").toString();
    CurationSummary s =
        new SemDedupJob(
                spark,
                SemDedupJob.Options.from(
                    StageConf.io(handBuilt, out).with(SemDedupJob.Options.CLUSTERS, 3)))
            .run();
    CurationChecks.assertAccounting(spark, "semdedup k=3, hand-built", prepared(handBuilt), out, s);
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
    // Groups are only formed within a cluster: at every k the fixture's groups must survive whole
    // (recall) and nothing else may join them (precision).
    for (int k : new int[] {1, 2, 3, 4}) {
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
  void exactDuplicateImagesFromTheGeneratorAreAlwaysGroupedWithTheTinyModel() throws Exception {
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
    CurationChecks.assertAccounting(
        spark,
        "semdedup k=4, generated",
        spark.read().parquet(CurationOutput.data(embedded)),
        out,
        s);
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

  /**
   * A synthetic set of {@code distinct} random unit vectors in {@code dim} dimensions around {@code
   * topics} directions (same-topic cosine ≈ 0.5), {@code near} of them with a noisy copy at cosine
   * ≈ 0.995, and {@code identical} copies of one vector (url name "i…"); written as pairs with url
   * = caption = name. Returns name → vector.
   */
  private static Map<String, float[]> writeSynthetic(
      String dir, int dim, int topics, int distinct, int near, int identical, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    float[][] centre = new float[topics][];
    for (int t = 0; t < topics; t++) {
      centre[t] = noisy(r, new float[dim], 1.0);
    }
    Map<String, float[]> v = new TreeMap<>();
    for (int i = 0; i < distinct; i++) {
      v.put("d" + i, noisy(r, centre[r.nextInt(topics)], 1.0));
    }
    // A noise vector of norm σ at cosine c: c ≈ 1 / sqrt(1 + σ²); c = 0.995.
    double sigma = Math.sqrt(1 / (0.995 * 0.995) - 1);
    for (int i = 0; i < near; i++) {
      v.put("n" + i, noisy(r, v.get("d" + i), sigma));
    }
    float[] same = noisy(r, centre[0], 1.0);
    for (int i = 0; i < identical; i++) {
      v.put("i" + i, same.clone());
    }
    StructType schema =
        new StructType()
            .add(Columns.URL, DataTypes.StringType, false)
            .add(Columns.CAPTION, DataTypes.StringType, true)
            .add(Columns.WIDTH, DataTypes.IntegerType, true)
            .add(Columns.HEIGHT, DataTypes.IntegerType, true)
            .add(Columns.IMAGE_EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType), true);
    List<Row> rows = new ArrayList<>();
    v.forEach(
        (name, e) -> rows.add(RowFactory.create("https://example.com/" + name, name, 100, 100, e)));
    spark.createDataFrame(rows, schema).repartition(4).write().parquet(dir);
    return v;
  }

  /** normalize(around + σ · g), g uniform on the unit sphere. */
  private static float[] noisy(java.util.SplittableRandom r, float[] around, double sigma) {
    double[] g = new double[around.length];
    double s = 0;
    for (int k = 0; k < g.length; k++) {
      double u1 = 1 - r.nextDouble();
      g[k] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * r.nextDouble());
      s += g[k] * g[k];
    }
    float[] out = new float[around.length];
    for (int k = 0; k < g.length; k++) {
      out[k] = (float) (around[k] + sigma * g[k] / Math.sqrt(s));
    }
    return Vectors.l2NormalizeInPlace(out);
  }

  /** Brute force over {@code v}: every pair with cosine ≥ 1 − ε, no clustering. */
  private static List<String[]> bruteForcePairs(Map<String, float[]> v, double eps) {
    List<String> names = new ArrayList<>(v.keySet());
    List<String[]> out = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      for (int j = i + 1; j < names.size(); j++) {
        if (Vectors.cosine(v.get(names.get(i)), v.get(names.get(j))) >= 1 - eps) {
          out.add(new String[] {names.get(i), names.get(j)});
        }
      }
    }
    return out;
  }

  /** Semdedup marking only, with one binary k-means level and leaves of 100: the guard cuts. */
  private static CurationSummary oneGuardedLevel(StageConf conf) {
    return new SemDedupJob(
            spark,
            SemDedupJob.Options.from(
                conf.with(SemDedupJob.Options.LEAF_SIZE, 100)
                    .with(SemDedupJob.Options.BRANCHING, 2)
                    .with(SemDedupJob.Options.MAX_DEPTH, 1)
                    .with(StageKeys.MARK_ONLY, true)))
        .run();
  }

  /** name → (semantic_cluster, semantic_group or "-") of every row of a mark-only output. */
  private static Map<String, String[]> clustersAndGroups(String out) {
    Map<String, String[]> m = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(CurationOutput.data(out))
            .select(Columns.URL, Columns.SEMANTIC_CLUSTER, Columns.SEMANTIC_GROUP)
            .collectAsList()) {
      m.put(
          r.getString(0).replaceFirst(".*/", ""),
          new String[] {String.valueOf(r.get(1)), r.isNullAt(2) ? "-" : r.getString(2)});
    }
    return m;
  }

  /** The pairs a stage derives from a plain input, with their uids. */
  private static Dataset<Row> prepared(String input) {
    Dataset<Row> in = spark.read().parquet(input);
    return Pairs.prepare(in, LayoutDetector.detect(in.schema()));
  }

  /**
   * Of the pairs of rows the output puts in one semantic group, the fraction the brute force also
   * connects (directly or through a chain of pairs within ε): 1 − the rate of false merges. Rows
   * outside {@code names} are not counted.
   */
  private static double precision(
      List<String[]> truth, Map<String, String[]> written, Set<String> names) {
    Map<String, String> parent = new HashMap<>();
    for (String[] p : truth) {
      parent.put(root(parent, p[0]), root(parent, p[1]));
    }
    Map<String, Map<String, Long>> perGroup = new HashMap<>();
    written.forEach(
        (n, cg) -> {
          if (!cg[1].equals("-") && names.contains(n)) {
            perGroup
                .computeIfAbsent(cg[1], g -> new HashMap<>())
                .merge(root(parent, n), 1L, Long::sum);
          }
        });
    long together = 0;
    long connected = 0;
    for (Map<String, Long> components : perGroup.values()) {
      long n = components.values().stream().mapToLong(Long::longValue).sum();
      together += n * (n - 1) / 2;
      connected += components.values().stream().mapToLong(c -> c * (c - 1) / 2).sum();
    }
    assertThat(together).as("pairs grouped by the output").isPositive();
    return (double) connected / together;
  }

  private static String root(Map<String, String> parent, String x) {
    String r = x;
    while (parent.containsKey(r) && !parent.get(r).equals(r)) {
      r = parent.get(r);
    }
    parent.put(x, r);
    return r;
  }

  private static double recall(List<String[]> truth, Map<String, String[]> written) {
    long found =
        truth.stream()
            .filter(
                p ->
                    !written.get(p[0])[1].equals("-")
                        && written.get(p[0])[1].equals(written.get(p[1])[1]))
            .count();
    return truth.isEmpty() ? 1.0 : (double) found / truth.size();
  }

  private static long detail(CurationSummary s, String key) {
    assertThat(s.details()).as("summary detail %s", key).containsKey(key);
    return ((Number) s.details().get(key)).longValue();
  }

  @Test
  void thousandsOfIdenticalEmbeddingsAreOneGroupAndNoLeafGrowsWithThem() throws Exception {
    String in = tmp.resolve("skew").toString();
    Map<String, float[]> v = writeSynthetic(in, 32, 20, 2000, 150, 3000, 11);
    String out = tmp.resolve("sem-skew").toString();
    CurationSummary s =
        new SemDedupJob(
                spark,
                SemDedupJob.Options.from(
                    StageConf.io(in, out).with(SemDedupJob.Options.LEAF_SIZE, 100)))
            .run();
    CurationChecks.assertAccounting(spark, "semdedup skew", prepared(in), out, s);
    assertThat(s.rowsIn()).as("rows in").isEqualTo(5150);
    Map<String, String> kept = uids(out);
    List<String> keptIdentical = kept.keySet().stream().filter(n -> n.startsWith("i")).toList();
    assertThat(keptIdentical).as("one of the 3,000 identical rows kept").hasSize(1);
    Set<String> identicalUids = new HashSet<>();
    for (Row r :
        io.sparkclip.jobs.stage.CurationInput.read(
                spark, in, io.sparkclip.schemas.ColumnMapping.DETECT)
            .pairs()
            .filter(col(Columns.URL).startsWith("https://example.com/i"))
            .select(Columns.UID)
            .collectAsList()) {
      identicalUids.add(r.getString(0));
    }
    List<Row> rej =
        spark
            .read()
            .parquet(CurationOutput.rejects(out))
            .filter(col(Columns.REASON).equalTo(RejectReason.SEMANTIC_DUPLICATE))
            .filter(col(Columns.RELATED_UID).equalTo(kept.get(keptIdentical.get(0))))
            .select(Columns.UID)
            .collectAsList();
    assertThat(rej.stream().map(r -> r.getString(0)).filter(identicalUids::contains).count())
        .as("the other 2,999 identical rows rejected as duplicates of the kept one")
        .isEqualTo(2999);
    assertThat(detail(s, "identical_rows_linked")).as("rows linked by identity").isEqualTo(2999);
    long rows = detail(s, "rows_clustered");
    assertThat(rows).as("rows the tree clusters: one per identical cell").isEqualTo(2151);
    long cap = detail(s, "leaf_cap");
    assertThat(cap).as("leaf cap: 4 × the target of ≤ 100 rows per leaf").isBetween(300L, 400L);
    assertThat(detail(s, "largest_leaf"))
        .as("largest leaf within the cap")
        .isLessThanOrEqualTo(cap);
    assertThat(detail(s, "pairs_compared"))
        .as("pairs compared: at most rows × cap / 2, far below 3,000² / 2")
        .isLessThanOrEqualTo(rows * cap / 2)
        .isLessThan(3000L * 2999 / 2);

    // Mark-only, to read groups back whole: recall against a brute force over all pairs.
    Map<String, float[]> noIdentical = new TreeMap<>(v);
    noIdentical.keySet().removeIf(n -> n.startsWith("i") && !n.equals("i0"));
    List<String[]> truth = bruteForcePairs(noIdentical, 0.01);
    assertThat(truth.size()).as("brute-force pairs: the injected near copies").isEqualTo(150);
    String marked = tmp.resolve("sem-skew-mark").toString();
    CurationSummary m =
        new SemDedupJob(
                spark,
                SemDedupJob.Options.from(
                    StageConf.io(in, marked)
                        .with(SemDedupJob.Options.LEAF_SIZE, 100)
                        .with(StageKeys.MARK_ONLY, true)))
            .run();
    Map<String, String[]> written = clustersAndGroups(marked);
    Set<String> identicalGroups = new HashSet<>();
    written.forEach(
        (n, cg) -> {
          if (n.startsWith("i")) {
            identicalGroups.add(cg[1]);
          }
        });
    assertThat(identicalGroups).as("the identical rows share one group").hasSize(1);
    double r = recall(truth, written);
    assertThat(r).as("pair recall vs brute force (%s)", m.details()).isGreaterThanOrEqualTo(0.9);
    assertThat(precision(truth, written, noIdentical.keySet()))
        .as("pair precision vs brute force (%s)", m.details())
        .isEqualTo(1.0);

    // The guard: one k-means level only, so every child above the cap is cut.
    String capped = tmp.resolve("sem-skew-capped").toString();
    CurationSummary c = oneGuardedLevel(StageConf.io(in, capped));
    assertThat(detail(c, "guard_splits")).as("children above the cap cut").isPositive();
    assertThat(detail(c, "hash_splits")).as("cut along a direction, not by hash").isZero();
    assertThat(detail(c, "largest_leaf"))
        .as("a chunk: about the cap, plus guests from its two neighbours' edges")
        .isLessThanOrEqualTo(detail(c, "leaf_cap") * 2);
    assertThat(detail(c, "pairs_not_compared_by_guard"))
        .as("the pairs the cut leaves uncompared are counted")
        .isPositive();
    Map<String, String[]> cut = clustersAndGroups(capped);
    long splitAcross =
        truth.stream().filter(p -> !cut.get(p[0])[0].equals(cut.get(p[1])[0])).count();
    double rc = recall(truth, cut);
    long lost = truth.size() - Math.round(rc * truth.size());
    assertThat(lost)
        .as(
            "pairs lost to the guard: at most the %d of %d whose rows are in different leaves,"
                + " fewer as spilled rows meet across a cut (%s)",
            splitAcross, truth.size(), c.details())
        .isLessThanOrEqualTo(splitAcross);
    assertThat(rc).as("recall with the guard").isGreaterThanOrEqualTo(0.9);
    // Without spill, exactly the pairs in different leaves are lost.
    String unspilled = tmp.resolve("sem-skew-capped-nospill").toString();
    CurationSummary u =
        oneGuardedLevel(StageConf.io(in, unspilled).with(SemDedupJob.Options.SPILL, 0));
    assertThat(detail(u, "rows_spilled")).as("no spill").isZero();
    assertThat(detail(u, "largest_leaf"))
        .as("chunks without guests near the cap")
        .isLessThanOrEqualTo(detail(u, "leaf_cap") * 5 / 4);
    Map<String, String[]> cutNoSpill = clustersAndGroups(unspilled);
    long apart =
        truth.stream()
            .filter(p -> !cutNoSpill.get(p[0])[0].equals(cutNoSpill.get(p[1])[0]))
            .count();
    long lostNoSpill = truth.size() - Math.round(recall(truth, cutNoSpill) * truth.size());
    assertThat(lostNoSpill)
        .as("without spill the guard loses the pairs it parts (%s)", u.details())
        .isEqualTo(apart)
        .isLessThanOrEqualTo(truth.size() / 10);
    org.slf4j.LoggerFactory.getLogger(SemDedupJobTest.class)
        .info(
            "skew: recall {} (tree), {} with the guard ({} of {} pairs in different leaves, {}"
                + " lost; without spill {} lost); {} / {}",
            r,
            rc,
            splitAcross,
            truth.size(),
            lost,
            lostNoSpill,
            m.details(),
            c.details());
  }

  @Test
  void aFewThousandRowsWithASmallLeafSizeMakeATreeOfSeveralLevels() {
    String in = tmp.resolve("tree").toString();
    Map<String, float[]> v = writeSynthetic(in, 16, 40, 4000, 300, 0, 23);
    List<String[]> truth = bruteForcePairs(v, 0.01);
    assertThat(truth.size()).as("brute-force pairs").isGreaterThanOrEqualTo(300);
    String out = tmp.resolve("sem-tree").toString();
    CurationSummary s =
        new SemDedupJob(
                spark,
                SemDedupJob.Options.from(
                    StageConf.io(in, out)
                        .with(SemDedupJob.Options.LEAF_SIZE, 50)
                        .with(SemDedupJob.Options.BRANCHING, 4)
                        .with(StageKeys.MARK_ONLY, true)))
            .run();
    long budget = ((Number) s.details().get("clusters")).longValue();
    assertThat(budget).as("auto leaves: 4,300 rows / 50").isEqualTo(86);
    assertThat(detail(s, "tree_depth")).as("depth of a 4-ary tree of 86 leaves").isGreaterThan(1);
    assertThat(detail(s, "leaves"))
        .as("about the leaves asked for")
        .isBetween(budget / 2, budget * 2);
    assertThat(detail(s, "largest_leaf"))
        .as("largest leaf within the cap")
        .isLessThanOrEqualTo(detail(s, "leaf_cap"));
    assertThat(detail(s, "guard_splits")).as("k-means splits everything").isZero();
    Map<String, String[]> written = clustersAndGroups(out);
    assertThat(written.values().stream().map(cg -> Integer.parseInt(cg[0])).distinct())
        .as("semantic_cluster is a leaf index")
        .allMatch(c -> c >= 0 && c < detail(s, "leaves"))
        .hasSizeGreaterThan((int) budget / 2);
    double r = recall(truth, written);
    double p = precision(truth, written, v.keySet());
    org.slf4j.LoggerFactory.getLogger(SemDedupJobTest.class)
        .info("tree: recall {}, precision {} over {} pairs; {}", r, p, truth.size(), s.details());
    assertThat(r).as("pair recall vs brute force (%s)", s.details()).isGreaterThanOrEqualTo(0.9);
    assertThat(p)
        .as("pair precision vs brute force: no false merges (%s)", s.details())
        .isEqualTo(1.0);
  }

  @Test
  void theTreeCutsANodeKMeansCannotSplitByRowHash() {
    // Identical embeddings reach the tree only if they bypass the identical-cell step: here
    // directly. k-means finds one centre, the principal direction has no variance, so the
    // node is cut by row hash into chunks of about the cap.
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    float[] same = noisy(r, new float[16], 1.0);
    List<ClusterTree.Point> pts = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      pts.add(new ClusterTree.Point(i, same.clone()));
    }
    org.apache.spark.api.java.JavaSparkContext sc =
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext());
    ClusterTree.Result t =
        ClusterTree.build(
            sc.parallelize(pts, 4), 3000, new ClusterTree.Params(30, 16, 12, 20, 1.0, 0, 0.03), 4);
    long cap = ClusterTree.cap(3000, 30);
    assertThat(t.hashSplits()).as("cut by row hash").isEqualTo(1);
    assertThat(t.largestLeaf()).as("chunks near the cap %d", cap).isLessThanOrEqualTo(cap * 5 / 4);
    assertThat(t.leafRows()).as("every row in one chunk").hasSize(8);
    assertThat(t.copies()).as("no guests across a hash cut").isEqualTo(3000);
    assertThat(t.pairsSkippedByGuard())
        .as("pairs the hash cut leaves uncompared")
        .isEqualTo(3000L * 2999 / 2 - t.pairsCompared());
    t.release();
  }
}
