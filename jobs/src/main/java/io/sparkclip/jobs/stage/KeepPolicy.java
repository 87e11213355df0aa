package io.sparkclip.jobs.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;

import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.Errors;
import io.sparkclip.schemas.ResolvedLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.StructType;

/**
 * Which row of a duplicate cluster is kept: the first in this order. Every policy ends with uid,
 * then the source id and url, so the choice never depends on partitioning.
 */
public enum KeepPolicy {
  /** Most pixels (width × height), then most image bytes, then lowest uid. Default. */
  LARGEST("largest"),
  /** Lowest uid: stable, content-blind. */
  LOWEST_UID("lowest-uid"),
  /** Longest caption, then lowest uid. */
  LONGEST_CAPTION("longest-caption");

  private final String label;

  KeepPolicy(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public static KeepPolicy fromLabel(String s) {
    return Arrays.stream(values())
        .filter(p -> p.label.equals(s.toLowerCase(Locale.ROOT)))
        .findFirst()
        .orElseThrow(() -> Errors.unknownKeepPolicy(s));
  }

  /** The sort order (first = kept) for a frame of this schema and layout. */
  public List<Column> order(StructType schema, ResolvedLayout layout) {
    return sortKeys(schema, layout).stream().map(k -> k.sort(k.value())).toList();
  }

  /**
   * One key of the keep order: a value and its direction, apart so that the values can be projected
   * into a narrower frame and sorted there ({@link SortKey#sort} on the projected column).
   */
  public record SortKey(Column value, boolean descending, boolean nullsLast) {
    public Column sort(Column c) {
      if (descending) {
        return nullsLast ? c.desc_nulls_last() : c.desc_nulls_first();
      }
      return nullsLast ? c.asc_nulls_last() : c.asc_nulls_first();
    }
  }

  /** The values of {@link #order} with their directions. */
  public List<SortKey> sortKeys(StructType schema, ResolvedLayout layout) {
    List<SortKey> o = new ArrayList<>();
    List<String> names = Arrays.asList(schema.fieldNames());
    switch (this) {
      case LARGEST -> {
        if (names.contains(Columns.WIDTH) && names.contains(Columns.HEIGHT)) {
          o.add(
              new SortKey(
                  col(Columns.WIDTH).cast("long").multiply(col(Columns.HEIGHT).cast("long")),
                  true,
                  true));
        }
        if (layout.hasImages()) {
          o.add(new SortKey(length(layout.imageBytes()), true, true));
        }
      }
      case LONGEST_CAPTION -> o.add(new SortKey(length(layout.caption()), true, true));
      case LOWEST_UID -> o.add(new SortKey(lit(0), false, false));
    }
    o.add(new SortKey(col(Columns.UID), false, false));
    layout
        .idCol()
        .filter(names::contains)
        .ifPresent(c -> o.add(new SortKey(ResolvedLayout.column(c), false, false)));
    layout.url().ifPresent(u -> o.add(new SortKey(u, false, true)));
    return o;
  }
}
