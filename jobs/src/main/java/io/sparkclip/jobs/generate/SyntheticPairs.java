package io.sparkclip.jobs.generate;

import io.sparkclip.schemas.FaultKind;
import io.sparkclip.schemas.Uid;
import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic scraped pairs: every field of row {@code i} is a pure function of (seed,
 * i), so any shard can be produced by any task, in any order, on any machine, with byte-identical
 * results. Duplicates and shuffled captions re-derive their partner row instead of looking it up,
 * so generation needs no shuffle and no driver state.
 */
public final class SyntheticPairs implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Generator settings. Small and serializable: this is all that travels to executors. */
  public record Config(
      long rows,
      long seed,
      int shardSize,
      int queries,
      double zipfExponent,
      Map<FaultKind, Double> faultRates,
      int minSide,
      int maxSide,
      double pngShare,
      boolean metadataOnly,
      int evalExtra)
      implements Serializable {

    public static Map<FaultKind, Double> defaultFaultRates() {
      EnumMap<FaultKind, Double> m = new EnumMap<>(FaultKind.class);
      m.put(FaultKind.EXACT_DUPLICATE, 0.03);
      m.put(FaultKind.URL_DUPLICATE, 0.01);
      m.put(FaultKind.NEAR_DUPLICATE, 0.03);
      m.put(FaultKind.SHUFFLED_CAPTION, 0.05);
      m.put(FaultKind.CORRUPT_IMAGE, 0.01);
      m.put(FaultKind.MISSING_CAPTION, 0.01);
      m.put(FaultKind.FAILED_DOWNLOAD, 0.01);
      return m;
    }

    public Config {
      faultRates = new EnumMap<>(faultRates);
      if (metadataOnly) {
        for (FaultKind k : FaultKind.values()) {
          if (k.needsImages()) {
            faultRates.put(k, 0.0);
          }
        }
      }
    }

    /**
     * Whether there is a held-out evaluation set: pool rows copy its images ({@link
     * FaultKind#EVAL_COPY}) or it has items the pool never copies.
     */
    public boolean hasEvalSet() {
      return !metadataOnly
          && (faultRates.getOrDefault(FaultKind.EVAL_COPY, 0.0) > 0 || evalExtra > 0);
    }

    public long shards() {
      return rows == 0 ? 0 : (rows + shardSize - 1) / shardSize;
    }

    /** Index of the first row of a shard. */
    public long firstRow(long shard) {
      return shard * shardSize;
    }

    /** Index one past the last row of a shard. */
    public long endRow(long shard) {
      return Math.min(rows, firstRow(shard) + shardSize);
    }

    /** Digits of the within-shard part of the key: 4 like img2dataset, more for big shards. */
    int indexDigits() {
      return Math.max(4, String.valueOf(shardSize - 1).length());
    }
  }

  /** The clean, un-faulted content of a row: what the "web page" showed. */
  record Base(
      int queryRank,
      int colour,
      int shape,
      int position,
      int background,
      int style,
      int template,
      int width,
      int height,
      double sizeFactor,
      double rotation,
      int noise,
      long noiseSeed,
      int jpegQuality,
      boolean png) {}

  /** One generated row, with its ground truth. */
  public record Pair(
      long index,
      String key,
      String query,
      String caption,
      String url,
      String status,
      String errorMessage,
      Integer width,
      Integer height,
      String exif,
      String sha256,
      byte[] image,
      FaultKind fault,
      String originalUid,
      String faultDetail,
      String backgroundStyle) {
    public String uid() {
      return Uid.of(url, caption);
    }
  }

  private static final long STREAM_FAULT = 1;
  private static final long STREAM_BASE = 2;
  private static final long STREAM_PARTNER = 3;
  private static final long STREAM_DETAIL = 4;
  private static final long STREAM_EVAL = 5;
  private static final int PARTNER_TRIES = 64;

  private static final List<String> HOSTS =
      List.of(
          "cdn%d.shopfront.com",
          "img%d.photoblog.net",
          "media%d.newsdaily.org",
          "static%d.artgallery.io",
          "i%d.forumpics.com",
          "assets%d.stockimg.co");
  private static final List<String> DOWNLOAD_ERRORS =
      List.of(
          "HTTP Error 404: Not Found",
          "HTTP Error 403: Forbidden",
          "<urlopen error timed out>",
          "HTTP Error 500: Internal Server Error");

  private final Config config;
  private final double[] faultCdf;
  private final FaultKind[] faultOrder;
  private transient QueryList queries;

  public SyntheticPairs(Config config) {
    this.config = config;
    this.faultOrder = FaultKind.values();
    this.faultCdf = new double[faultOrder.length];
    double acc = 0;
    for (int k = 0; k < faultOrder.length; k++) {
      acc += config.faultRates().getOrDefault(faultOrder[k], 0.0);
      faultCdf[k] = acc;
    }
    if (acc > 0.9) {
      throw new IllegalArgumentException(
          "fault rates add up to " + acc + "; keep them below 0.9 so most rows stay clean");
    }
  }

  public Config config() {
    return config;
  }

  public QueryList queries() {
    if (queries == null) {
      queries = QueryList.of(config.queries(), config.zipfExponent());
    }
    return queries;
  }

  static SplittableRandom rng(long seed, long index, long stream) {
    long h = seed * 0x9E3779B97F4A7C15L;
    h ^= (index + 0x632BE59BD9B4E019L) * 0xC2B2AE3D27D4EB4FL;
    h ^= (stream + 1) * 0x165667B19E3779F9L;
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    return new SplittableRandom(h);
  }

  /** The fault injected into row i, or null for a clean row. */
  public FaultKind faultOf(long i) {
    double u = rng(config.seed(), i, STREAM_FAULT).nextDouble();
    for (int k = 0; k < faultOrder.length; k++) {
      if (u < faultCdf[k]) {
        return faultOrder[k];
      }
    }
    return null;
  }

  public String key(long i) {
    long shard = i / config.shardSize();
    long idx = i % config.shardSize();
    return String.format("%05d%0" + config.indexDigits() + "d", shard, idx);
  }

  String url(long i) {
    SplittableRandom r = rng(config.seed(), i, STREAM_BASE + 100);
    String host = String.format(HOSTS.get(r.nextInt(HOSTS.size())), 1 + r.nextInt(9));
    return String.format(
        "https://%s/%s/%016x.%s",
        host, 2010 + r.nextInt(15), r.nextLong(), r.nextInt(10) == 0 ? "png" : "jpg");
  }

  Base base(long i) {
    return base(rng(config.seed(), i, STREAM_BASE));
  }

  /**
   * Eval item {@code e} of the held-out evaluation set: drawn as a pool row is, from its own random
   * stream, so it is in no pool row unless one copies it. Item {@code i < rows} exists when pool
   * row {@code i} is its copy ({@link FaultKind#EVAL_COPY}); items {@code rows + j} ({@code j <
   * evalExtra}) are never copied.
   */
  Base evalBase(long e) {
    return base(rng(config.seed(), e, STREAM_EVAL));
  }

  /**
   * The eval item's key (its file name in {@link io.sparkclip.schemas.StageFiles#EVAL_SET_DIR}).
   */
  public static String evalKey(long e) {
    return String.format("eval%010d", e);
  }

  /** An item of the evaluation set: key, caption and encoded image. */
  public record EvalItem(String key, String caption, byte[] image) {}

  public EvalItem evalItem(long e) {
    Base b = evalBase(e);
    return new EvalItem(evalKey(e), caption(b), encode(b, ShapeRenderer.render(scene(b))));
  }

  private Base base(SplittableRandom r) {
    int rank = queries().sampleRank(r);
    QueryList.Query q = queries().get(rank);
    int colour = q.colour() >= 0 ? q.colour() : r.nextInt(Vocabulary.COLOURS.size());
    int shape = q.shape() >= 0 ? q.shape() : r.nextInt(Vocabulary.SHAPES.size());
    int position = r.nextInt(Vocabulary.POSITIONS.size());
    int background = r.nextInt(Vocabulary.BACKGROUNDS.size());
    for (int t = 0;
        t < 16
            && !Vocabulary.contrasts(
                Vocabulary.COLOURS.get(colour).rgb(), Vocabulary.BACKGROUNDS.get(background).rgb());
        t++) {
      background = (background + 1) % Vocabulary.BACKGROUNDS.size();
    }
    int style = r.nextInt(Vocabulary.STYLES.size());
    int template = r.nextInt(Vocabulary.TEMPLATES.size());
    int span = config.maxSide() - config.minSide() + 1;
    int w = config.minSide() + r.nextInt(span);
    int h = w;
    if (r.nextDouble() < 0.3) {
      double aspect = 0.6 + r.nextDouble();
      h = Math.max(config.minSide(), Math.min(config.maxSide(), (int) Math.round(w * aspect)));
    }
    return new Base(
        rank,
        colour,
        shape,
        position,
        background,
        style,
        template,
        w,
        h,
        0.8 + 0.4 * r.nextDouble(),
        (r.nextDouble() - 0.5) * 0.5,
        4 + r.nextInt(9),
        r.nextLong(),
        72 + r.nextInt(24),
        r.nextDouble() < config.pngShare());
  }

  String caption(Base b, int template) {
    String c =
        Vocabulary.caption(
            Vocabulary.TEMPLATES.get(template),
            Vocabulary.COLOURS.get(b.colour()).name(),
            Vocabulary.SHAPES.get(b.shape()),
            Vocabulary.POSITIONS.get(b.position()),
            Vocabulary.BACKGROUNDS.get(b.background()).name());
    QueryList.Query q = queries().get(b.queryRank());
    return q.kind() == QueryList.Kind.TAG ? c + ", " + q.text() : c;
  }

  String caption(Base b) {
    return caption(b, b.template());
  }

  static ShapeRenderer.Scene scene(Base b) {
    return new ShapeRenderer.Scene(
        b.width(),
        b.height(),
        b.colour(),
        b.shape(),
        b.position(),
        b.background(),
        b.style(),
        b.sizeFactor(),
        b.rotation(),
        b.noise(),
        b.noiseSeed());
  }

  static byte[] encode(Base b, BufferedImage img) {
    return b.png() ? ShapeRenderer.png(img) : ShapeRenderer.jpeg(img, b.jpegQuality());
  }

  /** A clean row j ≠ i to duplicate, or -1 if none was found. */
  long cleanPartner(long i) {
    SplittableRandom r = rng(config.seed(), i, STREAM_PARTNER);
    for (int t = 0; t < PARTNER_TRIES && config.rows() > 1; t++) {
      long j = r.nextLong(config.rows());
      if (j != i && faultOf(j) == null) {
        return j;
      }
    }
    return -1;
  }

  /** A row k whose colour or shape differs from b's, for a caption that does not fit. */
  long mismatchedPartner(long i, Base b) {
    SplittableRandom r = rng(config.seed(), i, STREAM_PARTNER);
    for (int t = 0; t < PARTNER_TRIES && config.rows() > 1; t++) {
      long k = r.nextLong(config.rows());
      if (k == i) {
        continue;
      }
      Base other = base(k);
      if (other.colour() != b.colour() || other.shape() != b.shape()) {
        return k;
      }
    }
    return -1;
  }

  /** Row i, without image bytes when {@code withImage} is false (ground truth, metadata-only). */
  public Pair pair(long i, boolean withImage) {
    boolean images = withImage && !config.metadataOnly();
    FaultKind fault = faultOf(i);
    Base own = base(i);
    SplittableRandom detailRng = rng(config.seed(), i, STREAM_DETAIL);
    String key = key(i);
    String url = url(i);
    String query = queries().get(own.queryRank()).text();
    String caption = caption(own);
    Base pictured = own;
    String status = "success";
    String error = null;
    String originalUid = null;
    String detail = null;
    byte[] image = null;
    BufferedImage pixels = null;
    boolean nullImage = false;
    long partner = -1;
    if (fault != null && fault.isDuplicate()) {
      partner = cleanPartner(i);
      if (partner < 0) {
        fault = null; // no clean row to copy: stays clean
      }
    }
    if (fault != null) {
      switch (fault) {
        case EXACT_DUPLICATE, URL_DUPLICATE -> {
          pictured = base(partner);
          query = queries().get(pictured.queryRank()).text();
          caption = caption(pictured);
          String originalUrl = url(partner);
          originalUid = Uid.of(originalUrl, caption);
          if (fault == FaultKind.URL_DUPLICATE) {
            url = urlVariant(originalUrl, detailRng);
          }
          detail = "copy of " + key(partner);
        }
        case NEAR_DUPLICATE -> {
          pictured = base(partner);
          query = queries().get(pictured.queryRank()).text();
          originalUid = Uid.of(url(partner), caption(pictured));
          int other =
              (pictured.template() + 1 + detailRng.nextInt(Vocabulary.TEMPLATES.size() - 1))
                  % Vocabulary.TEMPLATES.size();
          caption = caption(pictured, other);
          detail = "of " + key(partner);
        }
        case SHUFFLED_CAPTION -> {
          long k = mismatchedPartner(i, own);
          if (k < 0) {
            fault = null;
          } else {
            Base from = base(k);
            caption = caption(from);
            detail =
                "caption of "
                    + key(k)
                    + " ("
                    + Vocabulary.COLOURS.get(from.colour()).name()
                    + " "
                    + Vocabulary.SHAPES.get(from.shape())
                    + ") on a "
                    + Vocabulary.COLOURS.get(own.colour()).name()
                    + " "
                    + Vocabulary.SHAPES.get(own.shape());
          }
        }
        case MISSING_CAPTION -> {
          int v = detailRng.nextInt(3);
          caption = v == 0 ? null : v == 1 ? "" : "   ";
          detail = v == 0 ? "null" : v == 1 ? "empty" : "whitespace";
        }
        case FAILED_DOWNLOAD -> {
          status = "failed_to_download";
          error = DOWNLOAD_ERRORS.get(detailRng.nextInt(DOWNLOAD_ERRORS.size()));
          nullImage = true;
          detail = error;
        }
        case EVAL_COPY -> {
          pictured = evalBase(i);
          query = queries().get(pictured.queryRank()).text();
          originalUid = evalKey(i);
          int other =
              (pictured.template() + 1 + detailRng.nextInt(Vocabulary.TEMPLATES.size() - 1))
                  % Vocabulary.TEMPLATES.size();
          caption = caption(pictured, other);
          detail = "of " + originalUid;
        }
        case CORRUPT_IMAGE -> detail = "pending";
        default -> throw new IllegalStateException("unhandled fault " + fault);
      }
    }
    Integer width = nullImage ? null : pictured.width();
    Integer height = nullImage ? null : pictured.height();
    if (fault == FaultKind.CORRUPT_IMAGE) {
      int v = detailRng.nextInt(3);
      detail = v == 0 ? "truncated" : v == 1 ? "random_bytes" : "zero_bytes";
      if (images) {
        image = corrupt(v, own, detailRng);
      }
    } else if (images && !nullImage) {
      pixels = ShapeRenderer.render(scene(pictured));
      if (fault == FaultKind.NEAR_DUPLICATE || fault == FaultKind.EVAL_COPY) {
        NearDuplicate nd = nearDuplicate(copyPlan(pictured, detailRng), pixels);
        image = nd.bytes();
        width = nd.width();
        height = nd.height();
        detail = nd.how() + " " + detail;
      } else {
        image = encode(pictured, pixels);
      }
    } else if (fault == FaultKind.NEAR_DUPLICATE || fault == FaultKind.EVAL_COPY) {
      // The same draws as with the image: the ground truth says how the copy was made.
      detail = (nullImage ? "image" : copyPlan(pictured, detailRng).how()) + " " + detail;
    }
    String sha = image == null ? null : Uid.sha256Hex(image);
    String exif = image == null ? null : "{}";
    // The style of the background pictured (a copy's is its original's); none when no picture
    // was downloaded or its bytes are corrupt.
    String style =
        nullImage || fault == FaultKind.CORRUPT_IMAGE
            ? null
            : Vocabulary.STYLES.get(pictured.style());
    return new Pair(
        i,
        key,
        query,
        caption,
        url,
        status,
        error,
        width,
        height,
        exif,
        sha,
        image,
        fault,
        originalUid,
        detail,
        style);
  }

  /** The same URL as written by another page: upper-case host, a fragment or tracking query. */
  static String urlVariant(String url, SplittableRandom r) {
    int schemeEnd = url.indexOf("://") + 3;
    int hostEnd = url.indexOf('/', schemeEnd);
    String hostPart = url.substring(0, hostEnd).toUpperCase(java.util.Locale.ROOT);
    String path = url.substring(hostEnd);
    return switch (r.nextInt(3)) {
      case 0 -> hostPart + path + "#gallery";
      case 1 -> hostPart + path + "?utm_source=newsletter&utm_medium=email";
      default -> url + "?utm_campaign=spring&fbclid=IwAR0abc";
    };
  }

  record NearDuplicate(byte[] bytes, int width, int height, String how) {}

  /**
   * How a copy is made, drawn before any pixel is rendered (so the ground truth, written without
   * images, records it): re-encoded at another JPEG quality, resized by 0.5–0.85, or cropped by 1–5
   * % per side.
   */
  record CopyPlan(int kind, int quality, double scale, int l, int t, int r, int b, String how) {}

  static CopyPlan copyPlan(Base base, SplittableRandom r) {
    int w = base.width();
    int h = base.height();
    switch (r.nextInt(3)) {
      case 0 -> {
        int q = base.png() || base.jpegQuality() < 85 ? 90 + r.nextInt(6) : 55 + r.nextInt(11);
        return new CopyPlan(0, q, 1, 0, 0, 0, 0, "reencoded q=" + q);
      }
      case 1 -> {
        double s = 0.5 + 0.35 * r.nextDouble();
        return new CopyPlan(1, 85, s, 0, 0, 0, 0, String.format("resized %.2f", s));
      }
      default -> {
        int l = (int) Math.round(w * (0.01 + 0.04 * r.nextDouble()));
        int t = (int) Math.round(h * (0.01 + 0.04 * r.nextDouble()));
        int rr = (int) Math.round(w * (0.01 + 0.04 * r.nextDouble()));
        int bb = (int) Math.round(h * (0.01 + 0.04 * r.nextDouble()));
        return new CopyPlan(
            2, 88, 1, l, t, rr, bb, String.format("cropped %d/%d/%d/%d px", l, t, rr, bb));
      }
    }
  }

  static NearDuplicate nearDuplicate(CopyPlan p, BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    switch (p.kind()) {
      case 0 -> {
        return new NearDuplicate(ShapeRenderer.jpeg(img, p.quality()), w, h, p.how());
      }
      case 1 -> {
        int nw = Math.max(32, (int) Math.round(w * p.scale()));
        int nh = Math.max(32, (int) Math.round(h * p.scale()));
        BufferedImage small = ShapeRenderer.resize(img, nw, nh);
        return new NearDuplicate(ShapeRenderer.jpeg(small, p.quality()), nw, nh, p.how());
      }
      default -> {
        int nw = w - p.l() - p.r();
        int nh = h - p.t() - p.b();
        BufferedImage cropped = ShapeRenderer.crop(img, p.l(), p.t(), nw, nh);
        return new NearDuplicate(ShapeRenderer.jpeg(cropped, p.quality()), nw, nh, p.how());
      }
    }
  }

  static byte[] corrupt(int variant, Base own, SplittableRandom r) {
    switch (variant) {
      case 0 -> {
        byte[] full = encode(own, ShapeRenderer.render(scene(own)));
        int keep = (int) Math.max(16, full.length * (0.2 + 0.4 * r.nextDouble()));
        return java.util.Arrays.copyOf(full, Math.min(keep, full.length - 1));
      }
      case 1 -> {
        byte[] junk = new byte[100 + r.nextInt(3900)];
        for (int k = 0; k < junk.length; k++) {
          junk[k] = (byte) r.nextInt(256);
        }
        junk[0] = 0x3c; // '<': like an HTML error page saved as an image, never a valid magic
        return junk;
      }
      default -> {
        return new byte[0];
      }
    }
  }
}
