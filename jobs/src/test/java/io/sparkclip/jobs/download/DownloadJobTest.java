package io.sparkclip.jobs.download;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.CurationSummary;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * download against a server on 127.0.0.1 that the test starts: every kind of response ends in the
 * right status and reason, rows in = rows out, the SSRF guard refuses the loopback server before
 * any connection, and --retry-failed turns transient failures into successes in place.
 */
class DownloadJobTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static LocalImageServer server;

  /** What each case's row must end as: status, reason (null on success). */
  record Expect(String path, String status, String reason) {}

  static final Map<String, byte[]> SERVED = new HashMap<>();

  @BeforeAll
  static void setUp() {
    spark = LocalSpark.start("DownloadJobTest");
    server = LocalImageServer.start();
  }

  @AfterAll
  static void tearDown() {
    server.close();
    spark.stop();
  }

  private static byte[] serve(String path, byte[] bytes, String type) {
    server.image(path, bytes, type);
    SERVED.put(path, bytes);
    return bytes;
  }

  /** A TSV of url, caption and a passed-through column, one row per case. */
  private static Path metadata(String name, List<String> urls) throws Exception {
    Path f = tmp.resolve(name);
    Files.createDirectories(f.getParent());
    StringBuilder s = new StringBuilder("url\tcaption\tsource_id\n");
    for (int i = 0; i < urls.size(); i++) {
      s.append(urls.get(i)).append("\tcaption ").append(i).append("\tid-").append(i).append('\n');
    }
    Files.writeString(f, s.toString());
    return f;
  }

  private static StageConf conf(Path input, Path out) {
    return StageConf.io(input.toString(), out.toString())
        .with(DownloadOptions.ALLOW_PRIVATE_ADDRESSES, true)
        .with(DownloadOptions.TIMEOUT_MS, 800L)
        .with(DownloadOptions.TOTAL_TIMEOUT_MS, 5_000L)
        .with(DownloadOptions.RETRIES, 1)
        .with(DownloadOptions.RETRY_BACKOFF_MS, 20L)
        .with(DownloadOptions.MAX_BODY_BYTES, 512L * 1024)
        .with(DownloadOptions.MAX_REDIRECTS, 3);
  }

  private static CurationSummary run(StageConf c) {
    DownloadStage stage = new DownloadStage();
    return stage.run(spark, stage.options(c));
  }

  private static Map<String, Row> byUrl(Path out) {
    Map<String, Row> m = new LinkedHashMap<>();
    for (Row r : spark.read().parquet(CurationOutput.data(out.toString())).collectAsList()) {
      assertThat(m.put(r.getAs(Columns.URL), r)).as("one row per url").isNull();
    }
    return m;
  }

  @Test
  void everyResponseEndsWithTheRightStatusAndReason() throws Exception {
    List<Expect> cases = new ArrayList<>();
    serve("/a/photo.jpg", LocalImageServer.jpeg(96, 64, 1), "image/jpeg");
    cases.add(new Expect("/a/photo.jpg", "success", null));
    serve("/a/drawing.png", LocalImageServer.png(50, 70, 2), "image/png");
    cases.add(new Expect("/a/drawing.png", "success", null));
    serve("/a/anim.gif", LocalImageServer.gif(40, 30, 3), "image/gif");
    cases.add(new Expect("/a/anim.gif", "success", null));
    serve("/a/old.bmp", LocalImageServer.bmp(33, 21, 4), "image/bmp");
    cases.add(new Expect("/a/old.bmp", "success", null));
    byte[] webp = LocalImageServer.webp(64, 48, 5);
    if (webp != null) {
      serve("/a/modern.webp", webp, "image/webp");
      cases.add(new Expect("/a/modern.webp", "success", null));
    }
    server.status("/gone.jpg", 404);
    cases.add(new Expect("/gone.jpg", "failed_to_download", "http_404"));
    byte[] flaky = LocalImageServer.jpeg(80, 80, 6);
    server.flaky("/flaky.jpg", 1, flaky, "image/jpeg");
    SERVED.put("/flaky.jpg", flaky);
    cases.add(new Expect("/flaky.jpg", "success", null));
    server.slow("/slow.jpg", 3_000, LocalImageServer.jpeg(20, 20, 7), "image/jpeg");
    cases.add(new Expect("/slow.jpg", "failed_to_download", "timeout"));
    server.redirect("/loop/a", "/loop/b", 302);
    server.redirect("/loop/b", "/loop/a", 302);
    cases.add(new Expect("/loop/a", "failed_to_download", "too_many_redirects"));
    byte[] moved = serve("/moved/target.jpg", LocalImageServer.jpeg(64, 64, 8), "image/jpeg");
    server.redirect("/moved/start.jpg", "/moved/target.jpg", 301);
    SERVED.put("/moved/start.jpg", moved);
    cases.add(new Expect("/moved/start.jpg", "success", null));
    server.stream("/huge.jpg", 4L << 20, "image/jpeg");
    cases.add(new Expect("/huge.jpg", "failed_to_download", "body_too_large"));
    server.image(
        "/error-page.jpg",
        "<!DOCTYPE html><html><body>Access denied</body></html>".getBytes(),
        "text/html");
    cases.add(new Expect("/error-page.jpg", "failed_to_download", "not_an_image"));
    server.image(
        "/opted-out.jpg",
        LocalImageServer.jpeg(30, 30, 9),
        "image/jpeg",
        Map.of("X-Robots-Tag", "noai"));
    cases.add(new Expect("/opted-out.jpg", "opted_out", "x_robots_tag"));
    server.image(
        "/other-bot.jpg",
        serve("/other-bot.jpg", LocalImageServer.jpeg(30, 31, 10), "image/jpeg"),
        "image/jpeg",
        Map.of("X-Robots-Tag", "otherbot: noai"));
    cases.add(new Expect("/other-bot.jpg", "success", null));
    byte[] whole = LocalImageServer.jpeg(200, 150, 11);
    server.image("/cut.jpg", LocalImageServer.truncated(whole, whole.length / 2), "image/jpeg");
    cases.add(new Expect("/cut.jpg", "failed_to_resize", "decode_error"));
    server.image("/empty.jpg", new byte[0], "image/jpeg");
    cases.add(new Expect("/empty.jpg", "failed_to_download", "empty_body"));

    List<String> urls = new ArrayList<>();
    for (Expect e : cases) {
      urls.add(server.url(e.path()));
    }
    urls.add("ftp://127.0.0.1/file.jpg");
    urls.add("not a url at all");
    Path meta = metadata("cases/meta.tsv", urls);
    Path out = tmp.resolve("cases-out");
    int before = server.requests();

    CurationSummary s = run(conf(meta, out).with(DownloadOptions.PER_HOST_REQUESTS, 4));

    Map<String, Row> rows = byUrl(out);
    assertThat(rows).as("rows in = rows out").hasSize(urls.size());
    assertThat(s.rowsIn()).as("summary rows").isEqualTo(urls.size());
    for (Expect e : cases) {
      Row r = rows.get(server.url(e.path()));
      String what = e.path() + " -> " + r.getAs(Columns.STATUS) + " / " + r.getAs("error_message");
      assertThat((String) r.getAs(Columns.STATUS)).as("status of " + what).isEqualTo(e.status());
      assertThat((String) r.getAs(DownloadRows.REASON))
          .as("reason of " + what)
          .isEqualTo(e.reason());
      if (e.status().equals("success")) {
        byte[] expected = SERVED.get(e.path());
        assertThat((byte[]) r.getAs(Columns.JPG)).as("bytes of " + e.path()).isEqualTo(expected);
        assertThat((String) r.getAs(Columns.SHA256))
            .as("sha256 of " + e.path())
            .isEqualTo(ImageProcessor.sha256(expected));
        assertThat((Integer) r.getAs(Columns.WIDTH)).as("width of " + e.path()).isPositive();
        assertThat((String) r.getAs(Columns.ERROR_MESSAGE)).as("message of " + what).isNull();
      } else {
        assertThat((byte[]) r.getAs(Columns.JPG)).as("no bytes for " + what).isNull();
        assertThat((String) r.getAs(Columns.ERROR_MESSAGE)).as("message of " + what).isNotBlank();
      }
      assertThat((String) r.getAs("source_id")).as("passed-through column").startsWith("id-");
    }
    Row png = rows.get(server.url("/a/drawing.png"));
    assertThat(List.of(png.getAs(Columns.WIDTH), png.getAs(Columns.HEIGHT)))
        .as("png dimensions")
        .isEqualTo(List.of(50, 70));
    assertThat((String) rows.get("ftp://127.0.0.1/file.jpg").getAs(DownloadRows.REASON))
        .as("non-http scheme")
        .isEqualTo("refused_address");
    assertThat((String) rows.get("not a url at all").getAs(DownloadRows.REASON))
        .as("garbage url")
        .isEqualTo("bad_url");
    assertThat((String) rows.get(server.url("/error-page.jpg")).getAs(Columns.ERROR_MESSAGE))
        .as("the not-an-image message says what came instead")
        .contains("HTML");
    assertThat(server.requests("/flaky.jpg")).as("500 then 200: retried once").isEqualTo(2);
    assertThat(server.requests("/gone.jpg")).as("404 is not retried").isEqualTo(1);
    assertThat(server.requests("/slow.jpg")).as("a timeout is retried").isEqualTo(2);
    assertThat(server.requests("/loop/a") + server.requests("/loop/b"))
        .as("a redirect loop stops after max-redirects + 1 requests")
        .isEqualTo(4);
    assertThat(server.requests()).as("requests made").isGreaterThan(before);
    List<String> keys = rows.values().stream().map(r -> (String) r.getAs(Columns.KEY)).toList();
    assertThat(keys).as("keys unique, img2dataset's 9 digits").doesNotHaveDuplicates();
    assertThat(keys).allMatch(k -> k.matches("\\d{9}"));
    @SuppressWarnings("unchecked")
    Map<String, Long> reasons = (Map<String, Long>) s.details().get(DownloadReport.REASONS);
    assertThat(reasons).as("reason counts").containsEntry("http_404", 1L).containsKey("timeout");
  }

  @Test
  void theSsrfGuardRefusesTheLoopbackServerBeforeAnyConnection() throws Exception {
    server.image("/guarded.jpg", LocalImageServer.jpeg(20, 20, 12), "image/jpeg");
    server.redirect("/guarded-redirect", "/guarded.jpg", 302);
    List<String> urls =
        List.of(
            server.url("/guarded.jpg"),
            server.url("/guarded-redirect"),
            "http://localhost:" + server.port() + "/guarded.jpg",
            "http://[::1]:" + server.port() + "/guarded.jpg",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/x.jpg",
            "http://0.0.0.0:" + server.port() + "/guarded.jpg");
    Path meta = metadata("guard/meta.tsv", urls);
    Path out = tmp.resolve("guard-out");
    int before = server.requests();

    run(conf(meta, out).with(DownloadOptions.ALLOW_PRIVATE_ADDRESSES, false));

    assertThat(server.requests()).as("requests the guarded run made").isEqualTo(before);
    Map<String, Row> rows = byUrl(out);
    assertThat(rows).hasSize(urls.size());
    for (String u : urls) {
      Row r = rows.get(u);
      assertThat((String) r.getAs(Columns.STATUS)).as(u).isEqualTo("failed_to_download");
      assertThat((String) r.getAs(DownloadRows.REASON)).as(u).isEqualTo("refused_address");
      assertThat((String) r.getAs(Columns.ERROR_MESSAGE))
          .as("the message of " + u + " says why")
          .containsAnyOf("loopback", "link-local", "private", "unspecified")
          .contains("SSRF");
    }
  }

  @Test
  void retryFailedFetchesOnlyTransientFailuresAgainInPlace() throws Exception {
    byte[] img = LocalImageServer.jpeg(50, 40, 13);
    server.flaky("/retry/busy.jpg", 2, img, "image/jpeg");
    server.status("/retry/missing.jpg", 404);
    server.image("/retry/fine.jpg", LocalImageServer.jpeg(41, 41, 14), "image/jpeg");
    List<String> urls =
        List.of(
            server.url("/retry/busy.jpg"),
            server.url("/retry/missing.jpg"),
            server.url("/retry/fine.jpg"));
    Path meta = metadata("retry/meta.tsv", urls);
    Path out = tmp.resolve("retry-out");
    StageConf c = conf(meta, out).with(DownloadOptions.RETRIES, 0);

    run(c);
    Map<String, Row> first = byUrl(out);
    assertThat((String) first.get(urls.get(0)).getAs(DownloadRows.REASON))
        .as("first run: the busy server's 500")
        .isEqualTo("http_500");

    // A plain re-run skips the committed shard; --retry-failed fetches the 500 again.
    run(c);
    assertThat(server.requests("/retry/busy.jpg"))
        .as("a plain re-run fetches nothing")
        .isEqualTo(1);
    run(c.with(DownloadOptions.RETRY_FAILED, true));
    assertThat(server.requests("/retry/busy.jpg")).isEqualTo(2);
    run(c.with(DownloadOptions.RETRY_FAILED, true));

    Map<String, Row> last = byUrl(out);
    assertThat(last).as("rows in = rows out after the retries").hasSize(3);
    assertThat((String) last.get(urls.get(0)).getAs(Columns.STATUS)).isEqualTo("success");
    assertThat((byte[]) last.get(urls.get(0)).getAs(Columns.JPG)).isEqualTo(img);
    assertThat(server.requests("/retry/missing.jpg"))
        .as("a 404 is never fetched again")
        .isEqualTo(1);
    assertThat(server.requests("/retry/fine.jpg"))
        .as("a success is never fetched again")
        .isEqualTo(1);
    for (String u : urls) {
      assertThat((String) last.get(u).getAs(Columns.KEY))
          .as("keys are kept by the retry")
          .isEqualTo(first.get(u).getAs(Columns.KEY));
    }
    try (var files = Files.list(out.resolve("data"))) {
      assertThat(files.filter(f -> f.toString().endsWith(".parquet")).count())
          .as("the replaced generation's files are gone")
          .isPositive();
    }
  }

  @Test
  void theOutputIsImg2datasetParquetThatTheOtherStagesAndExportRead() throws Exception {
    server.image("/wds/one.jpg", LocalImageServer.jpeg(64, 48, 21), "image/jpeg");
    server.image("/wds/two.png", LocalImageServer.png(40, 40, 22), "image/png");
    server.status("/wds/three.jpg", 404);
    Path meta =
        metadata(
            "wds/meta.tsv",
            List.of(
                server.url("/wds/one.jpg"),
                server.url("/wds/two.png"),
                server.url("/wds/three.jpg")));
    Path out = tmp.resolve("wds-out");
    run(conf(meta, out).with(DownloadOptions.RESIZE_MODE, "center_crop").with("image-size", 32));

    io.sparkclip.jobs.stage.CurationInput in =
        io.sparkclip.jobs.stage.CurationInput.read(
            spark, CurationOutput.data(out.toString()), io.sparkclip.schemas.ColumnMapping.DETECT);
    assertThat(in.layout().layout())
        .as("layout sparkclip detects in download's output")
        .isEqualTo(io.sparkclip.schemas.InputLayout.IMG2DATASET);
    assertThat(in.layout().hasImages()).isTrue();
    Map<String, Row> rows = byUrl(out);
    Row one = rows.get(server.url("/wds/one.jpg"));
    assertThat(List.of(one.getAs(Columns.WIDTH), one.getAs(Columns.HEIGHT)))
        .as("center_crop 32")
        .isEqualTo(List.of(32, 32));
    assertThat(List.of(one.getAs(Columns.ORIGINAL_WIDTH), one.getAs(Columns.ORIGINAL_HEIGHT)))
        .isEqualTo(List.of(64, 48));

    Path wds = tmp.resolve("wds-export");
    var exported =
        new io.sparkclip.jobs.export.ExportJob(
                spark,
                io.sparkclip.jobs.export.ExportJob.Options.from(
                    StageConf.io(out.toString(), wds.toString())
                        .with(io.sparkclip.jobs.export.ExportJob.Options.FORMAT, "webdataset")))
            .run();
    assertThat(exported.rows()).as("successes exported as WebDataset samples").isEqualTo(2);
    assertThat(exported.skipped().values().stream().mapToLong(Long::longValue).sum())
        .as("the 404 row is skipped with a reason, not lost")
        .isEqualTo(1);
  }

  @Test
  void curateStartsFromMetadataWithDownload() throws Exception {
    server.image("/curate/a.jpg", LocalImageServer.jpeg(64, 64, 31), "image/jpeg");
    server.image("/curate/b.jpg", LocalImageServer.jpeg(70, 50, 32), "image/jpeg");
    server.status("/curate/c.jpg", 404);
    Path meta =
        metadata(
            "curate/meta.tsv",
            List.of(
                server.url("/curate/a.jpg"),
                server.url("/curate/b.jpg"),
                server.url("/curate/c.jpg")));
    Path out = tmp.resolve("curated");
    Map<String, String> o = new LinkedHashMap<>();
    o.put("input", meta.getParent().toString());
    o.put("out", out.toString());
    o.put("download.allow-private-addresses", "true");
    com.typesafe.config.Config c =
        io.sparkclip.jobs.curate.CurateJob.load(null, o)
            .withValue(
                io.sparkclip.jobs.curate.CurateJob.STAGES,
                com.typesafe.config.ConfigValueFactory.fromIterable(List.of("download", "dedup")));
    List<io.sparkclip.jobs.curate.CurateJob.StageResult> results =
        new io.sparkclip.jobs.curate.CurateJob(spark, c).run();
    assertThat(results.get(0).rowsOut()).as("download keeps every row").isEqualTo(3);
    assertThat(results.get(1).rowsIn()).as("dedup reads download's output").isEqualTo(3);
    assertThat(results.get(1).rowsOut()).as("the 404 row is rejected as imageless").isEqualTo(2);
    assertThat(results.get(1).rejected().values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(1);
    Path late = tmp.resolve("late.conf");
    Files.writeString(late, "stages = [dedup, download]\n");
    assertThatThrownBy(() -> io.sparkclip.jobs.curate.CurateJob.load(late.toString(), o))
        .as("download listed after another stage")
        .isInstanceOfSatisfying(
            SparkclipException.class, e -> assertThat(e.id()).isEqualTo(ErrorId.OPTION_CONFLICT));
  }

  @Test
  void shardsKeepTheirNumbersWhenTheInputGainsFiles() throws Exception {
    org.apache.hadoop.fs.FileSystem fs =
        org.apache.hadoop.fs.FileSystem.getLocal(new org.apache.hadoop.conf.Configuration());
    org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(tmp.resolve("numbers").toUri());
    assertThat(DownloadJob.shardNumbers(fs, out, java.util.Set.of("a", "c")))
        .isEqualTo(Map.of("a", 0, "c", 1));
    assertThat(DownloadJob.shardNumbers(fs, out, java.util.Set.of("a", "b", "c")))
        .as("a shard added between runs gets a new number; keys of a and c stay")
        .isEqualTo(Map.of("a", 0, "b", 2, "c", 1));
  }

  @Test
  void badInputFailsFastWithItsId() throws Exception {
    Path noUrl = tmp.resolve("nourl/meta.tsv");
    Files.createDirectories(noUrl.getParent());
    Files.writeString(noUrl, "link\tcaption\nhttp://x/y.jpg\thello\n");
    assertThatThrownBy(() -> run(conf(noUrl, tmp.resolve("nourl-out"))))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).isEqualTo(ErrorId.INPUT_NO_URL_COLUMN));
    Path empty = Files.createDirectories(tmp.resolve("nothing"));
    Files.writeString(empty.resolve("notes.txt"), "no metadata here");
    assertThatThrownBy(() -> run(conf(empty, tmp.resolve("nothing-out"))))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).isEqualTo(ErrorId.INPUT_NO_METADATA_FILES));
    assertThatThrownBy(
            () -> new DownloadStage().options(conf(empty, tmp).with("resize-mode", "stretch")))
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).isEqualTo(ErrorId.OPTION_UNKNOWN_VALUE));
  }
}
