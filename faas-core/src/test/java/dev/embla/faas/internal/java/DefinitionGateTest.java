package dev.embla.faas.internal.java;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DefinitionGateTest {

  /** Starts a thread that spins for the held gate, returns once it spins; the future says whether it got the gate. */
  private static CompletableFuture<Boolean> spinBehindHolder(DefinitionGate gate) {
    CompletableFuture<Boolean> spinner = async(() -> gate.run(gate::isHeldByCurrentThread));
    awaitSpinner(gate);
    return spinner;
  }

  private static final long NEVER = TimeUnit.HOURS.toNanos(1);

  /** Runs {@code work} on a platform thread of its own (the common pool may have a single thread on two cores). */
  private static <T> CompletableFuture<T> async(Callable<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Thread.ofPlatform().daemon().start(() -> {
      try {
        result.complete(work.call());
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  /** Has another thread take the gate and keep it until {@code letGo} opens; returns once it holds the gate. */
  private static CompletableFuture<Object> holdUntil(DefinitionGate gate, CountDownLatch letGo)
      throws InterruptedException {
    CountDownLatch holding = new CountDownLatch(1);
    CompletableFuture<Object> holder = async(() -> gate.run(() -> {
      holding.countDown();
      letGo.await();
      return null;
    }));
    holding.await();
    return holder;
  }

  /** Waits until a thread spins for the gate. */
  private static void awaitSpinner(DefinitionGate gate) {
    while (!gate.hasSpinner()) {
      Thread.onSpinWait();
    }
  }

  @Test
  void isReentrantOnTheHoldingThread() {
    DefinitionGate gate = new DefinitionGate(NEVER);

    String result = gate.run(() -> gate.run(() -> gate.isHeldByCurrentThread() ? "nested, held" : "not held"));

    assertThat(result).isEqualTo("nested, held");
    assertThat(gate.isHeldByCurrentThread()).isFalse();
  }

  @Test
  void releasesTheGateWhenTheWorkThrows() {
    DefinitionGate gate = new DefinitionGate(NEVER);

    assertThatThrownBy(() -> gate.run(() -> {
      throw new ClassFormatError("bad bytes");
    })).isInstanceOf(ClassFormatError.class);

    assertThat(gate.run(gate::isHeldByCurrentThread)).isTrue();
  }

  @Test
  void aSpinnerTakesTheGateWhenTheHolderLetsGo() throws Exception {
    DefinitionGate gate = new DefinitionGate(NEVER);
    CountDownLatch letGo = new CountDownLatch(1);
    CompletableFuture<Object> holder = holdUntil(gate, letGo);

    CompletableFuture<Boolean> waiter = spinBehindHolder(gate);
    assertThat(waiter).isNotDone();
    letGo.countDown();

    assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
    holder.get(10, TimeUnit.SECONDS);
  }

  @Test
  void onlyOneThreadSpinsTheOthersGoAheadUngated() throws Exception {
    DefinitionGate gate = new DefinitionGate(NEVER);
    CountDownLatch letGo = new CountDownLatch(1);
    CompletableFuture<Object> holder = holdUntil(gate, letGo);
    CompletableFuture<Boolean> spinner = spinBehindHolder(gate);

    // A third thread neither waits for the holder nor gets the gate: it runs as it would without one.
    Thread third = Thread.ofPlatform().start(() -> assertThat(gate.run(gate::isHeldByCurrentThread)).isFalse());
    third.join(TimeUnit.SECONDS.toMillis(10));

    assertThat(third.isAlive()).isFalse();
    assertThat(spinner).isNotDone();
    letGo.countDown();
    assertThat(spinner.get(10, TimeUnit.SECONDS)).isTrue();
    holder.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aSpinnerPastItsLimitGoesAheadWithoutTheGate() throws Exception {
    DefinitionGate gate = new DefinitionGate(TimeUnit.MILLISECONDS.toNanos(1));
    CountDownLatch letGo = new CountDownLatch(1);
    CompletableFuture<Object> holder = holdUntil(gate, letGo);

    // The holder never lets go while the second thread runs: it must not wait for it.
    boolean held = async(() -> gate.run(gate::isHeldByCurrentThread)).get(10, TimeUnit.SECONDS);

    assertThat(held).isFalse();
    assertThat(gate.hasSpinner()).isFalse();
    letGo.countDown();
    holder.get(10, TimeUnit.SECONDS);
  }
}
