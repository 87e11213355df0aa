package io.sparkclip.schemas;

import static org.apache.spark.sql.types.DataTypes.BinaryType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class LayoutDetectorTest {

  @Test
  void detectsImg2datasetWithExtraColumnsPassedThrough() {
    StructType schema = Schemas.IMG2DATASET.add("similarity", "double");
    ResolvedLayout l = LayoutDetector.detect(schema);
    assertThat(l.layout()).as("layout of img2dataset parquet").isEqualTo(InputLayout.IMG2DATASET);
    assertThat(l.captionCol()).as("caption column").isEqualTo("caption");
    assertThat(l.imageCol()).as("image column").contains("jpg");
    assertThat(l.imageIsStruct()).as("jpg is plain binary").isFalse();
    assertThat(l.urlCol()).as("url column").contains("url");
    assertThat(l.queryCol()).as("query column").contains("query");
    assertThat(l.idCol()).as("img2dataset key is the source id").contains("key");
  }

  @Test
  void detectsImg2datasetWebpEncodeColumn() {
    StructType schema =
        new StructType()
            .add("caption", StringType)
            .add("url", StringType)
            .add("key", StringType)
            .add("webp", BinaryType);
    assertThat(LayoutDetector.detect(schema).imageCol()).as("webp encode column").contains("webp");
  }

  @Test
  void detectsHuggingFaceImageStruct() {
    ResolvedLayout l = LayoutDetector.detect(Schemas.HUGGING_FACE);
    assertThat(l.layout())
        .as("layout of an HF datasets export")
        .isEqualTo(InputLayout.HUGGING_FACE);
    assertThat(l.captionCol()).as("HF text column").isEqualTo("text");
    assertThat(l.imageIsStruct()).as("image is {bytes, path}").isTrue();
    assertThat(l.urlCol()).as("HF exports have no url").isEmpty();
  }

  @Test
  void detectsLaionMetadataOnly() {
    StructType schema =
        new StructType()
            .add("URL", StringType)
            .add("TEXT", StringType)
            .add("similarity", "double")
            .add("hash", LongType);
    ResolvedLayout l = LayoutDetector.detect(schema);
    assertThat(l.layout()).as("LAION parquet layout").isEqualTo(InputLayout.METADATA_ONLY);
    assertThat(l.captionCol()).as("LAION caption").isEqualTo("TEXT");
    assertThat(l.urlCol()).as("LAION url").contains("URL");
    assertThat(l.hasImages()).as("metadata-only has no images").isFalse();
  }

  @Test
  void dataCompUidIsKeptAsSourceUid() {
    StructType schema =
        new StructType()
            .add("uid", StringType)
            .add("url", StringType)
            .add("text", StringType)
            .add("clip_b32_similarity_score", "float");
    ResolvedLayout l = LayoutDetector.detect(schema);
    assertThat(l.idCol()).as("DataComp uid becomes the source id").contains("source_uid");
  }

  @Test
  void mappingOverridesDetection() {
    StructType schema =
        new StructType()
            .add("alt", StringType)
            .add("caption", StringType)
            .add("link", StringType)
            .add("pixels", BinaryType)
            .add("search_term", StringType)
            .add("photo_id", StringType);
    ColumnMapping mapping = new ColumnMapping("alt", "pixels", "link", "search_term", "photo_id");
    ResolvedLayout l = LayoutDetector.detect(schema, mapping, "in.parquet");
    assertThat(l.captionCol()).as("mapped caption wins over 'caption'").isEqualTo("alt");
    assertThat(l.imageCol()).as("mapped image").contains("pixels");
    assertThat(l.urlCol()).as("mapped url").contains("link");
    assertThat(l.queryCol()).as("mapped query").contains("search_term");
    assertThat(l.idCol()).as("mapped id").contains("photo_id");
    assertThat(l.layout())
        .as("binary image column → img2dataset-like")
        .isEqualTo(InputLayout.IMG2DATASET);
  }

  @Test
  void imageColNoneForcesMetadataOnly() {
    ColumnMapping mapping = new ColumnMapping(null, "none", null, null, null);
    ResolvedLayout l = LayoutDetector.detect(Schemas.IMG2DATASET, mapping, null);
    assertThat(l.layout()).as("--image-col none").isEqualTo(InputLayout.METADATA_ONLY);
  }

  @Test
  void ambiguousCaptionNamesColumnsLayoutsAndOption() {
    StructType schema =
        new StructType().add("url", StringType).add("caption", StringType).add("TEXT", StringType);
    assertThatThrownBy(() -> LayoutDetector.detect(schema, ColumnMapping.DETECT, "s3a://b/in"))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of an ambiguous caption")
                    .isEqualTo(ErrorId.INPUT_AMBIGUOUS_COLUMN))
        .as("message names the problem, the columns found, the layouts and the fix")
        .hasMessageContaining("caption and TEXT")
        .hasMessageContaining(
            "Columns found in s3a://b/in: url (string), caption (string), TEXT (string)")
        .hasMessageContaining("img2dataset")
        .hasMessageContaining("Hugging Face")
        .hasMessageContaining("metadata-only")
        .hasMessageContaining("--caption-col caption");
  }

  @Test
  void noCaptionFailsWithFix() {
    StructType schema = new StructType().add("url", StringType).add("jpg", BinaryType);
    assertThatThrownBy(() -> LayoutDetector.detect(schema))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a missing caption")
                    .isEqualTo(ErrorId.INPUT_NO_CAPTION_COLUMN))
        .as("missing caption")
        .hasMessageContaining("url (string), jpg (binary)")
        .hasMessageContaining("--caption-col");
  }

  @Test
  void wrongCaptionTypeNamesActualType() {
    StructType schema =
        new StructType().add("url", StringType).add("caption", LongType).add("alt", LongType);
    ColumnMapping mapping = new ColumnMapping("alt", null, null, null, null);
    assertThatThrownBy(() -> LayoutDetector.detect(schema, mapping, null))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a wrong caption type")
                    .isEqualTo(ErrorId.INPUT_COLUMN_WRONG_TYPE))
        .as("mapped caption of the wrong type")
        .hasMessageContaining("bigint")
        .hasMessageContaining("--caption-col");
  }

  @Test
  void unknownBinaryColumnAsksForMapping() {
    StructType schema =
        new StructType().add("url", StringType).add("caption", StringType).add("blob", BinaryType);
    assertThatThrownBy(() -> LayoutDetector.detect(schema))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of an unnamed binary column")
                    .isEqualTo(ErrorId.INPUT_UNNAMED_IMAGE_COLUMN))
        .as("an unrecognised binary column is not silently ignored")
        .hasMessageContaining("--image-col blob")
        .hasMessageContaining("--image-col none");
  }

  @Test
  void twoImageColumnsAreAmbiguous() {
    StructType schema = Schemas.IMG2DATASET.add("image", Schemas.HF_IMAGE);
    assertThatThrownBy(() -> LayoutDetector.detect(schema))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of an ambiguous image")
                    .isEqualTo(ErrorId.INPUT_AMBIGUOUS_COLUMN))
        .as("jpg and image struct")
        .hasMessageContaining("--image-col jpg");
  }

  @Test
  void mappedColumnThatDoesNotExist() {
    ColumnMapping mapping = new ColumnMapping("alt_text", null, null, null, null);
    assertThatThrownBy(() -> LayoutDetector.detect(Schemas.IMG2DATASET, mapping, null))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of a mapped column that does not exist")
                    .isEqualTo(ErrorId.INPUT_MAPPED_COLUMN_MISSING))
        .as("a typo in --caption-col")
        .hasMessageContaining("alt_text");
  }

  @Test
  void metadataWithoutUrlFails() {
    StructType schema = new StructType().add("caption", StringType);
    assertThatThrownBy(() -> LayoutDetector.detect(schema))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e ->
                assertThat(e.id())
                    .as("id of metadata-only without url")
                    .isEqualTo(ErrorId.INPUT_NO_URL_COLUMN))
        .as("metadata-only needs a url")
        .hasMessageContaining("--url-col");
  }
}
