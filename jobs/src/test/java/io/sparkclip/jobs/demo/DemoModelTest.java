package io.sparkclip.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.TestModels;
import io.sparkclip.jobs.generate.Vocabulary;
import io.sparkclip.udfs.embed.EmbedResult;
import io.sparkclip.udfs.embed.EmbedSettings;
import io.sparkclip.udfs.embed.Embedders;
import io.sparkclip.udfs.embed.ImageEmbedder;
import io.sparkclip.udfs.embed.TextEmbedder;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The committed demo model (models/sparkclip-demo-clip) loads in the Java engine and reproduces the
 * torch embeddings tools/train_demo_clip.py wrote next to it, and classifies zero-shot.
 */
class DemoModelTest {
  private static JsonNode reference() throws Exception {
    try (InputStream in =
        DemoModelTest.class.getResourceAsStream("/demo-clip-reference/reference.json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  private static byte[] image(String name) throws Exception {
    try (InputStream in = DemoModelTest.class.getResourceAsStream("/demo-clip-reference/" + name)) {
      return in.readAllBytes();
    }
  }

  private static double cosine(float[] a, JsonNode b) {
    double d = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      double y = b.get(i).asDouble();
      d += a[i] * y;
      na += a[i] * a[i];
      nb += y * y;
    }
    return d / Math.sqrt(na * nb);
  }

  private static double dot(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d += a[i] * b[i];
    }
    return d;
  }

  @Test
  void javaEmbeddingsMatchTorchAndZeroShotWorks() throws Exception {
    JsonNode ref = reference();
    EmbedSettings s = EmbedSettings.of(TestModels.DEMO);
    TextEmbedder text = Embedders.text(s);
    List<String> captions = new ArrayList<>();
    ref.get("captions").forEach(c -> captions.add(c.get("text").asText()));
    EmbedResult[] t = text.infer(text.prepare(captions));
    for (int i = 0; i < t.length; i++) {
      assertThat(cosine(t[i].embedding, ref.get("captions").get(i).get("embedding")))
          .as("text embedding of '%s' vs torch", captions.get(i))
          .isGreaterThan(0.9999);
    }

    ImageEmbedder img = Embedders.image(s);
    List<byte[]> images = new ArrayList<>();
    for (JsonNode i : ref.get("images")) {
      images.add(image(i.get("file").asText()));
    }
    EmbedResult[] v = img.infer(img.prepare(images));

    List<String> classes = new ArrayList<>();
    List<String> prompts = new ArrayList<>();
    for (Vocabulary.Named c : Vocabulary.COLOURS) {
      for (String shape : Vocabulary.SHAPES) {
        classes.add(c.name() + " " + shape);
        prompts.add("a photo of a " + c.name() + " " + shape + ".");
      }
    }
    EmbedResult[] p = text.infer(text.prepare(prompts));
    int correct = 0;
    for (int i = 0; i < v.length; i++) {
      JsonNode r = ref.get("images").get(i);
      assertThat(cosine(v[i].embedding, r.get("embedding")))
          .as("image embedding of %s (Java decode + preprocessing) vs torch (PIL)", r.get("file"))
          .isGreaterThan(0.999);
      int best = 0;
      for (int k = 1; k < p.length; k++) {
        if (dot(v[i].embedding, p[k].embedding) > dot(v[i].embedding, p[best].embedding)) {
          best = k;
        }
      }
      correct += classes.get(best).equals(r.get("class").asText()) ? 1 : 0;
    }
    assertThat(correct)
        .as("zero-shot top-1 over 70 classes on the 4 reference images (chance: 1/70 each)")
        .isGreaterThanOrEqualTo(2);
  }
}
