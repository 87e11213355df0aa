package io.sparkclip.schemas;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Recognises the input layout from a schema alone, so a wrong or ambiguous input fails before any
 * Spark action. Pure: takes a {@link StructType}, returns a {@link ResolvedLayout} or throws a
 * {@link SparkclipException} that names the columns found, the layouts expected and the option that
 * fixes it.
 */
public final class LayoutDetector {
  private LayoutDetector() {}

  /** Caption columns recognised without a mapping, in the layouts that use them. */
  static final List<String> CAPTION_CANDIDATES =
      List.of(Columns.CAPTION, Columns.TEXT, Columns.LAION_TEXT);

  /** Binary image columns recognised without a mapping (img2dataset names them after format). */
  static final List<String> BINARY_IMAGE_CANDIDATES =
      List.of(Columns.JPG, "jpeg", "png", "webp", Columns.IMAGE);

  static final List<String> URL_CANDIDATES = List.of(Columns.URL, Columns.LAION_URL);

  public static ResolvedLayout detect(StructType schema) {
    return detect(schema, ColumnMapping.DETECT, null);
  }

  /**
   * @param source a description of the input for messages (e.g. its path), or null
   */
  public static ResolvedLayout detect(StructType schema, ColumnMapping mapping, String source) {
    String caption = resolveCaption(schema, mapping, source);
    ImageChoice image = resolveImage(schema, mapping, source);
    String url =
        resolveOptionalString(schema, mapping.urlCol(), URL_CANDIDATES, "--url-col", source);
    String query =
        resolveOptionalString(
            schema, mapping.queryCol(), List.of(Columns.QUERY), "--query-col", source);
    String id = resolveId(schema, mapping, image, source);

    InputLayout layout;
    if (image == null) {
      layout = InputLayout.METADATA_ONLY;
      if (url == null) {
        throw Errors.noUrlColumn(schema, source);
      }
    } else if (image.isStruct) {
      layout = InputLayout.HUGGING_FACE;
    } else {
      layout = InputLayout.IMG2DATASET;
    }
    return new ResolvedLayout(
        layout,
        caption,
        image == null ? null : image.name,
        image != null && image.isStruct,
        url,
        query,
        id);
  }

  /** The image column of a frame read for its images alone, and its id column (null if none). */
  public record ImageColumns(String image, boolean isStruct, String id) implements Serializable {}

  /**
   * The image column (as {@link #detect} finds it, {@code --image-col} or the known names) and the
   * id column of a frame that needs no caption, such as an evaluation set; empty when there is no
   * image column. The id is {@code uid}, else {@code key}, else {@code id}, whichever is present.
   */
  public static Optional<ImageColumns> detectImages(
      StructType schema, ColumnMapping mapping, String source) {
    ImageChoice image = resolveImage(schema, mapping, source);
    if (image == null) {
      return Optional.empty();
    }
    String id = mapping.idCol().orElse(null);
    for (String c : List.of(Columns.UID, Columns.KEY, "id")) {
      if (id == null && field(schema, c).isPresent()) {
        id = c;
      }
    }
    return Optional.of(new ImageColumns(image.name, image.isStruct, id));
  }

  private static String resolveCaption(StructType schema, ColumnMapping mapping, String source) {
    if (mapping.captionCol().isPresent()) {
      String name = mapping.captionCol().get();
      StructField f =
          field(schema, name)
              .orElseThrow(() -> Errors.missingMapped("--caption-col", name, schema, source));
      requireString(f, "caption", "--caption-col", source);
      return name;
    }
    List<String> found = new ArrayList<>();
    for (String c : CAPTION_CANDIDATES) {
      field(schema, c).filter(f -> f.dataType() instanceof StringType).ifPresent(f -> found.add(c));
    }
    if (found.isEmpty()) {
      throw Errors.noCaptionColumn(CAPTION_CANDIDATES, schema, source);
    }
    if (found.size() > 1) {
      throw Errors.ambiguous("caption", found, "--caption-col", schema, source);
    }
    return found.get(0);
  }

  private record ImageChoice(String name, boolean isStruct) {}

  private static ImageChoice resolveImage(StructType schema, ColumnMapping mapping, String source) {
    if (mapping.imageCol().isPresent()) {
      String name = mapping.imageCol().get();
      if (name.equalsIgnoreCase(ColumnMapping.NONE)) {
        return null;
      }
      StructField f =
          field(schema, name)
              .orElseThrow(() -> Errors.missingMapped("--image-col", name, schema, source));
      if (f.dataType() instanceof BinaryType) {
        return new ImageChoice(name, false);
      }
      if (isHfImageStruct(f.dataType())) {
        return new ImageChoice(name, true);
      }
      throw Errors.wrongType(
          "image",
          name,
          f.dataType().simpleString(),
          "binary or struct<bytes:binary,path:string>",
          "--image-col",
          source);
    }
    List<ImageChoice> found = new ArrayList<>();
    for (String c : BINARY_IMAGE_CANDIDATES) {
      field(schema, c)
          .ifPresent(
              f -> {
                if (f.dataType() instanceof BinaryType) {
                  found.add(new ImageChoice(c, false));
                } else if (isHfImageStruct(f.dataType())) {
                  found.add(new ImageChoice(c, true));
                }
              });
    }
    if (found.size() > 1) {
      throw Errors.ambiguous(
          "image", found.stream().map(ImageChoice::name).toList(), "--image-col", schema, source);
    }
    if (found.size() == 1) {
      return found.get(0);
    }
    List<String> otherBinary =
        Arrays.stream(schema.fields())
            .filter(f -> f.dataType() instanceof BinaryType || isHfImageStruct(f.dataType()))
            .map(StructField::name)
            .toList();
    if (!otherBinary.isEmpty()) {
      throw Errors.unnamedImageColumn(otherBinary, schema, source);
    }
    return null;
  }

  private static String resolveId(
      StructType schema, ColumnMapping mapping, ImageChoice image, String source) {
    if (mapping.idCol().isPresent()) {
      String name = mapping.idCol().get();
      field(schema, name).orElseThrow(() -> Errors.missingMapped("--id-col", name, schema, source));
      return Columns.UID.equals(name) && !isPrepared(schema) ? Columns.SOURCE_UID : name;
    }
    if (field(schema, Columns.UID).isPresent() && !isPrepared(schema)) {
      return Columns.SOURCE_UID; // e.g. DataComp's uid, kept under another name
    }
    if (field(schema, Columns.SOURCE_UID).isPresent()) {
      return Columns.SOURCE_UID;
    }
    return field(schema, Columns.KEY).isPresent() ? Columns.KEY : null;
  }

  private static String resolveOptionalString(
      StructType schema,
      Optional<String> mapped,
      List<String> candidates,
      String option,
      String source) {
    if (mapped.isPresent()) {
      String name = mapped.get();
      StructField f =
          field(schema, name).orElseThrow(() -> Errors.missingMapped(option, name, schema, source));
      requireString(f, option.replace("--", "").replace("-col", ""), option, source);
      return name;
    }
    List<String> found = new ArrayList<>();
    for (String c : candidates) {
      field(schema, c).filter(f -> f.dataType() instanceof StringType).ifPresent(f -> found.add(c));
    }
    if (found.size() > 1) {
      throw Errors.ambiguous(
          option.replace("--", "").replace("-col", ""), found, option, schema, source);
    }
    return found.isEmpty() ? null : found.get(0);
  }

  /** True if the schema already went through {@link Pairs#prepare} (our uid + pair status). */
  public static boolean isPrepared(StructType schema) {
    return field(schema, Columns.UID).isPresent() && field(schema, Columns.PAIR_STATUS).isPresent();
  }

  private static boolean isHfImageStruct(DataType type) {
    if (!(type instanceof StructType st)) {
      return false;
    }
    return field(st, Columns.IMAGE_BYTES_FIELD)
        .filter(f -> f.dataType() instanceof BinaryType)
        .isPresent();
  }

  private static void requireString(StructField f, String role, String option, String source) {
    if (!(f.dataType() instanceof StringType)) {
      throw Errors.wrongType(role, f.name(), f.dataType().simpleString(), "string", option, source);
    }
  }

  /** Exact-name lookup (Spark's own resolution is case-insensitive; layouts are not). */
  static Optional<StructField> field(StructType schema, String name) {
    return Arrays.stream(schema.fields()).filter(f -> f.name().equals(name)).findFirst();
  }
}
