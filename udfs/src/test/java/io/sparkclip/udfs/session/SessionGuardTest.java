package io.sparkclip.udfs.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkclip.schemas.ErrorId;
import io.sparkclip.schemas.SparkclipException;
import io.sparkclip.udfs.Fixtures;
import io.sparkclip.udfs.model.ModelDirectory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The shutdown hook must not free a session while a task is inside {@code run}. */
class SessionGuardTest {
  @Test
  void closeWaitsForTheRunInFlightThenLaterRunsFailWithAnId() throws Exception {
    SessionGuard guard = new SessionGuard("model.onnx");
    CountDownLatch inRun = new CountDownLatch(1);
    CountDownLatch finishRun = new CountDownLatch(1);
    AtomicBoolean closedDuringRun = new AtomicBoolean();
    AtomicBoolean closed = new AtomicBoolean();
    CompletableFuture<String> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return guard.use(
                    () -> {
                      inRun.countDown();
                      await(finishRun);
                      closedDuringRun.set(closed.get());
                      return "embedded";
                    });
              } catch (ai.onnxruntime.OrtException e) {
                throw new IllegalStateException(e);
              }
            });
    assertThat(inRun.await(10, TimeUnit.SECONDS)).as("the run started").isTrue();
    CompletableFuture<Boolean> close =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return guard.close(Duration.ofSeconds(10), () -> closed.set(true));
              } catch (ai.onnxruntime.OrtException e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(300);
    assertThat(close.isDone()).as("close is still waiting while the run is in flight").isFalse();
    assertThat(closed.get()).as("the session is not closed under the run").isFalse();
    finishRun.countDown();
    assertThat(run.get(10, TimeUnit.SECONDS)).as("the run completes").isEqualTo("embedded");
    assertThat(close.get(10, TimeUnit.SECONDS)).as("close happens after the run").isTrue();
    assertThat(closedDuringRun.get()).as("closed while the run was inside").isFalse();
    assertThat(closed.get()).as("closed").isTrue();
    assertThatThrownBy(() -> guard.use(() -> "late"))
        .as("a run after close")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.MODEL_SESSION_CLOSED))
        .hasMessageContaining("model.onnx");
  }

  @Test
  void closeGivesUpRatherThanFreeingUnderARunThatDoesNotEnd() throws Exception {
    SessionGuard guard = new SessionGuard("model.onnx");
    CountDownLatch inRun = new CountDownLatch(1);
    CountDownLatch finishRun = new CountDownLatch(1);
    AtomicBoolean closed = new AtomicBoolean();
    CompletableFuture<String> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return guard.use(
                    () -> {
                      inRun.countDown();
                      await(finishRun);
                      return "embedded";
                    });
              } catch (ai.onnxruntime.OrtException e) {
                throw new IllegalStateException(e);
              }
            });
    assertThat(inRun.await(10, TimeUnit.SECONDS)).as("the run started").isTrue();
    assertThat(guard.close(Duration.ofMillis(200), () -> closed.set(true)))
        .as("close reports that it did not close")
        .isFalse();
    assertThat(closed.get()).as("the session was left open").isFalse();
    finishRun.countDown();
    assertThat(run.get(10, TimeUnit.SECONDS)).as("the run completes").isEqualTo("embedded");
    assertThat(guard.use(() -> "next")).as("the session still runs").isEqualTo("next");
  }

  @Test
  void aClosedTowerFailsWithAnIdInsteadOfTouchingFreedMemory() {
    ModelDirectory d = ModelDirectory.open(Fixtures.tinyClip());
    // Opened outside the cache: closing it must not close the shared session of other tests.
    OnnxTower tower = SessionCache.open(d.visualOnnx(), Device.CPU, 1);
    assertThat(tower.runImages(new float[3 * 64 * 64], 1, 64))
        .as("runs while open")
        .hasNumberOfRows(1);
    tower.close();
    assertThatThrownBy(() -> tower.runImages(new float[3 * 64 * 64], 1, 64))
        .as("run after the shutdown hook closed the tower")
        .isInstanceOfSatisfying(
            SparkclipException.class,
            e -> assertThat(e.id()).as("id").isEqualTo(ErrorId.MODEL_SESSION_CLOSED));
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
