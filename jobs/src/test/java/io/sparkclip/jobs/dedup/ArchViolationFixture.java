package io.sparkclip.jobs.dedup;

import io.sparkclip.jobs.embed.EmbedJob;

/** A dedup class that imports another stage: the architecture test's negative control. */
public final class ArchViolationFixture {
  private ArchViolationFixture() {}

  /** The import the rule must catch. */
  public static String other() {
    return EmbedJob.class.getName();
  }
}
