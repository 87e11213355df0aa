package io.sparkclip.jobs.score;

/**
 * The CLIP paper's in-batch view of one group of K pairs (Figure 3 pseudocode): logits = scale ·
 * I·Tᵀ over L2-normalised embeddings; each pair's own caption should win among the K captions for
 * its image (row), and its own image among the K images for its caption (column). Pure Java.
 */
public final class InBatchContrast {
  private InBatchContrast() {}

  /** Per pair: rank of its own caption for its image and of its own image for its caption. */
  public record Result(int[] imageRank, int[] textRank, double loss) {}

  /**
   * @param img K image embeddings (L2-normalised)
   * @param txt K text embeddings (L2-normalised), txt[i] is img[i]'s caption
   * @param scale the model's logit scale (exp of the learned log-temperature)
   */
  public static Result of(float[][] img, float[][] txt, double scale) {
    int k = img.length;
    if (txt.length != k) {
      throw new IllegalArgumentException(k + " images but " + txt.length + " captions");
    }
    double[][] logits = new double[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        double d = 0;
        float[] a = img[i];
        float[] b = txt[j];
        for (int t = 0; t < a.length; t++) {
          d += (double) a[t] * b[t];
        }
        logits[i][j] = scale * d;
      }
    }
    int[] imageRank = new int[k];
    int[] textRank = new int[k];
    double lossImages = 0;
    double lossTexts = 0;
    for (int i = 0; i < k; i++) {
      double own = logits[i][i];
      int rowBetter = 0;
      int colBetter = 0;
      double rowMax = Double.NEGATIVE_INFINITY;
      double colMax = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        rowMax = Math.max(rowMax, logits[i][j]);
        colMax = Math.max(colMax, logits[j][i]);
        if (j != i && logits[i][j] > own) {
          rowBetter++;
        }
        if (j != i && logits[j][i] > own) {
          colBetter++;
        }
      }
      imageRank[i] = rowBetter + 1;
      textRank[i] = colBetter + 1;
      double rowSum = 0;
      double colSum = 0;
      for (int j = 0; j < k; j++) {
        rowSum += Math.exp(logits[i][j] - rowMax);
        colSum += Math.exp(logits[j][i] - colMax);
      }
      lossImages += -(own - rowMax - Math.log(rowSum));
      lossTexts += -(own - colMax - Math.log(colSum));
    }
    return new Result(imageRank, textRank, (lossImages / k + lossTexts / k) / 2);
  }
}
