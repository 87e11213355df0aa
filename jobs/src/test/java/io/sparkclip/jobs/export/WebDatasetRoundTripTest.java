package io.sparkclip.jobs.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.curate.CurateJob;
import io.sparkclip.jobs.stage.CurationInput;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.WebDatasetShards;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.PairStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebDataset in, WebDataset out: shards in img2dataset's layout written by Python's tarfile (with a
 * truncated shard, a sample without image, one with two, a non-UTF-8 caption, dotted member names)
 * → {@code curate} ending with its export step ({@code export { format = webdataset }}), read back
 * by Python's tarfile. Every input sample is in an output shard with its original image bytes and
 * caption, or in a stage's rejects with a reason.
 */
class WebDatasetRoundTripTest {
  private static SparkSession spark;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("WebDatasetRoundTripTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void everySampleIsExportedOrRejectedWithAReason() throws Exception {
    WebDatasetShards shards =
        WebDatasetShards.standard(Files.createDirectories(tmp.resolve("members")));
    Path pool = tmp.resolve("pool");
    shards.write(pool);
    Path queries = tmp.resolve("queries.txt");
    Files.writeString(queries, "photo\nsample\n");
    String curated = tmp.resolve("curated").toString();
    Map<String, String> conf = new HashMap<>();
    conf.put("input", pool.toString());
    conf.put("out", curated);
    conf.put("queries", queries.toString());
    conf.put("model", TestModels.TINY);
    conf.put("export.format", "webdataset");
    conf.put("export.samples-per-shard", "5");
    List<CurateJob.StageResult> funnel = new CurateJob(spark, CurateJob.load(null, conf)).run();
    String last = funnel.get(funnel.size() - 1).dir();

    // The input as sparkclip sees it: uid per sample key.
    Map<String, String> keyOfUid = new TreeMap<>();
    Map<String, String> statusOfUid = new TreeMap<>();
    for (Row r :
        CurationInput.read(spark, pool.toString(), ColumnMapping.DETECT)
            .pairs()
            .select(Columns.UID, Columns.KEY, Columns.PAIR_STATUS)
            .collectAsList()) {
      keyOfUid.put(r.getString(0), r.getString(1));
      statusOfUid.put(r.getString(0), r.getString(2));
    }
    assertThat(keyOfUid.values())
        .as("every sample read once")
        .containsExactlyInAnyOrderElementsOf(shards.expected.keySet());

    // curate's export step wrote the last stage's kept rows as shards under out/export.
    Path out = Path.of(curated, CurateJob.EXPORT_DIR);
    JsonNode read = PythonReader.read("wds", out.toString());

    Map<String, String> exported = new TreeMap<>();
    for (JsonNode shard : read.get("shards")) {
      for (JsonNode s : shard.get("samples")) {
        String uid = s.get("json").get(Columns.UID).asText();
        WebDatasetShards.Sample want = shards.expected.get(keyOfUid.get(uid));
        assertThat(want).as("exported uid %s is an input sample", uid).isNotNull();
        assertThat(s.get("sha256").asText())
            .as("image bytes of %s unchanged", want.key())
            .isEqualTo(want.imageSha256());
        assertThat(s.get("caption").asText())
            .as("caption of %s", want.key())
            .isEqualTo(want.caption());
        exported.put(uid, s.get("key").asText());
      }
    }
    long sized = 0;
    for (JsonNode n : read.get("sizes.json")) {
      sized += n.asLong();
    }
    assertThat(sized).as("sizes.json counts the exported samples").isEqualTo(exported.size());
    Map<String, String> rejected = new TreeMap<>();
    for (CurateJob.StageResult st : funnel) {
      if (!Files.isDirectory(Path.of(CurationOutput.rejects(st.dir())))) {
        continue; // embed rejects nothing: it writes no rejects table
      }
      for (Row r :
          spark
              .read()
              .parquet(CurationOutput.rejects(st.dir()))
              .select(Columns.UID, Columns.REASON)
              .collectAsList()) {
        assertThat(r.getString(1)).as("a reason for rejected %s", r.getString(0)).isNotBlank();
        rejected.put(r.getString(0), r.getString(1));
      }
    }
    assertThat(exported).as("some samples survive curation").isNotEmpty();
    for (String uid : keyOfUid.keySet()) {
      assertThat(exported.containsKey(uid) ^ rejected.containsKey(uid))
          .as("sample %s exported or rejected, exactly one", keyOfUid.get(uid))
          .isTrue();
      if (!PairStatus.OK.equals(statusOfUid.get(uid))) {
        assertThat(rejected.get(uid))
            .as("unusable sample %s rejected with its status", keyOfUid.get(uid))
            .isEqualTo(statusOfUid.get(uid));
      }
    }
    assertThat(rejected.values())
        .as("the hostile samples are rejected as invalid")
        .contains(PairStatus.INVALID_SAMPLE);
  }
}
