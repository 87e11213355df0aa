package io.sparkclip.jobs.stage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkclip.jobs.generate.ShapeRenderer;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * Test fixture: WebDataset shards in img2dataset's layout, written by Python's tarfile ({@code
 * stage/make_webdataset.py}), with the hostile cases of real pools: a sample without an image, a
 * sample with two, a caption that is not UTF-8, member names with several dots and dotted folders,
 * a PNG among JPEGs, and a shard cut short inside a member. {@link #expected} is what a reader must
 * yield per sample key.
 */
public final class WebDatasetShards {
  /** What one sample should read as. */
  public record Sample(
      String key, String caption, String url, String imageSha256, String error, String shard) {}

  public final Map<String, Sample> expected = new LinkedHashMap<>();
  private final List<Map<String, Object>> shards = new ArrayList<>();
  private final Path files;
  private int serial;

  public WebDatasetShards(Path files) {
    this.files = files;
  }

  /** The standard fixture: two sound shards and one hostile, truncated shard. */
  public static WebDatasetShards standard(Path files) throws Exception {
    WebDatasetShards w = new WebDatasetShards(files);
    List<Map<String, Object>> s0 = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      w.sound(s0, "00000", String.format("%09d", i), "jpg", "00000.tar");
    }
    w.shard("00000.tar", s0, null);
    List<Map<String, Object>> s1 = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String key = String.format("%09d", 10_000 + i);
      if (i == 3) {
        w.sound(s1, "00001", key, "png", "00001.tar");
      } else if (i == 5) {
        w.sound(s1, "00001", "sub.dir/" + key, "jpg", "00001.tar");
      } else if (i == 6) {
        w.sound(s1, "00001", key, "x.y.jpg", "00001.tar");
      } else {
        w.sound(s1, "00001", key, "jpg", "00001.tar");
      }
    }
    w.shard("00001.tar", s1, null);
    List<Map<String, Object>> s2 = new ArrayList<>();
    w.sound(s2, "00002", "000020000", "jpg", "00002.tar");
    // No image member.
    w.member(s2, "000020001.txt", "a caption without its picture".getBytes(StandardCharsets.UTF_8));
    w.member(s2, "000020001.json", json("000020001", "a caption without its picture", null));
    w.expect("000020001", "a caption without its picture", null, "no image member", "00002.tar");
    // Two images.
    w.member(s2, "000020002.jpg", w.image(2, "jpg"));
    w.member(s2, "000020002.png", w.image(3, "png"));
    w.member(s2, "000020002.txt", "two pictures".getBytes(StandardCharsets.UTF_8));
    w.expect("000020002", "two pictures", null, "2 image members", "00002.tar");
    // A caption in Latin-1, not UTF-8.
    w.member(s2, "000020003.jpg", w.image(4, "jpg"));
    w.member(s2, "000020003.txt", new byte[] {'c', 'a', 'f', (byte) 0xe9, ' ', 'a', 'u', ' ', 'l'});
    w.expect("000020003", null, null, "not UTF-8", "00002.tar");
    w.sound(s2, "00002", "000020004", "jpg", "00002.tar");
    // Cut inside this sample's image: the shard ends there.
    w.member(s2, "000020005.txt", "cut short".getBytes(StandardCharsets.UTF_8));
    w.member(s2, "000020005.jpg", w.image(5, "jpg"));
    w.expect("000020005", "cut short", null, "truncated", "00002.tar");
    w.shard("00002.tar", s2, "000020005.jpg");
    return w;
  }

  /** A shard of captions and metadata only (no image members). */
  public void textOnlyShard(String name, int samples) throws Exception {
    List<Map<String, Object>> s = new ArrayList<>();
    for (int i = 0; i < samples; i++) {
      String key = String.format("%09d", i);
      member(s, key + ".txt", ("caption " + i).getBytes(StandardCharsets.UTF_8));
      member(s, key + ".json", json(key, "caption " + i, "http://x.example/" + i));
    }
    shard(name, s, null);
  }

  private void sound(List<Map<String, Object>> s, String shard, String key, String ext, String tar)
      throws Exception {
    byte[] img = image(serial++, ext.endsWith("png") ? "png" : "jpg");
    String caption = "a photo of sample " + key.replace('/', ' ');
    String url = "http://images.example/" + shard + "/" + key + "." + ext;
    member(s, key + "." + ext, img);
    member(s, key + ".txt", caption.getBytes(StandardCharsets.UTF_8));
    member(s, key + ".json", json(key, caption, url, sha256(img)));
    expected.put(key, new Sample(key, caption, url, sha256(img), null, tar));
  }

  private void expect(String key, String caption, String sha, String error, String tar) {
    expected.put(key, new Sample(key, caption, null, sha, error, tar));
  }

  private void member(List<Map<String, Object>> s, String name, byte[] data) throws Exception {
    Path f = files.resolve("m" + (serial++) + ".bin");
    Files.write(f, data);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("file", f.toString());
    s.add(m);
  }

  private void shard(String name, List<Map<String, Object>> members, String truncateIn) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("sidecars", true);
    m.put("members", members);
    if (truncateIn != null) {
      m.put("truncate_in", truncateIn);
    }
    shards.add(m);
  }

  private static byte[] json(String key, String caption, String url, String... sha) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("url", url);
    m.put("caption", caption);
    m.put("key", key);
    m.put("status", "success");
    m.put("error_message", null);
    m.put("width", 96);
    m.put("height", 72);
    m.put("original_width", 480);
    m.put("original_height", 360);
    m.put("exif", "{}");
    m.put("sha256", sha.length > 0 ? sha[0] : null);
    m.put("similarity", 0.31);
    try {
      return new ObjectMapper().writeValueAsBytes(m);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A distinct picture (random shapes on a random background). */
  byte[] image(int seed, String format) throws Exception {
    SplittableRandom r = new SplittableRandom(1000 + seed);
    int w = 96 + r.nextInt(64);
    int h = 72 + r.nextInt(48);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
    g.fillRect(0, 0, w, h);
    for (int i = 0; i < 6; i++) {
      g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
      g.fillOval(r.nextInt(w), r.nextInt(h), 10 + r.nextInt(w / 2), 10 + r.nextInt(h / 2));
    }
    g.dispose();
    if (format.equals("png")) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    }
    return ShapeRenderer.jpeg(img, 90);
  }

  /** Writes the shards (and img2dataset's sidecars) into {@code out} with Python's tarfile. */
  public JsonNode write(Path out) throws Exception {
    Path spec = files.resolve("spec.json");
    new ObjectMapper().writeValue(spec.toFile(), Map.of("shards", shards));
    Path script = Path.of(WebDatasetShards.class.getResource("/stage/make_webdataset.py").toURI());
    Process p =
        new ProcessBuilder("/usr/bin/python3", script.toString(), spec.toString(), out.toString())
            .redirectError(ProcessBuilder.Redirect.PIPE)
            .start();
    byte[] stdout = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("make_webdataset.py failed: " + err);
    }
    return new ObjectMapper().readTree(stdout);
  }

  public static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
