package io.sparkclip.schemas;

import static org.apache.spark.sql.functions.col;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;

/**
 * The outcome of layout detection: which layout the input has and which column plays which role.
 * Small and serializable; jobs read pairs through these accessors, never by position.
 */
public final class ResolvedLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  private final InputLayout layout;
  private final String captionCol;
  private final String imageCol; // null for metadata-only
  private final boolean imageIsStruct; // Hugging Face {bytes, path}
  private final String urlCol; // may be null (Hugging Face)
  private final String queryCol; // may be null
  private final String idCol; // may be null

  ResolvedLayout(
      InputLayout layout,
      String captionCol,
      String imageCol,
      boolean imageIsStruct,
      String urlCol,
      String queryCol,
      String idCol) {
    this.layout = layout;
    this.captionCol = captionCol;
    this.imageCol = imageCol;
    this.imageIsStruct = imageIsStruct;
    this.urlCol = urlCol;
    this.queryCol = queryCol;
    this.idCol = idCol;
  }

  public InputLayout layout() {
    return layout;
  }

  public String captionCol() {
    return captionCol;
  }

  public Optional<String> imageCol() {
    return Optional.ofNullable(imageCol);
  }

  public boolean imageIsStruct() {
    return imageIsStruct;
  }

  public Optional<String> urlCol() {
    return Optional.ofNullable(urlCol);
  }

  public Optional<String> queryCol() {
    return Optional.ofNullable(queryCol);
  }

  public Optional<String> idCol() {
    return Optional.ofNullable(idCol);
  }

  public boolean hasImages() {
    return imageCol != null;
  }

  /** A column reference that tolerates dots and odd characters in names. */
  public static Column column(String name) {
    return col("`" + name.replace("`", "``") + "`");
  }

  public Column caption() {
    return column(captionCol);
  }

  /** The image bytes (binary); only when {@link #hasImages()}. */
  public Column imageBytes() {
    if (imageCol == null) {
      throw new IllegalStateException("layout " + layout.label() + " has no image column");
    }
    Column c = column(imageCol);
    return imageIsStruct ? c.getField(Columns.IMAGE_BYTES_FIELD) : c;
  }

  /** The Hugging Face image path, if the image column is a {bytes, path} struct. */
  public Optional<Column> imagePath() {
    return imageIsStruct
        ? Optional.of(column(imageCol).getField(Columns.IMAGE_PATH_FIELD))
        : Optional.empty();
  }

  public Optional<Column> url() {
    return urlCol().map(ResolvedLayout::column);
  }

  public Optional<Column> query() {
    return queryCol().map(ResolvedLayout::column);
  }

  /** Role → column name, in a stable order, for {@code inspect} and logs. */
  public Map<String, String> roles() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("caption", captionCol);
    m.put(
        "image",
        imageCol == null
            ? "(none)"
            : imageIsStruct ? imageCol + "." + Columns.IMAGE_BYTES_FIELD : imageCol);
    m.put("url", urlCol == null ? "(none)" : urlCol);
    m.put("query", queryCol == null ? "(none)" : queryCol);
    m.put("id", idCol == null ? "(none)" : idCol);
    return m;
  }

  @Override
  public String toString() {
    return layout.label() + " " + roles();
  }
}
