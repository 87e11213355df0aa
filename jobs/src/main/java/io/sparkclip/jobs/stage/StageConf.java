package io.sparkclip.jobs.stage;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.sparkclip.schemas.ColumnMapping;
import io.sparkclip.schemas.Errors;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The options one stage runs with, by key: a command's flags, a section of curate's config, or a
 * test's map. The one place where precedence is resolved: a key set here wins, an unset key takes
 * the default its stage declares next to the key ({@code KEY} / {@code KEY_DEFAULT}), so a command
 * with no flags and curate with an empty config run a stage with the same options.
 */
public final class StageConf {
  private final Config config;
  private final String origin;

  /** Keys the stage asked for, so that a config key no stage reads can be reported as unknown. */
  private final Set<String> read;

  private StageConf(Config config, String origin, Set<String> read) {
    this.config = config;
    this.origin = origin;
    this.read = read;
  }

  private StageConf(Config config, String origin) {
    this(config, origin, ConcurrentHashMap.newKeySet());
  }

  public static StageConf empty() {
    return new StageConf(ConfigFactory.empty(), "defaults");
  }

  /** A stage's input and output directory; everything else default. */
  public static StageConf io(String input, String out) {
    return empty().with(StageKeys.INPUT, input).with(StageKeys.OUT, out);
  }

  public static StageConf of(Config config, String origin) {
    return new StageConf(config, origin);
  }

  public static StageConf of(Map<String, ?> values, String origin) {
    StageConf c = new StageConf(ConfigFactory.empty(), origin);
    for (Map.Entry<String, ?> e : values.entrySet()) {
      c = c.with(e.getKey(), e.getValue());
    }
    return c;
  }

  /** This conf with {@code key} set; a null value leaves the key unset (its default applies). */
  public StageConf with(String key, Object value) {
    if (value == null) {
      return this;
    }
    Object v = value instanceof Enum<?> e ? e.name() : value;
    return new StageConf(
        config.withValue(quoted(key), ConfigValueFactory.fromAnyRef(v, origin)), origin, read);
  }

  /** Keys unset here are read from {@code other}. */
  public StageConf withFallback(StageConf other) {
    return new StageConf(config.withFallback(other.config), origin, read);
  }

  public boolean has(String key) {
    read.add(key);
    return config.hasPath(quoted(key));
  }

  /** The keys asked for so far (by {@code options(conf)}: every key the stage knows). */
  public Set<String> keysRead() {
    return Set.copyOf(read);
  }

  public String string(String key, String dflt) {
    return read(key, dflt, config::getString);
  }

  public boolean bool(String key, boolean dflt) {
    return read(key, dflt, config::getBoolean);
  }

  public int integer(String key, int dflt) {
    return read(key, dflt, config::getInt);
  }

  public long longValue(String key, long dflt) {
    return read(key, dflt, config::getLong);
  }

  public double decimal(String key, double dflt) {
    return read(key, dflt, config::getDouble);
  }

  public Double optDecimal(String key) {
    return read(key, null, config::getDouble);
  }

  public Integer optInteger(String key) {
    return read(key, null, config::getInt);
  }

  public List<String> strings(String key, List<String> dflt) {
    return read(key, dflt, p -> List.copyOf(config.getStringList(p)));
  }

  /** Column-mapping keys shared by every stage that reads pairs. */
  public ColumnMapping mapping() {
    return new ColumnMapping(
        string(StageKeys.CAPTION_COL, null),
        string(StageKeys.IMAGE_COL, null),
        string(StageKeys.URL_COL, null),
        string(StageKeys.QUERY_COL, null),
        string(StageKeys.ID_COL, null));
  }

  private <T> T read(String key, T dflt, Function<String, T> getter) {
    read.add(key);
    String path = quoted(key);
    if (!config.hasPath(path)) {
      return dflt;
    }
    try {
      return getter.apply(path);
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw Errors.optionWrongType(key, origin, e.getMessage());
    }
  }

  /** Keys are flat names such as {@code phash-distance}; a dotted key is one name, not a path. */
  private static String quoted(String key) {
    return key.contains(".") ? "\"" + key + "\"" : key;
  }

  @Override
  public String toString() {
    return config.root().render();
  }
}
