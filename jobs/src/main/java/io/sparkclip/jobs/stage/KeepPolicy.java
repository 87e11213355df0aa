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
    List<Column> o = new ArrayList<>();
    List<String> names = Arrays.asList(schema.fieldNames());
    switch (this) {
      case LARGEST -> {
        if (names.contains(Columns.WIDTH) && names.contains(Columns.HEIGHT)) {
          o.add(
              col(Columns.WIDTH)
                  .cast("long")
                  .multiply(col(Columns.HEIGHT).cast("long"))
                  .desc_nulls_last());
        }
        if (layout.hasImages()) {
          o.add(length(layout.imageBytes()).desc_nulls_last());
        }
      }
      case LONGEST_CAPTION -> o.add(length(layout.caption()).desc_nulls_last());
      case LOWEST_UID -> o.add(lit(0));
    }
    o.add(col(Columns.UID).asc());
    layout.idCol().filter(names::contains).ifPresent(c -> o.add(ResolvedLayout.column(c).asc()));
    layout.url().ifPresent(u -> o.add(u.asc_nulls_last()));
    return o;
  }
}
