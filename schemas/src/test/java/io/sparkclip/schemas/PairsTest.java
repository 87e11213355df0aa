package io.sparkclip.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PairsTest {
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("PairsTest")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static Row img2dataset(
      String key, String caption, String url, String status, String error, byte[] jpg) {
    return RowFactory.create(
        "q", caption, url, key, status, error, 10, 10, 10, 10, null, null, jpg);
  }

  @Test
  void prepareKeepsEveryRowAndSetsStatusAndSparkUidEqualsJavaUid() {
    List<Row> rows =
        List.of(
            img2dataset(
                "000000000", "a red circle", "https://a/1.jpg", "success", null, new byte[] {1, 2}),
            img2dataset("000000001", null, "https://a/2.jpg", "success", null, new byte[] {1}),
            img2dataset("000000002", "   ", "https://a/3.jpg", "success", null, new byte[] {1}),
            img2dataset(
                "000000003",
                "a blue star",
                "https://a/4.jpg",
                "failed_to_download",
                "HTTP 404",
                null),
            img2dataset(
                "000000004", "a green cross", "https://a/5.jpg", "success", null, new byte[0]),
            img2dataset("000000005", "", "https://a/6.jpg", "failed_to_download", "timeout", null));
    Dataset<Row> input = spark.createDataFrame(rows, Schemas.IMG2DATASET);
    ResolvedLayout layout = LayoutDetector.detect(input.schema());
    Dataset<Row> pairs = Pairs.prepare(input, layout);

    Map<String, Row> byKey = new HashMap<>();
    for (Row r : pairs.collectAsList()) { // six fixture rows
      byKey.put(r.getAs(Columns.KEY), r);
    }
    assertThat(byKey).as("no row dropped").hasSize(6);
    for (Row r : byKey.values()) {
      assertThat((String) r.getAs(Columns.UID))
          .as("Spark uid equals Java uid for " + r.getAs(Columns.KEY))
          .isEqualTo(Uid.of(r.getAs(Columns.URL), r.getAs(Columns.CAPTION)));
    }
    assertThat(status(byKey, "000000000")).as("clean row").isEqualTo(PairStatus.OK);
    assertThat(status(byKey, "000000001")).as("null caption").isEqualTo(PairStatus.MISSING_CAPTION);
    assertThat(status(byKey, "000000002"))
        .as("blank caption")
        .isEqualTo(PairStatus.MISSING_CAPTION);
    assertThat(status(byKey, "000000003"))
        .as("failed download")
        .isEqualTo(PairStatus.MISSING_IMAGE);
    assertThat((String) byKey.get("000000003").getAs(Columns.PAIR_STATUS_DETAIL))
        .as("detail carries img2dataset's reason")
        .isEqualTo("img2dataset status failed_to_download: HTTP 404");
    assertThat(status(byKey, "000000004")).as("zero bytes").isEqualTo(PairStatus.MISSING_IMAGE);
    assertThat((String) byKey.get("000000004").getAs(Columns.PAIR_STATUS_DETAIL))
        .as("empty bytes detail")
        .isEqualTo("image bytes are empty");
    assertThat(status(byKey, "000000005"))
        .as("both missing")
        .isEqualTo(PairStatus.MISSING_IMAGE_AND_CAPTION);
    assertThat((String) byKey.get("000000000").getAs(Columns.PAIR_STATUS_DETAIL))
        .as("ok rows have no detail")
        .isNull();
    assertThat(Pairs.prepare(pairs, layout).columns())
        .as("prepare is idempotent")
        .containsExactly(pairs.columns());
  }

  @Test
  void huggingFaceUidFallsBackToImagePath() {
    StructType schema = Schemas.HUGGING_FACE;
    Row withPath =
        RowFactory.create(RowFactory.create(new byte[] {1, 2, 3}, "img/001.jpg"), "a cat");
    Row noPath = RowFactory.create(RowFactory.create(new byte[] {1, 2, 3}, null), "a cat");
    Dataset<Row> input = spark.createDataFrame(List.of(withPath, noPath), schema);
    List<Row> out = Pairs.prepare(input, LayoutDetector.detect(schema)).collectAsList();
    assertThat((String) out.get(0).getAs(Columns.UID))
        .as("HF uid uses the image path as url")
        .isEqualTo(Uid.of("img/001.jpg", "a cat"));
    assertThat((String) out.get(1).getAs(Columns.UID))
        .as("without a path, the sha256 of the bytes")
        .isEqualTo(Uid.of(Uid.sha256Hex(new byte[] {1, 2, 3}), "a cat"));
  }

  @Test
  void inputUidColumnIsRenamedNotLost() {
    StructType schema =
        new StructType().add("uid", "string").add("url", "string").add("text", "string");
    Dataset<Row> input =
        spark.createDataFrame(List.of(RowFactory.create("dc-1", "https://x/y.jpg", "t")), schema);
    Row r = Pairs.prepare(input, LayoutDetector.detect(schema)).first();
    assertThat((String) r.getAs(Columns.SOURCE_UID)).as("DataComp uid kept").isEqualTo("dc-1");
    assertThat((String) r.getAs(Columns.UID))
        .as("our uid")
        .isEqualTo(Uid.of("https://x/y.jpg", "t"));
  }

  private static String status(Map<String, Row> byKey, String key) {
    return byKey.get(key).getAs(Columns.PAIR_STATUS);
  }
}
