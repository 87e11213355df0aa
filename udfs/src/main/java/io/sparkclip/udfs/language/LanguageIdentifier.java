package io.sparkclip.udfs.language;

import com.github.pemistahl.lingua.api.IsoCode639_1;
import com.github.pemistahl.lingua.api.Language;
import com.github.pemistahl.lingua.api.LanguageDetector;
import com.github.pemistahl.lingua.api.LanguageDetectorBuilder;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Identifies the language of a caption with Lingua (high-accuracy mode, the one meant for short
 * text such as alt text) among a set of candidate languages given as ISO 639-1 codes.
 *
 * <p>One detector per executor JVM and candidate set, built by the first task that asks for it (the
 * others wait for it) and shared by every task after it; only options cross the wire, never a
 * detector. Lingua loads the n-gram models of a candidate the first time a caption needs them and
 * keeps them for the JVM's life (about 28 MB of heap per language; 12 Latin-script languages
 * measured 337 MB after GC, loaded in 4.8 s on one core), and never loads a language that is not a
 * candidate. A caption whose characters no candidate's alphabet has (Cyrillic with only
 * Latin-script candidates) is "unknown" without any model lookup.
 *
 * <p>The confidence is Lingua's own measure of how clearly one language wins: its confidence values
 * are relative (the most likely language has 1.0), and {@code detectLanguageOf} refuses to answer
 * when the most likely and the runner-up are closer than its minimum relative distance. The
 * confidence here is that distance, most likely minus runner-up, in [0, 1]: 1 when the caption's
 * characters leave one candidate, 0 for a tie or when Lingua cannot tell. Short text is the hard
 * case: the 15 English alt-text-like captions of jobs' BasicFilterLanguageTest score 0.05 to 0.24
 * among the basic filter's 12 default candidates (all identified as English).
 */
public final class LanguageIdentifier {
  private static final Logger LOG = LoggerFactory.getLogger(LanguageIdentifier.class);

  /** Candidate sets kept at once; more means a new job (tests, notebooks), so the old ones go. */
  private static final int MAX_ENTRIES = 4;

  private static final ConcurrentHashMap<List<String>, LanguageIdentifier> CACHE =
      new ConcurrentHashMap<>();

  /** Lingua's languages by lower-case ISO 639-1 code. */
  private static final Map<String, Language> BY_CODE = byCode();

  /** A caption's language (ISO 639-1, null when Lingua cannot tell) and the confidence. */
  public record Identified(String language, double confidence) {}

  private final List<String> candidates;
  private final LanguageDetector detector;

  private LanguageIdentifier(List<String> candidates) {
    this.candidates = candidates;
    IsoCode639_1[] codes =
        candidates.stream().map(c -> BY_CODE.get(c).getIsoCode639_1()).toArray(IsoCode639_1[]::new);
    this.detector = LanguageDetectorBuilder.fromIsoCodes639_1(codes).build();
  }

  /** Every ISO 639-1 code Lingua identifies, sorted. */
  public static List<String> supportedCodes() {
    return List.copyOf(new TreeMap<>(BY_CODE).keySet());
  }

  public static boolean supports(String code) {
    return code != null && BY_CODE.containsKey(code.toLowerCase(Locale.ROOT));
  }

  /**
   * The JVM's identifier for these candidates (at least two supported codes: Lingua chooses among
   * two or more), built on first use.
   */
  public static LanguageIdentifier get(Collection<String> candidates) {
    List<String> key =
        candidates.stream().map(c -> c.toLowerCase(Locale.ROOT)).distinct().sorted().toList();
    LanguageIdentifier id = CACHE.get(key);
    if (id != null) {
      return id;
    }
    synchronized (CACHE) {
      id = CACHE.get(key);
      if (id == null) {
        for (String c : key) {
          if (!BY_CODE.containsKey(c)) {
            throw new IllegalArgumentException("Lingua does not know language " + c);
          }
        }
        if (key.size() < 2) {
          throw new IllegalArgumentException("Lingua needs two or more languages, got " + key);
        }
        if (CACHE.size() >= MAX_ENTRIES) {
          CACHE.clear();
        }
        id = new LanguageIdentifier(key);
        LOG.info("Lingua language detector for {} (models load on first use)", key);
        CACHE.put(key, id);
      }
      return id;
    }
  }

  public List<String> candidates() {
    return candidates;
  }

  /** The language of {@code text} among the candidates, and how clearly. */
  public Identified identify(String text) {
    if (text == null) {
      return new Identified(null, 0.0);
    }
    // Relative confidences, most likely first; empty when no candidate fits the characters.
    SortedMap<Language, Double> values = detector.computeLanguageConfidenceValues(text);
    Iterator<Map.Entry<Language, Double>> it = values.entrySet().iterator();
    if (!it.hasNext()) {
      return new Identified(null, 0.0);
    }
    Map.Entry<Language, Double> top = it.next();
    String code = code(top.getKey());
    if (!it.hasNext()) {
      return new Identified(code, 1.0);
    }
    double distance = top.getValue() - it.next().getValue();
    // A tie is "unknown" in Lingua's detectLanguageOf too.
    return distance > 0 ? new Identified(code, Math.min(1.0, distance)) : new Identified(null, 0.0);
  }

  private static String code(Language l) {
    return l.getIsoCode639_1().name().toLowerCase(Locale.ROOT);
  }

  private static Map<String, Language> byCode() {
    Map<String, Language> m = new TreeMap<>();
    for (Language l : Language.all()) {
      if (l != Language.UNKNOWN) {
        m.put(code(l), l);
      }
    }
    return Map.copyOf(m);
  }
}
