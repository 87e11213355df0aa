package io.sparkclip.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.internal.config.ConfigEntry$;
import org.apache.spark.resource.ResourceUtils;
import org.apache.spark.util.Utils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The conf/ templates load the way spark-submit loads them, and every key they set or show in a
 * comment is one Spark or Hadoop defines; the GPU discovery script prints Spark's resource JSON.
 */
class ConfTemplatesTest {
  private static final Path CONF = root().resolve("conf");

  /** An active or commented-out setting: {@code key value} or {@code #key value}. */
  private static final Pattern SETTING =
      Pattern.compile("^#?\\s*(spark\\.[A-Za-z0-9._-]+)\\s+(.+)$");

  /** Keys Spark resolves by pattern, not by a registered entry (resource scheduling). */
  private static final Pattern RESOURCE_KEY =
      Pattern.compile(
          "spark\\.(executor|driver|task|worker)\\.resource\\.gpu\\.(amount|discoveryScript|vendor)");

  /**
   * Keys of the cluster-manager modules, whose config entries are not on the Maven classpath
   * (spark-yarn and spark-kubernetes 4.2.0 are not on Maven Central): copied by name from Spark
   * 4.2's "Running on YARN" and "Running on Kubernetes" configuration tables, so a misspelt key in
   * a template fails here instead of being ignored by spark-submit.
   */
  static final Set<String> CLUSTER_MANAGER_KEYS =
      Set.of(
          "spark.yarn.am.memory",
          "spark.yarn.am.memoryOverhead",
          "spark.yarn.am.cores",
          "spark.yarn.am.waitTime",
          "spark.yarn.am.nodeLabelExpression",
          "spark.yarn.am.attemptFailuresValidityInterval",
          "spark.yarn.maxAppAttempts",
          "spark.yarn.queue",
          "spark.yarn.jars",
          "spark.yarn.archive",
          "spark.yarn.dist.archives",
          "spark.yarn.dist.files",
          "spark.yarn.dist.jars",
          "spark.yarn.stagingDir",
          "spark.yarn.preserve.staging.files",
          "spark.yarn.submit.file.replication",
          "spark.yarn.submit.waitAppCompletion",
          "spark.yarn.tags",
          "spark.yarn.priority",
          "spark.yarn.executor.nodeLabelExpression",
          "spark.yarn.executor.failuresValidityInterval",
          "spark.yarn.historyServer.address",
          "spark.yarn.containerLauncherMaxThreads",
          "spark.kubernetes.namespace",
          "spark.kubernetes.container.image",
          "spark.kubernetes.driver.container.image",
          "spark.kubernetes.executor.container.image",
          "spark.kubernetes.container.image.pullPolicy",
          "spark.kubernetes.container.image.pullSecrets",
          "spark.kubernetes.authenticate.driver.serviceAccountName",
          "spark.kubernetes.authenticate.executor.serviceAccountName",
          "spark.kubernetes.driver.request.cores",
          "spark.kubernetes.driver.limit.cores",
          "spark.kubernetes.executor.request.cores",
          "spark.kubernetes.executor.limit.cores",
          "spark.kubernetes.memoryOverheadFactor",
          "spark.kubernetes.driver.podTemplateFile",
          "spark.kubernetes.executor.podTemplateFile",
          "spark.kubernetes.file.upload.path",
          "spark.kubernetes.submission.waitAppCompletion",
          "spark.kubernetes.executor.deleteOnTermination",
          "spark.kubernetes.allocation.batch.size");

  /** The cluster-manager keys that take a user-chosen name (labels, environment, volumes). */
  static final Pattern CLUSTER_MANAGER_NAMED_KEY =
      Pattern.compile(
          "spark\\.yarn\\.appMasterEnv\\.[A-Za-z_][A-Za-z0-9_]*"
              + "|spark\\.kubernetes\\.(driver|executor)\\.(label|annotation)\\.[A-Za-z0-9./_-]+"
              + "|spark\\.kubernetes\\.(driver|executor)\\.volumes\\.[a-zA-Z]+\\.[a-z0-9-]+"
              + "\\.(mount\\.path|mount\\.readOnly|mount\\.subPath|options\\.[A-Za-z]+)");

  private static Set<String> hadoopKeys;

  /** sparkclip's own Spark conf keys (CUDA provider options, read on the executors). */
  private static Set<String> sparkclipKeys;

  /** Keys spark-submit itself reads (spark.master, ...), declared in SparkLauncher. */
  private static Set<String> launcherKeys;

  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isRegularFile(p.resolve("conf/getGpusResources.sh"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no conf/getGpusResources.sh above the working directory");
    }
    return p;
  }

  static List<Path> templates() throws IOException {
    try (Stream<Path> s = Files.list(CONF)) {
      return s.filter(p -> p.getFileName().toString().matches("spark-defaults\\..+\\.conf"))
          .sorted()
          .toList();
    }
  }

  @BeforeAll
  static void registerKnownKeys() throws Exception {
    // Spark registers a ConfigEntry when the object declaring it initializes.
    for (String holder :
        List.of(
            "org.apache.spark.internal.config.package$",
            "org.apache.spark.internal.config.Deploy$",
            "org.apache.spark.internal.config.Kryo$",
            "org.apache.spark.internal.config.Network$",
            "org.apache.spark.internal.config.UI$",
            "org.apache.spark.internal.config.Worker$",
            "org.apache.spark.sql.internal.SQLConf$",
            "org.apache.spark.sql.internal.StaticSQLConf$")) {
      Class.forName(holder, true, ConfTemplatesTest.class.getClassLoader());
    }
    launcherKeys = stringConstants(org.apache.spark.launcher.SparkLauncher.class);
    sparkclipKeys = stringConstants(io.sparkclip.udfs.session.CudaOptions.class);
    // Hadoop keys: core-default.xml and mapred-default.xml, plus S3A's declared constants.
    hadoopKeys = new HashSet<>();
    for (String xml : List.of("core-default.xml", "mapred-default.xml")) {
      try (InputStream in =
          org.apache.hadoop.conf.Configuration.class.getResourceAsStream("/" + xml)) {
        assertThat(in).as(xml + " on the classpath").isNotNull();
        Matcher m =
            Pattern.compile("<name>\\s*([^<\\s]+)\\s*</name>")
                .matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        while (m.find()) {
          hadoopKeys.add(m.group(1));
        }
      }
    }
    hadoopKeys.addAll(stringConstants(org.apache.hadoop.fs.s3a.Constants.class));
    hadoopKeys.addAll(stringConstants(org.apache.hadoop.fs.s3a.commit.CommitConstants.class));
  }

  private static Set<String> stringConstants(Class<?> c) throws IllegalAccessException {
    Set<String> out = new HashSet<>();
    for (Field f : c.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        out.add((String) f.get(null));
      }
    }
    return out;
  }

  /** Settings of a template: active ones and commented-out ones, in file order. */
  static Map<String, String> settings(Path file) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      Matcher m = SETTING.matcher(line.strip());
      if (m.matches()) {
        out.put(m.group(1), m.group(2).strip());
      }
    }
    return out;
  }

  @Test
  void everyDeploymentHasATemplate() throws IOException {
    assertThat(templates().stream().map(p -> p.getFileName().toString()))
        .as("spark-defaults templates in conf/")
        .containsExactlyInAnyOrder(
            "spark-defaults.local.conf",
            "spark-defaults.standalone.conf",
            "spark-defaults.yarn.conf",
            "spark-defaults.k8s.conf");
  }

  @ParameterizedTest
  @MethodSource("templates")
  void loadsAsSparkSubmitLoadsIt(Path file) throws IOException {
    // spark-submit --properties-file reads the file with this method.
    Map<String, String> loaded =
        CollectionConverters.asJava(Utils.getPropertiesFromFile(file.toString()));
    Map<String, String> active = new LinkedHashMap<>();
    settings(file)
        .forEach(
            (k, v) -> {
              if (loaded.containsKey(k)) {
                active.put(k, v);
              }
            });
    assertThat(loaded).as(file.getFileName() + " loaded by Spark").isNotEmpty().isEqualTo(active);
    SparkConf conf = new SparkConf(false);
    loaded.forEach(conf::set);
    assertThat(conf.getAll()).as(file.getFileName() + " as a SparkConf").hasSize(loaded.size());
    // Memory sizes parse, and fractional GPU task amounts are ones Spark accepts.
    for (String k : loaded.keySet()) {
      if (k.endsWith(".memory") || k.endsWith(".memoryOverhead")) {
        assertThat(conf.getSizeAsMb(k)).as(k + " in " + file.getFileName()).isPositive();
      }
    }
  }

  @ParameterizedTest
  @MethodSource("templates")
  void mentionsOnlyKeysSparkOrHadoopDefine(Path file) throws Exception {
    Map<String, String> all = settings(file);
    assertThat(all).as("settings in " + file.getFileName()).hasSizeGreaterThan(5);
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, String> e : all.entrySet()) {
      String k = e.getKey();
      boolean known;
      if (k.startsWith("spark.hadoop.")) {
        known = hadoopKeys.contains(k.substring("spark.hadoop.".length()));
      } else if (RESOURCE_KEY.matcher(k).matches()) {
        known = true;
      } else if (k.startsWith("spark.executorEnv.")) {
        // Environment variables of the executors: any name is valid, so check it is one.
        known = k.substring("spark.executorEnv.".length()).matches("[A-Za-z_][A-Za-z0-9_]*");
      } else if (k.startsWith("spark.sparkclip.")) {
        known = sparkclipKeys.contains(k);
      } else if (k.startsWith("spark.yarn.") || k.startsWith("spark.kubernetes.")) {
        known = clusterManagerKey(k);
      } else {
        known = launcherKeys.contains(k) || ConfigEntry$.MODULE$.findEntry(k) != null;
      }
      if (!known) {
        unknown.add(k);
      }
      if (k.endsWith("Class") || k.endsWith(".class") || k.equals("spark.serializer")) {
        assertThat(Class.forName(e.getValue(), false, getClass().getClassLoader()))
            .as(k + " names a class on sparkclip's classpath")
            .isNotNull();
      }
    }
    assertThat(unknown)
        .as("keys in " + file.getFileName() + " that Spark/Hadoop do not define")
        .isEmpty();
  }

  static boolean clusterManagerKey(String k) {
    return CLUSTER_MANAGER_KEYS.contains(k) || CLUSTER_MANAGER_NAMED_KEY.matcher(k).matches();
  }

  @Test
  void clusterManagerKeysAreCheckedByNameNotByNamespace() {
    assertThat(clusterManagerKey("spark.kubernetes.container.image")).as("a real key").isTrue();
    assertThat(clusterManagerKey("spark.kubernetes.executor.label.team")).as("a label").isTrue();
    assertThat(clusterManagerKey("spark.yarn.appMasterEnv.SPARKCLIP_HOME")).as("an env").isTrue();
    assertThat(
            clusterManagerKey(
                "spark.kubernetes.executor.volumes.persistentVolumeClaim.data.mount.path"))
        .as("a volume mount")
        .isTrue();
    assertThat(clusterManagerKey("spark.kubernetes.container.imag")).as("a typo").isFalse();
    assertThat(clusterManagerKey("spark.yarn.maxAppAttempt")).as("a typo").isFalse();
    assertThat(clusterManagerKey("spark.kubernetes.executor.gpus")).as("made up").isFalse();
  }

  /** Cluster templates (local mode runs tasks in the driver: embed --device cuda there). */
  static List<Path> clusterTemplates() throws IOException {
    return templates().stream().filter(p -> !p.toString().endsWith(".local.conf")).toList();
  }

  @ParameterizedTest
  @MethodSource("clusterTemplates")
  void gpuSettingsAreValidResourceRequests(Path file) throws IOException {
    SparkConf conf = new SparkConf(false);
    settings(file).forEach(conf::set); // the commented GPU block, as a user would enable it
    assertThat(conf.get("spark.executor.resource.gpu.amount", null))
        .as("executor GPU amount in " + file.getFileName())
        .isEqualTo("1");
    var task =
        CollectionConverters.asJava(ResourceUtils.parseResourceRequirements(conf, "spark.task"));
    assertThat(task).as("task resource requests of " + file.getFileName()).hasSize(1);
    double amount = task.get(0).amount() / (double) task.get(0).numParts();
    assertThat(amount * conf.getInt("spark.executor.cores", 1))
        .as("GPU share of all tasks of one executor in " + file.getFileName())
        .isLessThanOrEqualTo(1.0);
  }

  @Test
  void gpuDiscoveryScriptPrintsSparkResourceJson(@TempDir Path tmp) throws Exception {
    fakeNvidiaSmi(tmp, "0\n1\n 3 \n");
    Result r = runScript(tmp);
    assertThat(r.exit).as("exit code; output: " + r.out).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out);
    assertThat(json.path("name").asText()).as("resource name").isEqualTo("gpu");
    assertThat(json.path("addresses").toString()).as("addresses").isEqualTo("[\"0\",\"1\",\"3\"]");
    // Spark's own parser accepts it (what the executor does with the script's output).
    var info = org.apache.spark.resource.ResourceInformation.parseJson(r.out.strip());
    assertThat(info.addresses()).as("addresses parsed by Spark").containsExactly("0", "1", "3");
  }

  @Test
  void gpuDiscoveryScriptFailsClearlyWithoutNvidiaSmi(@TempDir Path tmp) throws Exception {
    Result r = runScript(tmp); // PATH is only this empty folder
    assertThat(r.exit).as("exit code without nvidia-smi").isNotZero();
    assertThat(r.out).as("message").contains("nvidia-smi not found");
  }

  @Test
  void gpuDiscoveryScriptRejectsUnexpectedOutput(@TempDir Path tmp) throws Exception {
    fakeNvidiaSmi(tmp, "No devices were found\n");
    Result r = runScript(tmp);
    assertThat(r.exit).as("exit code for garbage output").isNotZero();
    assertThat(r.out).as("message").contains("unexpected nvidia-smi output");
  }

  private static void fakeNvidiaSmi(Path dir, String stdout) throws IOException {
    Path smi = dir.resolve("nvidia-smi");
    Files.writeString(
        smi,
        "#!/bin/sh\n"
            + "[ \"$1\" = --query-gpu=index ] && [ \"$2\" = --format=csv,noheader ] || exit 9\n"
            + "printf '"
            + stdout.replace("\n", "\\n")
            + "'\n");
    Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private record Result(int exit, String out) {}

  private static Result runScript(Path pathDir) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder("/bin/bash", CONF.resolve("getGpusResources.sh").toString())
            .redirectErrorStream(true);
    // Only the fake's folder: a real nvidia-smi on this machine must not answer. The script and
    // the fake use shell builtins only.
    pb.environment().put("PATH", pathDir.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("script finished").isTrue();
    return new Result(p.exitValue(), out);
  }
}
