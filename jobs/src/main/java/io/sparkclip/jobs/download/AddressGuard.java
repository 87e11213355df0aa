package io.sparkclip.jobs.download;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * The SSRF guard: which URLs the downloader may connect to. Only {@code http} and {@code https},
 * and only hosts whose every resolved address is public: a metadata pool is untrusted input, and
 * one row pointing at {@code http://169.254.169.254/} (a cloud's instance metadata) or an intranet
 * service must not make an executor fetch it. Checked before the first connection and again for
 * every redirect target.
 *
 * <p>Refused: loopback, private (RFC 1918, IPv6 unique-local fc00::/7), link-local (169.254/16,
 * fe80::/10), multicast, unspecified (0.0.0.0, ::), carrier-grade NAT (100.64/10), benchmarking
 * (198.18/15), "this network" (0/8), reserved (240/4) and broadcast, and the IPv6 forms that lead
 * to one of those (IPv4-mapped, -compatible, -translated, NAT64, 6to4; local-use NAT64 as a whole).
 * With {@code allowPrivate} (intranet crawls, tests) only the scheme is checked.
 *
 * <p>Known limit: the JDK's HTTP client resolves the host again when it connects, so a DNS server
 * that answers differently between the check and the connection (DNS rebinding) is not stopped
 * here; run executors behind an egress firewall for hostile pools.
 */
final class AddressGuard {
  private final boolean allowPrivate;

  AddressGuard(boolean allowPrivate) {
    this.allowPrivate = allowPrivate;
  }

  /** Why {@code uri} may not be fetched, or null when it may. Resolves its host (blocking). */
  String refusal(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return "scheme '" + scheme + "' is not http or https";
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      return "the URL has no host";
    }
    if (allowPrivate) {
      return null;
    }
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(stripBrackets(host));
    } catch (UnknownHostException e) {
      return null; // the fetch reports the unknown host itself
    }
    for (InetAddress a : addresses) {
      String kind = classify(a);
      if (kind != null) {
        return "host "
            + host
            + " resolves to "
            + a.getHostAddress()
            + ", a "
            + kind
            + " address (refused by the SSRF guard; --allow-private-addresses allows it)";
      }
    }
    return null;
  }

  private static String stripBrackets(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /**
   * The kind of non-public address {@code a} is ("loopback", "private", ...), or null if public.
   */
  static String classify(InetAddress a) {
    if (a instanceof Inet6Address v6) {
      byte[] b = v6.getAddress();
      InetAddress embedded = embeddedIpv4(b);
      if (embedded != null) {
        return classify(embedded);
      }
      if (a.isLoopbackAddress()) {
        return "loopback";
      }
      if (a.isAnyLocalAddress()) {
        return "unspecified";
      }
      if (a.isLinkLocalAddress()) {
        return "link-local";
      }
      if (a.isMulticastAddress()) {
        return "multicast";
      }
      if ((b[0] & 0xFE) == 0xFC) {
        return "private (unique-local)";
      }
      if (b[0] == 0
          && b[1] == 0x64
          && (b[2] & 0xFF) == 0xFF
          && (b[3] & 0xFF) == 0x9B
          && b[4] == 0
          && b[5] == 1) {
        return "private (local-use NAT64)";
      }
      if (a.isSiteLocalAddress()) {
        return "private (site-local)";
      }
      return null;
    }
    byte[] b = a.getAddress();
    int b0 = b[0] & 0xFF;
    int b1 = b[1] & 0xFF;
    if (a.isLoopbackAddress()) {
      return "loopback";
    }
    if (a.isAnyLocalAddress() || b0 == 0) {
      return "unspecified";
    }
    if (a.isLinkLocalAddress()) {
      return "link-local";
    }
    if (a.isMulticastAddress()) {
      return "multicast";
    }
    if (a.isSiteLocalAddress()) {
      return "private";
    }
    if (b0 == 100 && (b1 & 0xC0) == 64) {
      return "private (carrier-grade NAT)";
    }
    if (b0 == 198 && (b1 & 0xFE) == 18) {
      return "private (benchmarking)";
    }
    if (b0 >= 240) {
      return b0 == 255 && b1 == 255 && (b[2] & 0xFF) == 255 && (b[3] & 0xFF) == 255
          ? "broadcast"
          : "reserved";
    }
    return null;
  }

  /**
   * The IPv4 address an IPv6 address carries, which is where it leads: IPv4-mapped
   * (::ffff:a.b.c.d), -compatible (::a.b.c.d), -translated (::ffff:0:a.b.c.d), NAT64's well-known
   * prefix (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::/48). Null for any other address.
   */
  private static InetAddress embeddedIpv4(byte[] b) {
    int at = -1;
    if (zero(b, 0, 10) && (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF) {
      at = 12;
    } else if (zero(b, 0, 12) && (b[12] != 0 || b[13] != 0)) {
      at = 12;
    } else if (zero(b, 0, 8) && (b[8] & 0xFF) == 0xFF && (b[9] & 0xFF) == 0xFF && zero(b, 10, 12)) {
      at = 12;
    } else if (b[0] == 0
        && b[1] == 0x64
        && (b[2] & 0xFF) == 0xFF
        && (b[3] & 0xFF) == 0x9B
        && zero(b, 4, 12)) {
      at = 12;
    } else if (b[0] == 0x20 && b[1] == 0x02) {
      at = 2;
    }
    if (at < 0) {
      return null;
    }
    try {
      return Inet4Address.getByAddress(new byte[] {b[at], b[at + 1], b[at + 2], b[at + 3]});
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static boolean zero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
