package dev.embla.faas.internal.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.source.SourceContext.Cancellable;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RouterSourceContextTest {

  private final FakeTicker clock = new FakeTicker();
  private final TimerService timers = new TimerService(clock, Runnable::run);
  private final RouterSourceContext context =
      new RouterSourceContext("handler", "test source", clock, timers, new FakeInvoker());

  @Test
  void schedule_runsTaskWhenDueAndStopsTrackingIt() {
    AtomicInteger ran = new AtomicInteger();
    context.schedule(clock.instant().plusSeconds(5), ran::incrementAndGet);
    assertThat(context.scheduledTasks()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(5));
    timers.runDueTasks();

    assertThat(ran).hasValue(1);
    assertThat(context.scheduledTasks()).isZero();
  }

  @Test
  void cancel_beforeDue_taskNeverRuns() {
    AtomicInteger ran = new AtomicInteger();
    Cancellable handle = context.schedule(clock.instant().plusSeconds(5), ran::incrementAndGet);
    handle.cancel();
    clock.advance(Duration.ofSeconds(5));
    timers.runDueTasks();
    assertThat(ran).hasValue(0);
    assertThat(context.scheduledTasks()).isZero();
    assertThat(timers.pending()).as("dropped from the timer queue, not left to expire").isZero();
  }

  @Test
  void close_cancelsWhatTheSourceLeftScheduledAndIgnoresNewTasks() {
    AtomicInteger ran = new AtomicInteger();
    context.schedule(clock.instant().plus(Duration.ofDays(365)), ran::incrementAndGet);
    context.close();
    context.schedule(clock.instant(), ran::incrementAndGet);
    clock.advance(Duration.ofDays(366));
    timers.runDueTasks();
    assertThat(ran).hasValue(0);
    assertThat(context.scheduledTasks()).isZero();
    assertThat(timers.pending()).isZero();
  }

  @Test
  void schedule_taskDueAtOnceRacingTheTimerThread_runsOnceAndIsNotLeftTracked() throws Exception {
    // A task may run on the timer thread before schedule() has returned its handle; a schedule whose next fire is
    // scheduled by the fire before it must not lose that fire. The window is a few instructions wide, so the test
    // schedules for a bounded time: the old code lost a task in about a third of the rounds of 100,000.
    AtomicInteger ran = new AtomicInteger();
    AtomicBoolean done = new AtomicBoolean();
    CountDownLatch go = new CountDownLatch(1);
    Thread timerThread = Thread.ofPlatform().name("test-timer").start(() -> {
      try {
        go.await();
      } catch (InterruptedException e) {
        return;
      }
      while (!done.get()) {
        timers.runDueTasks();
      }
    });
    int scheduled = 0;
    try {
      go.countDown();
      long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (System.nanoTime() - deadline < 0) {
        for (int i = 0; i < 100_000; i++) {
          context.schedule(clock.instant(), ran::incrementAndGet);
        }
        scheduled += 100_000;
        Await.until("the timer thread drains the queue", () -> timers.pending() == 0);
      }
    } finally {
      done.set(true);
      assertThat(timerThread.join(Duration.ofSeconds(10))).isTrue();
    }
    timers.runDueTasks();

    assertThat(timers.failures()).as("no task threw").isZero();
    assertThat(ran).hasValue(scheduled);
    assertThat(context.scheduledTasks()).isZero();
  }
}
