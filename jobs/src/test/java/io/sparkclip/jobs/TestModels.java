package io.sparkclip.jobs;

import java.nio.file.Path;

/** Model directories the jobs tests use. */
public final class TestModels {
  private TestModels() {}

  private static final Path ROOT =
      Path.of(System.getProperty("basedir", ".")).resolve("..").toAbsolutePath().normalize();

  /** The random-weight tiny CLIP committed as a udfs test fixture (D = 32, 64 px). */
  public static final String TINY = ROOT.resolve("udfs/src/test/resources/tiny-clip").toString();

  /** The demo CLIP trained by tools/train_demo_clip.py (committed under models/). */
  public static final String DEMO = ROOT.resolve("models/sparkclip-demo-clip").toString();
}
