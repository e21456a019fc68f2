package dev.embla.faas.internal.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.spi.source.SourceContext.Cancellable;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
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

  /** Runs tasks inline, after failing the first {@code failures} hand-overs as a thread-per-task executor can. */
  private static Executor failingFirst(int failures) {
    AtomicInteger left = new AtomicInteger(failures);
    return task -> {
      if (left.getAndDecrement() > 0) {
        throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits");
      }
      task.run();
    };
  }

  @Test
  void runDueTasks_executorThrowsAnError_keepsTheTaskForTheNextCall() {
    TimerService timers = new TimerService(clock, failingFirst(1));
    AtomicInteger ran = new AtomicInteger();
    timers.schedule(t0, ran::incrementAndGet);

    assertThatThrownBy(timers::runDueTasks).isInstanceOf(OutOfMemoryError.class);
    assertThat(timers.pending()).as("not handed over, so not dropped").isEqualTo(1);

    assertThat(timers.runDueTasks()).isEqualTo(1);
    assertThat(ran).hasValue(1);
    assertThat(timers.pending()).isZero();
  }

  @Test
  void driver_survivesAnErrorFromTheExecutor() {
    try (TimerService timers = new TimerService(clock, failingFirst(1))) {
      timers.start();
      AtomicInteger first = new AtomicInteger();
      AtomicInteger later = new AtomicInteger();
      timers.schedule(t0, first::incrementAndGet);
      Await.until("the task whose hand-over failed runs on a later pass", () -> first.get() == 1);

      timers.schedule(t0.plusSeconds(1), later::incrementAndGet);
      clock.advance(Duration.ofSeconds(1));
      Await.until("the driver still runs new timers", () -> later.get() == 1);
      assertThat(first).as("run once").hasValue(1);
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
