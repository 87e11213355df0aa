package io.sparkclip.schemas;

import java.io.Serializable;
import java.util.Optional;

/**
 * Explicit column choices ({@code --caption-col}, {@code --image-col}, {@code --url-col}, {@code
 * --query-col}, {@code --id-col}) that override layout detection. Unset fields are detected. {@code
 * --image-col none} forces the metadata-only layout.
 */
public final class ColumnMapping implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The value of {@code --image-col} that means "this input has no images". */
  public static final String NONE = "none";

  public static final ColumnMapping DETECT = new ColumnMapping(null, null, null, null, null);

  private final String captionCol;
  private final String imageCol;
  private final String urlCol;
  private final String queryCol;
  private final String idCol;

  public ColumnMapping(
      String captionCol, String imageCol, String urlCol, String queryCol, String idCol) {
    this.captionCol = blankToNull(captionCol);
    this.imageCol = blankToNull(imageCol);
    this.urlCol = blankToNull(urlCol);
    this.queryCol = blankToNull(queryCol);
    this.idCol = blankToNull(idCol);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  public Optional<String> captionCol() {
    return Optional.ofNullable(captionCol);
  }

  public Optional<String> imageCol() {
    return Optional.ofNullable(imageCol);
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

  @Override
  public String toString() {
    return "ColumnMapping{caption="
        + captionCol
        + ", image="
        + imageCol
        + ", url="
        + urlCol
        + ", query="
        + queryCol
        + ", id="
        + idCol
        + "}";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ColumnMapping m
        && java.util.Objects.equals(captionCol, m.captionCol)
        && java.util.Objects.equals(imageCol, m.imageCol)
        && java.util.Objects.equals(urlCol, m.urlCol)
        && java.util.Objects.equals(queryCol, m.queryCol)
        && java.util.Objects.equals(idCol, m.idCol);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(captionCol, imageCol, urlCol, queryCol, idCol);
  }
}
