package dev.embla.faas.polyglot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GuestThreadTest {

  private final GuestThread guest = new GuestThread("guest-test");

  @AfterEach
  void stop() {
    guest.stop();
  }

  @Test
  void call_runsThePhaseOnTheGuestThreadAndReturnsItsResult() {
    AtomicReference<Thread> ranOn = new AtomicReference<>();

    String result = guest.call(() -> {
      ranOn.set(Thread.currentThread());
      return "done";
    });

    assertThat(result).isEqualTo("done");
    assertThat(ranOn.get()).isSameAs(guest.thread()).isNotSameAs(Thread.currentThread());
  }

  @Test
  void call_rethrowsWhatThePhaseThrew_asItIs() {
    IllegalArgumentException thrown = new IllegalArgumentException("bad event");
    StackOverflowError error = new StackOverflowError();

    assertThatThrownBy(() -> guest.call(() -> {
      throw thrown;
    })).isSameAs(thrown);
    assertThatThrownBy(() -> guest.call(() -> {
      throw error;
    })).isSameAs(error);
    assertThat(guest.call(() -> 1)).isEqualTo(1); // the thread survives both
  }

  @Test
  void abandon_endsTheWaitAtOnce_whileThePhaseGoesOnRunning() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean finished = new AtomicBoolean();
    CancellationException why = new CancellationException("deadline");
    AtomicReference<Throwable> caller = new AtomicReference<>();
    Thread waiter = Thread.ofPlatform().start(() -> {
      try {
        guest.call(() -> {
          running.countDown();
          try {
            release.await(); // a runaway phase: it stops only when released
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          finished.set(true);
          return null;
        });
      } catch (Throwable t) {
        caller.set(t);
      }
    });
    try {
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

      long t0 = System.nanoTime();
      guest.abandon(why);
      waiter.join(TimeUnit.SECONDS.toMillis(10));
      long answeredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

      assertThat(waiter.isAlive()).isFalse();
      assertThat(caller.get()).isSameAs(why);
      assertThat(finished).isFalse(); // the caller was answered while the guest was still in the phase
      assertThat(answeredMs).as("abandon to the caller's return").isLessThan(1_000);
    } finally {
      release.countDown();
    }
  }

  @Test
  void abandon_racingCalls_neverLeavesACallerWaiting() throws Exception {
    // Many rounds of one call racing one abandon: each call must end, with its result or the abandon, never hang.
    for (int round = 0; round < 200; round++) {
      GuestThread g = new GuestThread("guest-race");
      try {
        CountDownLatch go = new CountDownLatch(1);
        CancellationException why = new CancellationException("race " + round);
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread caller = Thread.ofPlatform().start(() -> {
          try {
            go.await();
            outcome.set(g.call(() -> "ran"));
          } catch (Throwable t) {
            outcome.set(t);
          }
        });
        Thread canceller = Thread.ofPlatform().start(() -> {
          try {
            go.await();
            g.abandon(why);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        go.countDown();
        caller.join(TimeUnit.SECONDS.toMillis(10));
        canceller.join(TimeUnit.SECONDS.toMillis(10));

        assertThat(caller.isAlive()).as("caller of round %d still waiting", round).isFalse();
        assertThat(outcome.get()).isIn("ran", why);
        assertThatThrownBy(() -> g.call(() -> "later")).isSameAs(why); // abandoned for good
      } finally {
        g.stop();
      }
    }
  }

  @Test
  void aThrownError_andALeftoverInterrupt_doNotEndTheThread() {
    assertThatThrownBy(() -> guest.call(() -> {
      throw new OutOfMemoryError("guest ran out");
    })).isInstanceOf(OutOfMemoryError.class).hasMessage("guest ran out");
    guest.call(() -> {
      Thread.currentThread().interrupt(); // as GraalVM's cancellation may leave it
      return null;
    });

    assertThat(guest.call(() -> Thread.currentThread().isInterrupted())).isFalse();
    assertThat(guest.thread().isAlive()).isTrue();
  }

  @Test
  void call_afterStop_failsAtOnce() {
    guest.stop();

    assertThatThrownBy(() -> guest.call(() -> "never")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("stopped");
  }

  @Test
  void abandon_beforeACall_makesTheCallFailWithoutRunningIt() {
    CancellationException why = new CancellationException("cancelled before Init");
    AtomicBoolean ran = new AtomicBoolean();

    guest.abandon(why);

    assertThatThrownBy(() -> guest.call(() -> {
      ran.set(true);
      return null;
    })).isSameAs(why);
    assertThat(ran).isFalse();
  }

  @Test
  void stop_endsTheThread() {
    guest.call(() -> null);

    guest.stop();

    assertThat(guest.awaitEnd(Duration.ofSeconds(10))).isTrue();
    assertThat(guest.thread().isAlive()).isFalse();
  }
}
