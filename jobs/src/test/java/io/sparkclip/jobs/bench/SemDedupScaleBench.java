package io.sparkclip.jobs.bench;

import static org.apache.spark.sql.functions.col;

import io.sparkclip.jobs.semdedup.SemDedupJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.jobs.stage.StageKeys;
import io.sparkclip.schemas.Columns;
import io.sparkclip.udfs.embed.Vectors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scaling check for {@code semdedup} on synthetic CLIP-like embeddings: {@code n} unit vectors in
 * 512 dimensions around {@code n / 200} random topic directions (same-topic cosine ≈ 0.5, so no two
 * base rows are near-duplicates), plus injected near-duplicates: 8% of the rows are noisy copies of
 * a base row at cosine 0.990–0.999 and 1% exact copies. Runs the job in mark-only mode with its
 * defaults (auto clusters, ε = 0.01) and prints seconds, the summary details and the pair recall:
 * of the injected (copy, original) pairs whose exact cosine is ≥ 1 − ε, the fraction whose two rows
 * end in the same {@code semantic_group}. For sizes ≤ {@code --brute-max} (default 20,000) the
 * truth is instead every pair of the data set with cosine ≥ 1 − ε, by brute force.
 *
 * <p>Usage: {@code SemDedupScaleBench [--dir D] [--brute-max N] [--mllib-kmeans] [--key value ...]
 * n1 n2 ...}; a {@code --key value} other than those is passed to the job as a stage option. With
 * {@code --mllib-kmeans} it times only the clustering of the flat design semdedup used before its
 * cluster tree (MLlib k-means, cosine, k = rows / 1,000, 20 iterations, then assigning every row).
 * Prints one line per size and the slope of log seconds against log rows.
 */
public final class SemDedupScaleBench {
  static final int D = 512;
  static final double EPS = SemDedupJob.Options.EPSILON_DEFAULT;

  private SemDedupScaleBench() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("semdedup-bench");
    long bruteMax = 20_000;
    List<Integer> sizes = new ArrayList<>();
    Map<String, String> extra = new HashMap<>();
    boolean mllib = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--mllib-kmeans")) {
        mllib = true;
      } else if (args[i].equals("--dir")) {
        dir = Path.of(args[++i]);
      } else if (args[i].equals("--brute-max")) {
        bruteMax = Long.parseLong(args[++i]);
      } else if (args[i].startsWith("--")) {
        extra.put(args[i].substring(2), args[++i]);
      } else {
        sizes.add(Integer.parseInt(args[i].replace("_", "").replace("k", "000")));
      }
    }
    if (sizes.isEmpty()) {
      sizes = List.of(20_000, 80_000, 320_000);
    }
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("SemDedupScaleBench")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    List<double[]> points = new ArrayList<>();
    for (int n : sizes) {
      Data data = generate(n, 7L + n);
      String in = dir.resolve("in-" + n).toString();
      write(spark, data, in);
      if (mllib) {
        int[] cluster = new int[n];
        double secs = flatKMeans(spark, in, n, cluster);
        points.add(new double[] {n, secs});
        // The flat design compares every pair of a cluster: a pair is found iff it shares one.
        List<long[]> truth = n <= bruteMax ? bruteForce(data.vectors) : data.truePairs();
        long found = truth.stream().filter(p -> sameGroup(cluster, p)).count();
        System.out.printf(
            Locale.ROOT,
            "BENCH mllib-kmeans rows=%d seconds=%.1f truth=%s pairs=%d recall=%.4f%n",
            n,
            secs,
            n <= bruteMax ? "brute-force" : "injected",
            truth.size(),
            truth.isEmpty() ? 1.0 : (double) found / truth.size());
        continue;
      }
      String out = dir.resolve("out-" + n).toString();
      StageConf conf =
          StageConf.io(in, out).with(StageKeys.MARK_ONLY, true).with(StageKeys.OVERWRITE, true);
      for (Map.Entry<String, String> e : extra.entrySet()) {
        conf = conf.with(e.getKey(), e.getValue());
      }
      long t0 = System.nanoTime();
      CurationSummary s = new SemDedupJob(spark, SemDedupJob.Options.from(conf)).run();
      double secs = (System.nanoTime() - t0) / 1e9;
      points.add(new double[] {n, secs});
      int[] group = groups(spark, out, n);
      List<long[]> truth = n <= bruteMax ? bruteForce(data.vectors) : data.truePairs();
      long found =
          truth.stream().filter(p -> group[(int) p[0]] >= 0 && sameGroup(group, p)).count();
      System.out.printf(
          Locale.ROOT,
          "BENCH rows=%d seconds=%.1f truth=%s pairs=%d recall=%.4f details=%s%n",
          n,
          secs,
          n <= bruteMax ? "brute-force" : "injected",
          truth.size(),
          truth.isEmpty() ? 1.0 : (double) found / truth.size(),
          s.details());
    }
    if (points.size() >= 2) {
      System.out.printf(Locale.ROOT, "BENCH exponent=%.3f%n", slope(points));
    }
    spark.stop();
  }

  /**
   * Seconds of MLlib k-means (cosine, k = rows / 1,000, 20 rounds) plus assigning every row; the
   * cluster of row i goes to {@code cluster[i]}.
   */
  static double flatKMeans(SparkSession spark, String in, int n, int[] cluster) {
    org.apache.spark.sql.Dataset<Row> points =
        spark
            .read()
            .parquet(in)
            .select(
                col(Columns.URL),
                org.apache
                    .spark
                    .ml
                    .functions
                    .array_to_vector(col(Columns.IMAGE_EMBEDDING))
                    .as("_features"))
            .persist();
    points.count();
    long t0 = System.nanoTime();
    int k = SemDedupJob.autoClusters(n);
    org.apache.spark.ml.clustering.KMeansModel model =
        new org.apache.spark.ml.clustering.KMeans()
            .setK(k)
            .setSeed(0)
            .setMaxIter(20)
            .setDistanceMeasure("cosine")
            .setFeaturesCol("_features")
            .setPredictionCol("_cluster")
            .fit(points);
    List<Row> assigned = model.transform(points).select(Columns.URL, "_cluster").collectAsList();
    double secs = (System.nanoTime() - t0) / 1e9;
    for (Row r : assigned) {
      cluster[Integer.parseInt(r.getString(0).replaceFirst(".*/", ""))] = r.getInt(1);
    }
    points.unpersist();
    return secs;
  }

  static boolean sameGroup(int[] group, long[] p) {
    return group[(int) p[0]] == group[(int) p[1]];
  }

  /** Least-squares slope of log seconds against log rows. */
  static double slope(List<double[]> pts) {
    double mx = 0;
    double my = 0;
    for (double[] p : pts) {
      mx += Math.log(p[0]);
      my += Math.log(p[1]);
    }
    mx /= pts.size();
    my /= pts.size();
    double sxy = 0;
    double sxx = 0;
    for (double[] p : pts) {
      sxy += (Math.log(p[0]) - mx) * (Math.log(p[1]) - my);
      sxx += (Math.log(p[0]) - mx) * (Math.log(p[0]) - mx);
    }
    return sxy / sxx;
  }

  record Data(float[][] vectors, int[] copyOf) {
    /** Injected (copy, original) pairs with cosine ≥ 1 − ε. */
    List<long[]> truePairs() {
      List<long[]> out = new ArrayList<>();
      for (int i = 0; i < copyOf.length; i++) {
        if (copyOf[i] >= 0 && Vectors.cosine(vectors[i], vectors[copyOf[i]]) >= 1 - EPS) {
          out.add(new long[] {i, copyOf[i]});
        }
      }
      return out;
    }
  }

  static Data generate(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int topics = Math.max(8, n / 200);
    float[][] centre = new float[topics][];
    for (int t = 0; t < topics; t++) {
      centre[t] = gaussianUnit(r, null, 0);
    }
    float[][] v = new float[n][];
    int[] copyOf = new int[n];
    int base = 0;
    for (int i = 0; i < n; i++) {
      double u = r.nextDouble();
      if (i > 10 && u < 0.01) {
        int o = r.nextInt(base);
        v[i] = v[o].clone();
        copyOf[i] = o;
      } else if (i > 10 && u < 0.09) {
        int o = r.nextInt(base);
        // cosine ≈ 1 / sqrt(1 + σ²) for a noise vector of norm σ: σ for cosine in [0.990, 0.999].
        double c = 0.990 + 0.009 * r.nextDouble();
        double sigma = Math.sqrt(1 / (c * c) - 1);
        v[i] = gaussianUnit(r, v[o], sigma);
        copyOf[i] = o;
      } else {
        v[i] = gaussianUnit(r, centre[r.nextInt(topics)], 1.0);
        copyOf[i] = -1;
        base = i + 1;
      }
    }
    return new Data(v, copyOf);
  }

  /** normalize(around + σ · g) for g uniform on the unit sphere (or just g without a centre). */
  static float[] gaussianUnit(SplittableRandom r, float[] around, double sigma) {
    double[] g = new double[D];
    double s = 0;
    for (int k = 0; k < D; k++) {
      g[k] = gaussian(r);
      s += g[k] * g[k];
    }
    double scale = (around == null ? 1 : sigma) / Math.sqrt(s);
    float[] out = new float[D];
    for (int k = 0; k < D; k++) {
      out[k] = (float) ((around == null ? 0 : around[k]) + g[k] * scale);
    }
    return Vectors.l2NormalizeInPlace(out);
  }

  static double gaussian(SplittableRandom r) {
    double u1 = 1 - r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  static void write(SparkSession spark, Data data, String dir) {
    StructType schema =
        new StructType()
            .add(Columns.URL, DataTypes.StringType, false)
            .add(Columns.CAPTION, DataTypes.StringType, true)
            .add(Columns.WIDTH, DataTypes.IntegerType, true)
            .add(Columns.HEIGHT, DataTypes.IntegerType, true)
            .add(Columns.IMAGE_EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType), true);
    List<Row> rows = new ArrayList<>(data.vectors.length);
    for (int i = 0; i < data.vectors.length; i++) {
      rows.add(
          RowFactory.create("https://example.com/" + i, "caption " + i, 100, 100, data.vectors[i]));
    }
    spark.createDataFrame(rows, schema).repartition(8).write().mode("overwrite").parquet(dir);
  }

  /** Row index → a dense id of its semantic_group, or -1 outside a group. */
  static int[] groups(SparkSession spark, String out, int n) {
    int[] g = new int[n];
    java.util.Arrays.fill(g, -1);
    Map<String, Integer> ids = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(CurationOutput.data(out))
            .filter(col(Columns.SEMANTIC_GROUP).isNotNull())
            .select(Columns.URL, Columns.SEMANTIC_GROUP)
            .collectAsList()) {
      int i = Integer.parseInt(r.getString(0).replaceFirst(".*/", ""));
      g[i] = ids.computeIfAbsent(r.getString(1), k -> ids.size());
    }
    return g;
  }

  /** Every pair with cosine ≥ 1 − ε (a float pre-filter, confirmed in double precision). */
  static List<long[]> bruteForce(float[][] v) {
    List<long[]> out = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicLong done = new AtomicLong();
    IntStream.range(0, v.length)
        .parallel()
        .forEach(
            i -> {
              float[] a = v[i];
              for (int j = i + 1; j < v.length; j++) {
                float[] b = v[j];
                float s0 = 0;
                float s1 = 0;
                float s2 = 0;
                float s3 = 0;
                for (int k = 0; k < D; k += 4) {
                  s0 += a[k] * b[k];
                  s1 += a[k + 1] * b[k + 1];
                  s2 += a[k + 2] * b[k + 2];
                  s3 += a[k + 3] * b[k + 3];
                }
                if (s0 + s1 + s2 + s3 >= 1 - EPS - 1e-3 && Vectors.cosine(a, b) >= 1 - EPS) {
                  out.add(new long[] {i, j});
                }
              }
              done.incrementAndGet();
            });
    return new ArrayList<>(out);
  }
}
