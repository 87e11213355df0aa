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

  /**
   * The demo CLIP's score heads, trained by tools/train_demo_heads.py (committed under models/).
   */
  public static final Path DEMO_HEADS = ROOT.resolve("models/sparkclip-demo-clip-heads");

  /**
   * Linear fixture heads written by tools/train_demo_heads.py: score = sum_i w_i e_i + 0.25 with
   * w_i = (i - (D - 1) / 2) / D on the L2-normalised image embedding, output [N]; D = 64 (the demo
   * CLIP's width) and 32 (to fail the width check).
   */
  public static final Path LINEAR_HEADS = ROOT.resolve("jobs/src/test/resources/heads");
}
