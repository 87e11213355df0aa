package io.sparkclip.jobs.dedup;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Normalises a URL for exact deduplication: lower-case scheme and host, default port removed,
 * fragment removed, tracking parameters removed (prefixes such as {@code utm_} and names such as
 * {@code fbclid}; configurable), the order of the remaining parameters kept. Path and parameter
 * values keep their case: servers may treat them case-sensitively. Pure and serializable.
 */
public final class UrlNormalizer implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Removed by default: a name ending in {@code *} is a prefix. */
  public static final List<String> DEFAULT_TRACKING =
      List.of(
          "utm_*", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
          "mc_cid", "mc_eid", "_ga", "_gl", "mkt_tok", "spm");

  private final List<String> exact = new ArrayList<>();
  private final List<String> prefixes = new ArrayList<>();

  public UrlNormalizer(List<String> tracking) {
    for (String t : tracking) {
      String n = t.strip().toLowerCase(Locale.ROOT);
      if (n.isEmpty()) {
        continue;
      }
      if (n.endsWith("*")) {
        prefixes.add(n.substring(0, n.length() - 1));
      } else {
        exact.add(n);
      }
    }
  }

  public static UrlNormalizer defaults() {
    return new UrlNormalizer(DEFAULT_TRACKING);
  }

  public String normalize(String url) {
    if (url == null) {
      return null;
    }
    String u = url.strip();
    int hash = u.indexOf('#');
    if (hash >= 0) {
      u = u.substring(0, hash);
    }
    int schemeEnd = u.indexOf("://");
    String scheme = "";
    String rest = u;
    if (schemeEnd > 0 && u.substring(0, schemeEnd).chars().allMatch(UrlNormalizer::schemeChar)) {
      scheme = u.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
      rest = u.substring(schemeEnd + 3);
    }
    int authEnd = indexOfAny(rest, '/', '?');
    String authority = authEnd < 0 ? rest : rest.substring(0, authEnd);
    String tail = authEnd < 0 ? "" : rest.substring(authEnd);
    int at = authority.lastIndexOf('@');
    String userInfo = at >= 0 ? authority.substring(0, at + 1) : "";
    String hostPort = (at >= 0 ? authority.substring(at + 1) : authority).toLowerCase(Locale.ROOT);
    if (("http".equals(scheme) && hostPort.endsWith(":80"))
        || ("https".equals(scheme) && hostPort.endsWith(":443"))) {
      hostPort = hostPort.substring(0, hostPort.lastIndexOf(':'));
    }
    if (hostPort.endsWith(".")) {
      hostPort = hostPort.substring(0, hostPort.length() - 1);
    }
    int q = tail.indexOf('?');
    String path = q < 0 ? tail : tail.substring(0, q);
    String query = q < 0 ? "" : tail.substring(q + 1);
    if (path.isEmpty()) {
      path = "/";
    }
    StringBuilder kept = new StringBuilder();
    if (!query.isEmpty()) {
      for (String param : query.split("&")) {
        if (param.isEmpty() || tracking(param)) {
          continue;
        }
        if (kept.length() > 0) {
          kept.append('&');
        }
        kept.append(param);
      }
    }
    return (scheme.isEmpty() ? "" : scheme + "://")
        + userInfo
        + hostPort
        + path
        + (kept.length() > 0 ? "?" + kept : "");
  }

  private boolean tracking(String param) {
    int eq = param.indexOf('=');
    String name = (eq < 0 ? param : param.substring(0, eq)).toLowerCase(Locale.ROOT);
    if (exact.contains(name)) {
      return true;
    }
    for (String p : prefixes) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  private static boolean schemeChar(int c) {
    return Character.isLetterOrDigit(c) || c == '+' || c == '-' || c == '.';
  }

  private static int indexOfAny(String s, char a, char b) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == a || c == b) {
        return i;
      }
    }
    return -1;
  }
}
