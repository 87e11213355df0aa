package io.sparkclip.jobs.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.bench.HeavyClusterInput;
import io.sparkclip.jobs.generate.GenerateJob;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.FaultKind;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Web data holds one placeholder or stock image thousands of times under different encodings:
 * 20,000 re-encodings of one image (JPEG quality 0.60–0.95, sizes ±10 %) among 1,000 distinct
 * images must end as one kept row, through bounded work (the copies' keys form buckets far above
 * the cap, compared with a representative instead of all-pairs).
 */
class HeavyClusterDedupTest {
  static final int COPIES = 20_000;
  static final int DISTINCT = 1_000;

  private static SparkSession spark;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("HeavyClusterDedupTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void twentyThousandCopiesOfOneImageKeepOneRow() throws Exception {
    String clean = tmp.resolve("clean").toString();
    Map<FaultKind, Double> none = new EnumMap<>(FaultKind.class);
    for (FaultKind f : FaultKind.values()) {
      none.put(f, 0.0);
    }
    new GenerateJob(
            spark,
            GenerateJob.Options.builder(DISTINCT + 200, clean)
                .seed(3)
                .sides(128, 256)
                .faultRates(none)
                .build())
        .run();
    String heavy = tmp.resolve("heavy").toString();
    HeavyClusterInput.build(clean, DISTINCT, COPIES, heavy, 14);
    String out = tmp.resolve("dedup").toString();
    CurationSummary s = new DedupJob(spark, DedupJob.Options.from(StageConf.io(heavy, out))).run();

    assertThat(s.balanced()).as("rows in = rows out + rejected").isTrue();
    assertThat(s.rowsIn()).as("rows in").isEqualTo(DISTINCT + COPIES);
    long[] kept =
        HeavyClusterInput.count(Path.of(CurationOutput.data(out)), "url", HeavyClusterInput.PREFIX);
    assertThat(kept[1]).as("copies of the one image kept").isEqualTo(1);
    assertThat(((Number) s.details().get("candidate_pairs")).longValue())
        .as("candidate pairs stay linear in the rows, not quadratic in the copies")
        .isLessThan(60L * (DISTINCT + COPIES));
    assertThat(s.details().get("oversized_buckets"))
        .as("the copies' buckets exceeded the cap")
        .isNotEqualTo(0L);
  }
}
