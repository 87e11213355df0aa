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
 * (198.18/15), "this network" (0/8), reserved (240/4) and broadcast, and IPv4-mapped or -compatible
 * IPv6 forms of all of those. With {@code allowPrivate} (intranet crawls, tests) only the scheme is
 * checked.
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

  /** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or -compatible (::a.b.c.d) IPv6. */
  private static InetAddress embeddedIpv4(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return null;
      }
    }
    boolean mapped = (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF;
    boolean compatible = b[10] == 0 && b[11] == 0 && (b[12] != 0 || b[13] != 0);
    if (!mapped && !compatible) {
      return null;
    }
    try {
      return Inet4Address.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
