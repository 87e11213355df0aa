package io.sparkclip.jobs.cli;

import io.sparkclip.schemas.ColumnMapping;
import picocli.CommandLine.Option;

/** Column-mapping options that override layout detection. */
public final class MappingOptions {
  @Option(names = "--caption-col", description = "Column holding the caption (alt text).")
  String captionCol;

  @Option(
      names = "--image-col",
      description =
          "Column holding image bytes (binary or {bytes,path} struct); 'none' = no images.")
  String imageCol;

  @Option(names = "--url-col", description = "Column holding the image URL.")
  String urlCol;

  @Option(names = "--query-col", description = "Column holding the query that found the pair.")
  String queryCol;

  @Option(names = "--id-col", description = "Column holding the source's own id (kept as is).")
  String idCol;

  public ColumnMapping mapping() {
    return new ColumnMapping(captionCol, imageCol, urlCol, queryCol, idCol);
  }
}
