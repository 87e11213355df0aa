package io.sparkclip.jobs.download;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Address classification on literal addresses (no DNS, no connection) and the scheme check. */
class AddressGuardTest {
  private static String kind(String literal) throws Exception {
    return AddressGuard.classify(InetAddress.getByName(literal));
  }

  @Test
  void refusesEveryNonPublicRange() throws Exception {
    Map<String, String> refused =
        Map.ofEntries(
            Map.entry("127.0.0.1", "loopback"),
            Map.entry("127.255.0.9", "loopback"),
            Map.entry("::1", "loopback"),
            Map.entry("10.0.0.1", "private"),
            Map.entry("172.16.5.4", "private"),
            Map.entry("172.31.255.255", "private"),
            Map.entry("192.168.1.1", "private"),
            Map.entry("169.254.169.254", "link-local"),
            Map.entry("fe80::1", "link-local"),
            Map.entry("fd12:3456::1", "private (unique-local)"),
            Map.entry("224.0.0.1", "multicast"),
            Map.entry("ff02::1", "multicast"),
            Map.entry("0.0.0.0", "unspecified"),
            Map.entry("::", "unspecified"),
            Map.entry("0.1.2.3", "unspecified"),
            Map.entry("100.64.0.1", "private (carrier-grade NAT)"),
            Map.entry("198.18.0.1", "private (benchmarking)"),
            Map.entry("240.0.0.1", "reserved"),
            Map.entry("255.255.255.255", "broadcast"),
            Map.entry("::ffff:127.0.0.1", "loopback"),
            Map.entry("::ffff:10.0.0.8", "private"),
            Map.entry("::ffff:169.254.169.254", "link-local"),
            Map.entry("64:ff9b::a9fe:a9fe", "link-local"),
            Map.entry("64:ff9b::10.0.0.1", "private"),
            Map.entry("64:ff9b:1::1", "private (local-use NAT64)"),
            Map.entry("2002:7f00:1::1", "loopback"),
            Map.entry("2002:c0a8:101::1", "private"),
            Map.entry("::ffff:0:127.0.0.1", "loopback"));
    for (Map.Entry<String, String> e : refused.entrySet()) {
      assertThat(kind(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
    }
  }

  @Test
  void allowsPublicAddresses() throws Exception {
    for (String a :
        List.of(
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:db9::1")) {
      assertThat(kind(a)).as(a).isNull();
    }
  }

  @Test
  void onlyHttpAndHttpsWithAHost() throws Exception {
    AddressGuard open = new AddressGuard(true);
    assertThat(open.refusal(new URI("ftp://example.org/x.jpg"))).contains("scheme 'ftp'");
    assertThat(open.refusal(new URI("file:///etc/passwd"))).contains("scheme 'file'");
    assertThat(open.refusal(new URI("http:///x.jpg"))).contains("no host");
    assertThat(open.refusal(new URI("http://127.0.0.1/x.jpg")))
        .as("private addresses allowed explicitly")
        .isNull();
    AddressGuard guard = new AddressGuard(false);
    assertThat(guard.refusal(new URI("http://127.0.0.1:8080/x.jpg")))
        .contains("loopback")
        .contains("--allow-private-addresses");
    assertThat(guard.refusal(new URI("http://[::1]/x.jpg"))).contains("loopback");
    assertThat(guard.refusal(new URI("https://192.168.0.10/x.jpg"))).contains("private");
  }

  @Test
  void xRobotsTagIsReadAsImg2datasetReadsIt() {
    HttpFetcher f =
        new HttpFetcher(
            DownloadOptions.from(io.sparkclip.jobs.stage.StageConf.io("in", "out"))
                .fetchSettings());
    assertThat(f.optOut(List.of("noai"))).isEqualTo("noai");
    assertThat(f.optOut(List.of("noindex, nofollow"))).isEqualTo("noindex");
    assertThat(f.optOut(List.of("NoImageAI"))).as("case-insensitive").isEqualTo("noimageai");
    assertThat(f.optOut(List.of("nofollow", "noarchive"))).isNull();
    assertThat(f.optOut(List.of("otherbot: noai"))).as("addressed to another crawler").isNull();
    assertThat(f.optOut(List.of("sparkclip: noai"))).as("addressed to sparkclip").isEqualTo("noai");
    assertThat(f.optOut(List.of("img2dataset: noimageindex")))
        .as("addressed to img2dataset, whose job sparkclip does")
        .isEqualTo("noimageindex");
    assertThat(f.optOut(List.of())).isNull();
  }
}
