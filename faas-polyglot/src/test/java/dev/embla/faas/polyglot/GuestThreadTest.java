package dev.embla.faas.polyglot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

    guest.abandon(why);
    waiter.join(TimeUnit.SECONDS.toMillis(10));

    assertThat(waiter.isAlive()).isFalse();
    assertThat(caller.get()).isSameAs(why);
    assertThat(finished).isFalse(); // the caller was answered while the guest was still in the phase
    release.countDown();
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
  void stop_endsTheThread() throws InterruptedException {
    guest.call(() -> null);

    guest.stop();
    guest.thread().join(TimeUnit.SECONDS.toMillis(10));

    assertThat(guest.thread().isAlive()).isFalse();
  }
}
