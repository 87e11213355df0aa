package io.sparkclip.udfs.session;

import ai.onnxruntime.OrtException;
import io.sparkclip.udfs.ClipErrors;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps a session open while any thread runs it. Runs hold the read lock, so tasks share the
 * session concurrently (ONNX Runtime allows concurrent {@code run}); closing takes the write lock,
 * so the JVM shutdown hook waits for runs in flight instead of freeing native memory under them (a
 * crash of the executor, not an exception). After close, a run fails with an error id.
 */
final class SessionGuard {
  /** How long close waits for runs in flight: a GPU batch takes well under a second. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private final String file;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed; // written under the write lock, read under the read lock

  SessionGuard(String file) {
    this.file = file;
  }

  @FunctionalInterface
  interface Body<T> {
    T run() throws OrtException;
  }

  @FunctionalInterface
  interface Closer {
    void close() throws OrtException;
  }

  /** Runs {@code body} while the session stays open; throws if it is already closed. */
  <T> T use(Body<T> body) throws OrtException {
    lock.readLock().lock();
    try {
      if (closed) {
        throw ClipErrors.sessionClosed(file);
      }
      return body.run();
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Closes once no run is in flight. Returns false, leaving the session open, when runs still hold
   * it after {@code wait} (the process is exiting; the OS frees the memory, while closing under a
   * run would crash it).
   */
  boolean close(Duration wait, Closer closer) throws OrtException {
    boolean locked;
    try {
      locked = lock.writeLock().tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    if (!locked) {
      return false;
    }
    try {
      if (!closed) {
        closed = true;
        closer.close();
      }
      return true;
    } finally {
      lock.writeLock().unlock();
    }
  }
}
