package dev.embla.faas.internal.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.source.SourceContext.Cancellable;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TimerServiceTest {

  private final FakeTicker clock = new FakeTicker();
  private final Instant t0 = clock.instant();

  @Test
  void runDueTasks_runsOnlyTasksDueOnTheClock() {
    TimerService timers = new TimerService(clock, Runnable::run);
    List<String> ran = new CopyOnWriteArrayList<>();
    timers.schedule(t0.plusSeconds(10), () -> ran.add("b"));
    timers.schedule(t0.plusSeconds(5), () -> ran.add("a"));

    assertThat(timers.runDueTasks()).isZero();
    clock.advance(Duration.ofSeconds(5));
    assertThat(timers.runDueTasks()).isEqualTo(1);
    assertThat(ran).containsExactly("a");
    assertThat(timers.nextDue()).isEqualTo(t0.plusSeconds(10));

    clock.advance(Duration.ofSeconds(100));
    timers.runDueTasks();
    assertThat(ran).containsExactly("a", "b");
    assertThat(timers.pending()).isZero();
  }

  @Test
  void runDueTasks_runsTasksInDueOrderThenInScheduleOrder() {
    TimerService timers = new TimerService(clock, Runnable::run);
    List<String> ran = new CopyOnWriteArrayList<>();
    timers.schedule(t0.plusSeconds(3), () -> ran.add("late"));
    timers.schedule(t0.plusSeconds(1), () -> ran.add("first"));
    timers.schedule(t0.plusSeconds(1), () -> ran.add("second"));
    clock.advance(Duration.ofSeconds(3));
    timers.runDueTasks();
    assertThat(ran).containsExactly("first", "second", "late");
  }

  @Test
  void cancel_preventsTaskThatHasNotStarted() {
    TimerService timers = new TimerService(clock, Runnable::run);
    AtomicInteger ran = new AtomicInteger();
    Cancellable handle = timers.schedule(t0.plusSeconds(1), ran::incrementAndGet);
    handle.cancel();
    clock.advance(Duration.ofSeconds(2));
    assertThat(timers.runDueTasks()).isZero();
    assertThat(ran).hasValue(0);
    assertThat(timers.pending()).isZero();
  }

  @Test
  void taskThatThrows_isCountedAndLaterTasksStillRun() {
    TimerService timers = new TimerService(clock, Runnable::run);
    AtomicInteger ran = new AtomicInteger();
    timers.schedule(t0, () -> {
      throw new IllegalStateException("boom");
    });
    timers.schedule(t0, ran::incrementAndGet);
    timers.runDueTasks();
    assertThat(timers.failures()).isEqualTo(1);
    assertThat(ran).hasValue(1);
  }

  @Test
  void driver_noticesFakeClockAdvancePromptly() {
    try (TimerService timers = new TimerService(clock, Executors.newVirtualThreadPerTaskExecutor())) {
      timers.start();
      AtomicInteger ran = new AtomicInteger();
      timers.schedule(t0.plus(Duration.ofHours(1)), ran::incrementAndGet);
      clock.advance(Duration.ofMinutes(59));
      // Not due yet: the driver must not run it however often it wakes.
      Await.until("driver loop passes", () -> timers.nextDue() != null);
      assertThat(ran).hasValue(0);

      clock.advance(Duration.ofMinutes(1));
      // The driver parks at most 20 ms between looks at the clock; 2 s leaves room for a loaded machine.
      Await.until("task runs after the clock reaches it", Duration.ofSeconds(2), () -> ran.get() == 1);
    }
  }

  @Test
  void driver_runsSlowTaskWithoutDelayingOthers() throws Exception {
    try (TimerService timers = new TimerService(clock, Executors.newVirtualThreadPerTaskExecutor())) {
      timers.start();
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      AtomicInteger fast = new AtomicInteger();
      timers.schedule(t0.plusSeconds(1), () -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      timers.schedule(t0.plusSeconds(2), fast::incrementAndGet);
      clock.advance(Duration.ofSeconds(2));
      Await.until("second timer runs while the first is blocked", () -> fast.get() == 1);
      release.countDown();
    }
  }

  @Test
  void close_dropsPendingTasksAndIgnoresNewOnes() {
    TimerService timers = new TimerService(clock, Runnable::run);
    AtomicInteger ran = new AtomicInteger();
    timers.schedule(t0, ran::incrementAndGet);
    timers.close();
    timers.close();
    timers.schedule(t0, ran::incrementAndGet);
    assertThat(timers.pending()).isZero();
    assertThat(timers.runDueTasks()).isZero();
    assertThat(ran).hasValue(0);
  }
}
