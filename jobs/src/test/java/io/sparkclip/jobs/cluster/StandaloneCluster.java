package io.sparkclip.jobs.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real Spark standalone cluster on 127.0.0.1: a {@code Master} and workers started as separate
 * JVMs from the Maven classpath, a {@code SPARK_HOME} whose {@code jars/} holds that classpath, and
 * {@code SparkSubmit} of the shaded jar. {@link #close()} stops every process it started, executors
 * included.
 */
public final class StandaloneCluster implements AutoCloseable {
  private final Path home;
  private final List<String> sparkClasspath;
  private final List<String> jvmOptions;
  private final String log4j;
  private final List<Process> processes = new ArrayList<>();
  private final Thread reaper = new Thread(this::close, "standalone-cluster-reaper");
  private int masterPort;

  public StandaloneCluster(Path dir) throws IOException {
    this.home = dir.resolve("spark-home");
    this.sparkClasspath =
        Arrays.asList(
            Files.readString(Path.of(required("sparkclip.spark.classpath"))).trim().split(":"));
    this.jvmOptions = Arrays.asList(required("sparkclip.jvm.options").trim().split("\\s+"));
    // The project's log4j2 file with the deploy classes at INFO: readiness is read from the logs.
    Path conf = Files.createDirectories(home.resolve("conf"));
    Path log4jFile = conf.resolve("log4j2.properties");
    Files.writeString(
        log4jFile,
        Files.readString(Path.of(required("sparkclip.root"), "conf", "log4j2.properties"))
            + "\nlogger.deploy.name = org.apache.spark.deploy\nlogger.deploy.level = info\n");
    this.log4j = log4jFile.toString();
    Path jars = Files.createDirectories(home.resolve("jars"));
    for (String entry : sparkClasspath) {
      Path jar = Path.of(entry);
      if (entry.endsWith(".jar") && Files.exists(jar)) {
        Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar);
      }
    }
    Files.createDirectories(home.resolve("work"));
    Files.createDirectories(home.resolve("logs"));
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  static String required(String property) {
    String v = System.getProperty(property);
    if (v == null) {
      throw new IllegalStateException(
          property + " is not set: run this test through Maven failsafe (mvn verify)");
    }
    return v;
  }

  public String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  public Path workDir() {
    return home.resolve("work");
  }

  public StandaloneCluster start(int workers, int coresPerWorker, String memoryPerWorker)
      throws Exception {
    return start(workers, coresPerWorker, memoryPerWorker, List.of());
  }

  /**
   * @param workerConf {@code spark.worker.*} settings for the workers, as {@code key=value} (e.g.
   *     GPU resources and their discovery script)
   */
  public StandaloneCluster start(
      int workers, int coresPerWorker, String memoryPerWorker, List<String> workerConf)
      throws Exception {
    masterPort = freePort();
    Process master =
        launch(
            "master",
            List.of(
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(masterPort),
                "--webui-port",
                String.valueOf(freePort())));
    awaitLog("master", line -> line.contains("ALIVE"), Duration.ofSeconds(90), master);
    for (int w = 0; w < workers; w++) {
      String name = "worker-" + w;
      List<String> args = new ArrayList<>();
      for (String kv : workerConf) {
        args.add("-D" + kv);
      }
      args.addAll(
          List.of(
              "org.apache.spark.deploy.worker.Worker",
              "--host",
              "127.0.0.1",
              "--cores",
              String.valueOf(coresPerWorker),
              "--memory",
              memoryPerWorker,
              "--webui-port",
              String.valueOf(freePort()),
              "--work-dir",
              workDir().toString(),
              masterUrl()));
      Process p = launch(name, args);
      awaitLog(
          name,
          line -> line.contains("Successfully registered with master"),
          Duration.ofSeconds(90),
          p);
    }
    return this;
  }

  /** The result of one spark-submit: exit code and combined output. */
  public record Submitted(int exitCode, String output) {}

  /** A spark-submit still running: its driver JVM (client mode) and the name of its log. */
  public record Running(String name, Process driver) {}

  public Submitted submit(
      String jar, String mainClass, List<String> sparkConf, List<String> args, Duration timeout)
      throws Exception {
    return await(submitAsync(jar, mainClass, sparkConf, args), timeout);
  }

  /** Starts a spark-submit in client mode and returns at once. */
  public Running submitAsync(
      String jar, String mainClass, List<String> sparkConf, List<String> args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "org.apache.spark.deploy.SparkSubmit",
                "--master",
                masterUrl(),
                "--deploy-mode",
                "client",
                "--class",
                mainClass,
                "--conf",
                "spark.driver.host=127.0.0.1",
                "--conf",
                "spark.ui.enabled=false"));
    for (String c : sparkConf) {
      cmd.add("--conf");
      cmd.add(c);
    }
    cmd.add(jar);
    cmd.addAll(args);
    String name = "submit-" + System.nanoTime();
    return new Running(name, launch(name, cmd));
  }

  /** Waits for a spark-submit to end; kills it and fails after {@code timeout}. */
  public Submitted await(Running r, Duration timeout) throws Exception {
    if (!r.driver().waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      kill(r.driver());
      throw new AssertionError(
          "spark-submit did not finish in " + timeout + "; log:\n" + log(r.name()));
    }
    return new Submitted(r.driver().exitValue(), log(r.name()));
  }

  public String log(String name) throws IOException {
    return Files.readString(home.resolve("logs").resolve(name + ".log"), StandardCharsets.UTF_8);
  }

  private Process launch(String name, List<String> mainAndArgs) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.addAll(jvmOptions);
    cmd.add("-Dlog4j2.configurationFile=" + log4j);
    cmd.addAll(mainAndArgs);
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(home.resolve("logs").resolve(name + ".log").toFile());
    Map<String, String> env = pb.environment();
    // Classpath via the environment: ONNX Runtime's native init crashes on command lines > ~4 KB.
    env.put("CLASSPATH", String.join(":", sparkClasspath));
    env.put("SPARK_HOME", home.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_LOG_DIR", home.resolve("logs").toString());
    env.remove("SPARK_CONF_DIR");
    Process p = pb.start();
    synchronized (processes) {
      processes.add(p);
    }
    return p;
  }

  private void awaitLog(String name, Predicate<String> ready, Duration timeout, Process p)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String log = log(name);
      if (log.lines().anyMatch(ready)) {
        return;
      }
      if (!p.isAlive()) {
        throw new AssertionError(name + " exited with " + p.exitValue() + ":\n" + log);
      }
      Thread.sleep(250);
    }
    throw new AssertionError(name + " not ready after " + timeout + ":\n" + log(name));
  }

  /** PIDs of the executor JVMs the workers started (children of worker processes). */
  public List<ProcessHandle> executors() {
    List<ProcessHandle> out = new ArrayList<>();
    synchronized (processes) {
      for (Process p : processes) {
        p.toHandle()
            .descendants()
            .filter(d -> d.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
            .forEach(out::add);
      }
    }
    return out;
  }

  private static void kill(Process p) {
    p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }

  @Override
  public void close() {
    synchronized (processes) {
      for (Process p : processes) {
        kill(p);
      }
      for (Process p : processes) {
        try {
          p.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      processes.clear();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // already in shutdown: the hook itself is running
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
