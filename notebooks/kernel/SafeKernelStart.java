package io.sparkclip.notebook;

import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.LogManager;

/**
 * Starts rapaio-jupyter-kernel 3.0.1 the way its {@code MainApp} does, without its two start-up
 * races. Either one leaves a kernel that is alive but never answers, which Jupyter reports as
 * "Kernel didn't respond".
 *
 * <ol>
 *   <li>{@code LoopThread.start()} calls {@code Thread.start()} before it sets its {@code running}
 *       flag. A channel thread that runs first sees {@code false} and ends without a word. Found
 *       with a JFR recording of a deaf kernel: the shell thread ended right after it started, and
 *       it threw nothing. Measured with {@code jupyter_client} on a 2-core machine, 6 of 25 plain
 *       starts were deaf. With this class, 0 of 40 were deaf, and 8 of those 40 starts had a thread
 *       put back. Fix: half a second after {@code connect}, every channel loop thread that has
 *       ended is started again with its own name, pause and body, with the flag set first.
 *   <li>{@code Channels.connect} binds the sockets and starts the threads first. It creates its
 *       message-handler map only after that. A request that arrives in between hits a null map, and
 *       the {@code NullPointerException} kills the shell thread. Seen once in NotebooksIT. Fix: the
 *       map gets an empty value before {@code connect}. An early request is then logged as
 *       unhandled and dropped, and Jupyter repeats {@code kernel_info_request} every second.
 * </ol>
 *
 * <p>install-kernel.sh compiles this file with plain {@code javac}, without the kernel jar. The
 * kernel is reached by reflection only. If the kernel's classes do not have the expected shape
 * (another release), this falls back to the kernel's own {@code MainApp.main} and prints a warning.
 */
public final class SafeKernelStart {
  private static final String PKG = "org.rapaio.jupyter.kernel.";

  private SafeKernelStart() {}

  public static void main(String[] args) throws Throwable {
    if (args.length != 1) {
      System.err.println("usage: SafeKernelStart CONNECTION_FILE (started by Jupyter)");
      System.exit(2);
    }
    Path connectionFile = Path.of(args[0]);
    if (!Files.isRegularFile(connectionFile)) {
      throw new IllegalArgumentException(
          "Jupyter connection file not found: " + connectionFile + " (Jupyter starts the kernel)");
    }
    PrintStream log = System.err;
    ClassLoader loader = SafeKernelStart.class.getClassLoader();
    // Initialising MainApp creates the kernel (its classpath, its JShell), as `java -jar` does.
    Class<?> mainApp = Class.forName(PKG + "MainApp", true, loader);
    // The kernel redirects System.err into notebook cells: a channel thread that dies must still be
    // reported in the kernel's own log (set after the kernel exists, in case it sets its own).
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, e) -> {
          log.println("SafeKernelStart: kernel thread " + thread.getName() + " died:");
          e.printStackTrace(log);
        });
    Object channels;
    Object kernel;
    Class<?> channelsClass;
    Class<?> kernelClass;
    try {
      try (InputStream logging =
          mainApp.getClassLoader().getResourceAsStream("logging.properties")) {
        if (logging != null) {
          LogManager.getLogManager().readConfiguration(logging);
        }
      }
      Class<?> propsClass = Class.forName(PKG + "core.ConnectionProperties", true, loader);
      Object props =
          Class.forName(PKG + "core.Transform", true, loader)
              .getMethod("fromJson", String.class, Class.class)
              .invoke(null, Files.readString(connectionFile), propsClass);
      channelsClass = Class.forName(PKG + "channels.Channels", true, loader);
      kernelClass = Class.forName(PKG + "core.RapaioKernel", true, loader);
      kernel = mainApp.getField("kernel").get(null);
      channels = channelsClass.getConstructor(propsClass).newInstance(props);
      Field handlers = channelsClass.getDeclaredField("handlers");
      handlers.setAccessible(true);
      handlers.set(channels, new ConcurrentHashMap<>());
    } catch (ReflectiveOperationException | RuntimeException e) {
      System.err.println(
          "SafeKernelStart: this rapaio-jupyter-kernel differs from 3.0.1 ("
              + e
              + "); starting it with its own MainApp, which may hang at start-up");
      mainApp.getMethod("main", String[].class).invoke(null, (Object) args);
      return;
    }
    try {
      channelsClass.getMethod("connect", kernelClass).invoke(channels, kernel);
      reviveLoopThreads(channelsClass, channels, log);
      channelsClass.getMethod("joinUntilClose").invoke(channels);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /**
   * Replaces every channel loop thread that ended at once. LoopThread 3.0.1 calls {@code
   * Thread.start()} before it sets its {@code running} flag. A thread that runs before the flag is
   * set sees {@code false} and ends without a word. A loop thread never ends by itself: one that
   * has ended half a second after {@code connect} lost that race. It is started again with its own
   * name, pause and body, with the flag set first.
   */
  private static void reviveLoopThreads(Class<?> channelsClass, Object channels, PrintStream log)
      throws ReflectiveOperationException, InterruptedException {
    Thread.sleep(500);
    for (String name : new String[] {"heartbeat", "shell", "control", "stdin", "iopub"}) {
      Field channelField = channelsClass.getDeclaredField(name);
      channelField.setAccessible(true);
      Object channel = channelField.get(channels);
      Field loopField;
      try {
        loopField = channel.getClass().getDeclaredField("loopThread");
      } catch (NoSuchFieldException e) {
        continue; // this channel has no loop thread of its own
      }
      loopField.setAccessible(true);
      Thread dead = (Thread) loopField.get(channel);
      if (dead == null || dead.getState() != Thread.State.TERMINATED) {
        continue;
      }
      Class<?> loopClass = dead.getClass();
      Field sleep = loopClass.getDeclaredField("sleep");
      Field body = loopClass.getDeclaredField("loopBody");
      Field running = loopClass.getDeclaredField("running");
      sleep.setAccessible(true);
      body.setAccessible(true);
      running.setAccessible(true);
      Thread revived =
          (Thread)
              loopClass
                  .getConstructor(String.class, long.class, Runnable.class)
                  .newInstance(dead.getName(), sleep.getLong(dead), body.get(dead));
      running.setBoolean(revived, true);
      loopField.set(channel, revived);
      revived.start();
      log.println(
          "SafeKernelStart: the "
              + name
              + " channel's loop thread ended at start-up (rapaio-jupyter-kernel 3.0.1 race);"
              + " started it again");
    }
  }
}
