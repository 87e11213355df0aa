package io.sparkclip.jobs.dedup;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.curate.CurationChecks;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.generate.ShapeRenderer;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.KeepPolicy;
import io.sparkclip.jobs.stage.Paths;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.LayoutDetector;
import io.sparkclip.schemas.Pairs;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Uid;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
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

/**
 * Which copy of a duplicate cluster survives, per keep policy, on a hand-built near-duplicate
 * cluster among clean generated rows; and near-caption dedup (MinHash) end to end against a
 * brute-force shingle Jaccard.
 */
class DedupKeepPolicyTest {
  private static final String A = "http://policy.example/full-size.jpg";
  private static final String B = "http://policy.example/three-quarters.jpg";
  private static final String C = "http://policy.example/seven-eighths.jpg";

  @TempDir static Path tmp;
  static SparkSession spark;
  static String input;

  /** url → uid of the three copies. */
  static final Map<String, String> copies = new TreeMap<>();

  @BeforeAll
  static void start() throws Exception {
    spark = LocalSpark.start("DedupKeepPolicyTest");
    String clean = tmp.resolve("clean").toString();
    Map<FaultKind, Double> none = new EnumMap<>(FaultKind.class);
    for (FaultKind f : FaultKind.values()) {
      none.put(f, 0.0);
    }
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(60, clean)
                .seed(17)
                .sides(160, 256)
                .faultRates(none)
                .build())
        .run();
    Dataset<Row> raw = Paths.readParquet(spark, clean);
    List<Row> rows = raw.collectAsList(); // 60 small rows
    StructType schema = raw.schema();
    Row source = rows.get(0);
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(source.getAs(Columns.JPG)));
    // One picture three times: full size with a short caption, 3/4 size with the longest
    // caption, 7/8 size with a middling one. Each a fresh JPEG, so only near-image dedup joins
    // them.
    Object[][] spec = {
      {A, "a box", 1.0},
      {B, "a photograph of a small box standing on a plain surface, seen from the front", 0.75},
      {C, "a box on a plain surface", 0.875},
    };
    List<Row> out = new ArrayList<>(rows.subList(1, rows.size()));
    for (Object[] s : spec) {
      double scale = (double) s[2];
      int w = (int) Math.round(img.getWidth() * scale);
      int h = (int) Math.round(img.getHeight() * scale);
      byte[] jpg = ShapeRenderer.jpeg(scale == 1.0 ? img : ShapeRenderer.resize(img, w, h), 92);
      Object[] v = new Object[schema.size()];
      for (int i = 0; i < v.length; i++) {
        String name = schema.fieldNames()[i];
        v[i] =
            switch (name) {
              case Columns.KEY -> "policy-" + copies.size();
              case Columns.URL -> s[0];
              case Columns.CAPTION -> s[1];
              case Columns.JPG -> jpg;
              case Columns.WIDTH -> w;
              case Columns.HEIGHT -> h;
              case Columns.SHA256 ->
                  HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(jpg));
              default -> source.get(i);
            };
      }
      out.add(RowFactory.create(v));
      copies.put((String) s[0], Uid.of((String) s[0], (String) s[1]));
    }
    input = tmp.resolve("input").toString();
    spark.createDataFrame(out, schema).coalesce(2).write().parquet(input);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static Dataset<Row> prepared(String dir) {
    Dataset<Row> in = Paths.readParquet(spark, dir);
    return Pairs.prepare(in, LayoutDetector.detect(in.schema()));
  }

  /** Runs dedup with a keep policy; returns the copy kept, after checking the other two. */
  private static String kept(KeepPolicy policy) throws Exception {
    String out = tmp.resolve("dedup-" + policy.label()).toString();
    CurationSummary s =
        new DedupJob(
                spark,
                DedupJob.Options.from(
                    StageConf.io(input, out).with(StageKeys.KEEP, policy.label())))
            .run();
    CurationChecks.assertAccounting(spark, "dedup " + policy.label(), prepared(input), out, s);
    List<String> keptCopies =
        spark.read().parquet(CurationOutput.data(out)).select(Columns.URL).collectAsList().stream()
            .map(r -> r.getString(0))
            .filter(copies::containsKey)
            .toList();
    assertThat(keptCopies).as("%s: one copy of the cluster kept", policy.label()).hasSize(1);
    String keptUrl = keptCopies.get(0);
    Map<String, List<String>> rejected =
        spark
            .read()
            .parquet(CurationOutput.rejects(out))
            .select(Columns.UID, Columns.REASON, Columns.RELATED_UID)
            .collectAsList()
            .stream()
            .collect(
                Collectors.toMap(
                    r -> r.getString(0), r -> List.of(r.getString(1), r.getString(2))));
    List<String> others =
        copies.keySet().stream().filter(u -> !u.equals(keptUrl)).map(copies::get).toList();
    for (String uid : others) {
      assertThat(rejected.get(uid))
          .as("%s: copy %s rejected as a near duplicate of the kept copy", policy.label(), uid)
          .containsExactly(RejectReason.NEAR_DUPLICATE_IMAGE, copies.get(keptUrl));
    }
    assertThat(rejected.keySet())
        .as("%s: only the copies are duplicates among clean generated rows", policy.label())
        .containsExactlyInAnyOrderElementsOf(others);
    return keptUrl;
  }

  @Test
  void largestKeepsTheMostPixels() throws Exception {
    assertThat(kept(KeepPolicy.LARGEST)).as("largest keeps the full-size copy").isEqualTo(A);
  }

  @Test
  void longestCaptionKeepsTheLongestCaption() throws Exception {
    assertThat(kept(KeepPolicy.LONGEST_CAPTION))
        .as("longest-caption keeps the 3/4-size copy with the longest caption")
        .isEqualTo(B);
  }

  @Test
  void lowestUidKeepsTheSmallestUid() throws Exception {
    String lowest =
        copies.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey();
    assertThat(kept(KeepPolicy.LOWEST_UID))
        .as("lowest-uid keeps the smallest uid")
        .isEqualTo(lowest);
  }

  private static final List<String> CAPTIONS =
      List.of(
          "A red fox sleeping under a large oak tree in autumn",
          "A red fox sleeping under a large oak tree in autumn.",
          "a red fox sleeping under a large oak tree in Autumn!",
          "Modern glass skyscraper reflecting the evening sky",
          "Modern glass skyscraper reflecting the morning sky",
          "Two children playing football on a sandy beach",
          "Bowl of ramen with a soft egg and scallions");

  /** Jaccard of lower-cased 5-character shingles, by brute force. */
  private static double jaccard(String a, String b) {
    java.util.Set<String> x = new java.util.HashSet<>();
    java.util.Set<String> y = new java.util.HashSet<>();
    for (int i = 0; i + 5 <= a.length(); i++) {
      x.add(a.toLowerCase(java.util.Locale.ROOT).substring(i, i + 5));
    }
    for (int i = 0; i + 5 <= b.length(); i++) {
      y.add(b.toLowerCase(java.util.Locale.ROOT).substring(i, i + 5));
    }
    java.util.Set<String> both = new java.util.HashSet<>(x);
    both.retainAll(y);
    x.addAll(y);
    return (double) both.size() / x.size();
  }

  @Test
  void nearCaptionDedupMergesExactlyTheCaptionsABruteForceJaccardJoins() throws Exception {
    // The fixture as designed: the three fox captions join (J > 0.95), the two skyscrapers stay
    // apart (J ≈ 0.74, below the 0.8 default), nothing else is close.
    for (int i = 0; i < CAPTIONS.size(); i++) {
      for (int j = i + 1; j < CAPTIONS.size(); j++) {
        double jac = jaccard(CAPTIONS.get(i), CAPTIONS.get(j));
        if (i < 3 && j < 3) {
          assertThat(jac).as("fox captions %d, %d", i, j).isGreaterThan(0.95);
        } else {
          assertThat(jac).as("captions %d, %d", i, j).isLessThan(0.75);
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < CAPTIONS.size(); i++) {
      rows.add(RowFactory.create("https://captions.example/" + i + ".jpg", CAPTIONS.get(i)));
    }
    String meta = tmp.resolve("captions").toString();
    spark
        .createDataFrame(
            rows,
            new StructType()
                .add(Columns.URL, DataTypes.StringType)
                .add(Columns.CAPTION, DataTypes.StringType))
        .write()
        .parquet(meta);

    String off = tmp.resolve("captions-off").toString();
    CurationSummary s = new DedupJob(spark, DedupJob.Options.from(StageConf.io(meta, off))).run();
    assertThat(s.rowsRejected()).as("near-caption dedup is off by default").isZero();

    String on = tmp.resolve("captions-on").toString();
    CurationSummary t =
        new DedupJob(
                spark,
                DedupJob.Options.from(
                    StageConf.io(meta, on).with(DedupJob.Options.NEAR_CAPTION, true)))
            .run();
    CurationChecks.assertAccounting(spark, "near-caption dedup", prepared(meta), on, t);
    List<String> keptCaptions =
        spark
            .read()
            .parquet(CurationOutput.data(on))
            .select(Columns.CAPTION)
            .collectAsList()
            .stream()
            .map(r -> r.getString(0))
            .toList();
    assertThat(keptCaptions.stream().filter(c -> c.toLowerCase().contains("fox")))
        .as("one fox caption kept")
        .hasSize(1);
    assertThat(keptCaptions)
        .as("every caption outside the fox cluster kept")
        .containsAll(CAPTIONS.subList(3, CAPTIONS.size()));
    Map<String, String> foxByUid = new TreeMap<>();
    for (int i = 0; i < 3; i++) {
      foxByUid.put(
          Uid.of("https://captions.example/" + i + ".jpg", CAPTIONS.get(i)), CAPTIONS.get(i));
    }
    List<Row> rej =
        spark
            .read()
            .parquet(CurationOutput.rejects(on))
            .select(Columns.UID, Columns.REASON)
            .collectAsList();
    assertThat(rej).as("two fox captions rejected").hasSize(2);
    assertThat(rej)
        .as("as near-duplicate captions")
        .allSatisfy(
            r -> {
              assertThat(r.getString(1)).isEqualTo(RejectReason.NEAR_DUPLICATE_CAPTION);
              assertThat(foxByUid).containsKey(r.getString(0));
            });
    assertThat(
            spark
                .read()
                .parquet(CurationOutput.rejects(on))
                .filter(col(Columns.RELATED_UID).isNull())
                .count())
        .as("every reject names the kept row")
        .isZero();
  }
}
