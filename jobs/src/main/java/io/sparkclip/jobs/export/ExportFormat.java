package io.sparkclip.jobs.export;

import io.sparkclip.schemas.Errors;

/** The formats {@code sparkclip export} writes, by their {@code --format} label. */
public enum ExportFormat {
  /** Tar shards for open_clip / WebDataset readers. */
  WEBDATASET("webdataset"),
  /** clip-retrieval's img_emb/, text_emb/ and metadata/ parts. */
  CLIP_RETRIEVAL("clip-retrieval"),
  /** A DataComp subset: a .npy of the kept rows' DataComp uids. */
  DATACOMP_UIDS("datacomp-uids");

  private final String label;

  ExportFormat(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public static ExportFormat of(String label) {
    for (ExportFormat f : values()) {
      if (f.label.equals(label)) {
        return f;
      }
    }
    throw Errors.unknownExportFormat(label);
  }
}
