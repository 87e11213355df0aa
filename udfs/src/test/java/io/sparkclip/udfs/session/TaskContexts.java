package io.sparkclip.udfs.session;

import java.util.Properties;
import java.util.function.Supplier;
import org.apache.spark.TaskContext;
import org.apache.spark.TaskContextImpl;
import org.apache.spark.resource.ResourceInformation;

/** Runs code as if inside a Spark task that holds the given {@code gpu} resource addresses. */
final class TaskContexts {
  private TaskContexts() {}

  static <T> T withGpus(Supplier<T> body, String... gpuAddresses) {
    scala.collection.immutable.Map<String, ResourceInformation> resources =
        gpuAddresses.length == 0
            ? scala.collection.immutable.Map$.MODULE$.empty()
            : new scala.collection.immutable.Map.Map1<>(
                "gpu", new ResourceInformation("gpu", gpuAddresses));
    TaskContext tc =
        new TaskContextImpl(
            0,
            0,
            0,
            0L,
            0,
            1,
            null,
            new Properties(),
            null,
            TaskContextImpl.$lessinit$greater$default$10(),
            1,
            resources);
    return TaskContext.withTaskContext(tc, body::get);
  }
}
