package io.sparkclip.jobs.bench;

import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.Sparks;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.StageFiles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Recall per duplicate kind and removal precision of a {@code sparkclip dedup} output against the
 * ground truth of the generated input (issue 14; not a test). Run by {@code bench/dedup-scale.sh}
 * after each dedup; see bench/README.md.
 *
 * <pre>
 * DedupRecallBench RAW DEDUP_OUT
 * </pre>
 *
 * <p>Definitions as in {@code sparkclip evaluate}: an injected pair (copy, original) of a duplicate
 * kind, both usable (not rejected for another reason than a duplicate), is found when dedup removed
 * either row. A removal is right when the removed row and the row it names as related belong to one
 * ground-truth duplicate family (duplicates of duplicates form one family, by union-find).
 *
 * <p>The ground truth and the rejects are collected to the driver: a benchmark of up to a few
 * million rows, never the pipeline.
 */
public final class DedupRecallBench {
  private static final Set<String> REMOVAL_REASONS =
      Set.of(
          RejectReason.DUPLICATE_EXACT_URL,
          RejectReason.DUPLICATE_IMAGE_HASH,
          RejectReason.NEAR_DUPLICATE_IMAGE);

  private DedupRecallBench() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: DedupRecallBench RAW DEDUP_OUT");
      System.exit(2);
    }
    try (Sparks sparks = Sparks.open("sparkclip dedup recall bench", "local[*]", Map.of())) {
      SparkSession spark = sparks.session();
      Sparks.describe(spark, "dedup recall bench", "read ground truth and rejects");
      List<Row> gt =
          spark
              .read()
              .parquet(new Path(args[0], StageFiles.GROUND_TRUTH_DIR).toString())
              .select(Columns.UID, Columns.FAULT, Columns.ORIGINAL_UID)
              .collectAsList();
      List<Row> rejects =
          spark
              .read()
              .parquet(CurationOutput.rejects(args[1]))
              .select(Columns.UID, Columns.REASON, Columns.RELATED_UID)
              .collectAsList();
      for (String line : report(gt, rejects)) {
        System.out.println(line);
      }
    }
  }

  /** The report lines: one per duplicate kind, then the removal precision. */
  static List<String> report(List<Row> gt, List<Row> rejects) {
    Families families = new Families();
    List<FaultKind> kinds =
        List.of(FaultKind.EXACT_DUPLICATE, FaultKind.URL_DUPLICATE, FaultKind.NEAR_DUPLICATE);
    Set<String> kindLabels = new HashSet<>();
    kinds.forEach(k -> kindLabels.add(k.label()));
    for (Row r : gt) {
      if (kindLabels.contains(r.getString(1)) && !r.isNullAt(2)) {
        families.union(r.getString(0), r.getString(2));
      }
    }
    Set<String> unusable = new HashSet<>();
    Set<String> removed = new HashSet<>();
    for (Row r : rejects) {
      (REMOVAL_REASONS.contains(r.getString(1)) ? removed : unusable).add(r.getString(0));
    }
    List<String> out = new ArrayList<>();
    for (FaultKind k : kinds) {
      long pairs = 0;
      long found = 0;
      for (Row r : gt) {
        if (!k.label().equals(r.getString(1)) || r.isNullAt(2)) {
          continue;
        }
        String u = r.getString(0);
        String o = r.getString(2);
        if (unusable.contains(u) || unusable.contains(o)) {
          continue;
        }
        pairs++;
        if (removed.contains(u) || removed.contains(o)) {
          found++;
        }
      }
      out.add(
          String.format("recall %s: %d/%d = %.4f", k.label(), found, pairs, ratio(found, pairs)));
    }
    long removals = 0;
    long right = 0;
    long near = 0;
    long nearRight = 0;
    for (Row r : rejects) {
      if (!REMOVAL_REASONS.contains(r.getString(1))) {
        continue;
      }
      boolean ok = !r.isNullAt(2) && families.same(r.getString(0), r.getString(2));
      removals++;
      right += ok ? 1 : 0;
      if (RejectReason.NEAR_DUPLICATE_IMAGE.equals(r.getString(1))) {
        near++;
        nearRight += ok ? 1 : 0;
      }
    }
    out.add(
        String.format(
            "precision removals: %d/%d = %.4f; near_duplicate_image removals: %d/%d = %.4f",
            right, removals, ratio(right, removals), nearRight, near, ratio(nearRight, near)));
    return out;
  }

  private static double ratio(long a, long b) {
    return b == 0 ? Double.NaN : (double) a / b;
  }

  /** Union-find over uids. */
  private static final class Families {
    private final Map<String, String> parent = new HashMap<>();

    String find(String x) {
      String root = x;
      while (true) {
        String p = parent.getOrDefault(root, root);
        if (p.equals(root)) {
          break;
        }
        root = p;
      }
      // Path compression.
      while (!x.equals(root)) {
        String p = parent.getOrDefault(x, x);
        parent.put(x, root);
        x = p;
      }
      return root;
    }

    void union(String a, String b) {
      String ra = find(a);
      String rb = find(b);
      if (!ra.equals(rb)) {
        parent.put(ra.compareTo(rb) > 0 ? ra : rb, ra.compareTo(rb) > 0 ? rb : ra);
      }
    }

    boolean same(String a, String b) {
      return find(a).equals(find(b));
    }
  }
}
