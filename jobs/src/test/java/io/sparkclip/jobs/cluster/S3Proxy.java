package io.sparkclip.jobs.cluster;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * s3proxy (an S3 API server) as a separate JVM on 127.0.0.1, storing objects in a local folder. Its
 * jar ({@code sparkclip.s3proxy.jar}, copied by Maven into {@code target/s3proxy/}) stays off the
 * test classpath: its bundled dependencies clash with Spark's. {@link #close()} stops it.
 */
public final class S3Proxy implements AutoCloseable {
  public static final String ACCESS_KEY = "sparkclip-it";
  public static final String SECRET_KEY = "sparkclip-it-secret";
  public static final String REGION = "us-east-1";

  private final Process process;
  private final Path log;
  private final int port;
  private final Thread reaper;

  private S3Proxy(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
    this.reaper = new Thread(process::destroyForcibly, "s3proxy-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** Starts s3proxy with a filesystem backend under {@code dir} and waits until it answers. */
  public static S3Proxy start(Path dir) throws Exception {
    Path jar = Path.of(StandaloneCluster.required("sparkclip.s3proxy.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: run the tests through mvn verify");
    }
    int port = StandaloneCluster.freePort();
    Path data = Files.createDirectories(dir.resolve("s3proxy-data"));
    Path props = dir.resolve("s3proxy.properties");
    Files.writeString(
        props,
        String.join(
            "\n",
            "s3proxy.endpoint=http://127.0.0.1:" + port,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            "jclouds.provider=filesystem-nio2",
            "jclouds.filesystem.basedir=" + data,
            ""));
    Path log = dir.resolve("s3proxy.log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.add("--properties");
    cmd.add(props.toString());
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    S3Proxy proxy = new S3Proxy(p, log, port);
    try {
      proxy.awaitReady(Duration.ofSeconds(60));
    } catch (Exception | AssertionError e) {
      proxy.close();
      throw e;
    }
    return proxy;
  }

  private void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("s3proxy exited with " + process.exitValue() + ":\n" + log());
      }
      try {
        HttpURLConnection c =
            (HttpURLConnection) URI.create(endpoint() + "/").toURL().openConnection();
        c.setConnectTimeout(1000);
        c.setReadTimeout(2000);
        int code = c.getResponseCode(); // 403 without credentials: the S3 API is up
        c.disconnect();
        if (code > 0) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("s3proxy not ready after " + timeout + ":\n" + log());
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public String log() throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
  }

  /** An AWS SDK v2 client for this endpoint (path-style, static credentials). */
  public S3Client client() {
    return S3Client.builder()
        .endpointOverride(URI.create(endpoint()))
        .region(Region.of(REGION))
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .forcePathStyle(true)
        .build();
  }

  /**
   * The S3A settings that point Hadoop at this endpoint, as Spark conf ({@code spark.hadoop.}
   * prefix): the same keys conf/spark-defaults.*.conf documents.
   */
  public Map<String, String> sparkConf() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("spark.hadoop.fs.s3a.endpoint", endpoint());
    c.put("spark.hadoop.fs.s3a.endpoint.region", REGION);
    c.put("spark.hadoop.fs.s3a.path.style.access", "true");
    c.put("spark.hadoop.fs.s3a.connection.ssl.enabled", "false");
    c.put("spark.hadoop.fs.s3a.access.key", ACCESS_KEY);
    c.put("spark.hadoop.fs.s3a.secret.key", SECRET_KEY);
    c.put(
        "spark.hadoop.fs.s3a.aws.credentials.provider",
        "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    // Safe commit: the S3A magic committer, bound into Spark SQL's Parquet writer.
    c.put("spark.hadoop.fs.s3a.committer.name", "magic");
    c.put(
        "spark.sql.sources.commitProtocolClass",
        "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol");
    c.put(
        "spark.sql.parquet.output.committer.class",
        "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter");
    return c;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running
    }
  }
}
