package dev.embla.examples.host;

import dev.embla.faas.spi.source.InvocationOutcome;
import dev.embla.faas.spi.source.PushEventSource;
import dev.embla.faas.spi.source.SourceContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Runs a schedule source on time that the demo moves by hand, so that {@code rate(1 minute)} fires three times in
 * milliseconds instead of three minutes. It wraps the real source and hands it a {@link SourceContext} whose clock
 * and timers are this object's; invocations still go through the engine.
 *
 * <p>This works because the event-source SPI requires sources to take time from {@link SourceContext#clock()} and
 * {@link SourceContext#schedule}. A production host connects {@code EventSources.schedule(...)} directly.
 *
 * <p>Timers run on the thread that calls {@link #advance}; the other methods may be called from engine threads, so
 * state is guarded by {@code this}.
 */
final class ManualTimeSchedule implements PushEventSource {

  private record Timer(Instant at, long seq, Runnable task) {}

  private final PushEventSource schedule;
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(Comparator.comparing(Timer::at).thenComparingLong(Timer::seq));
  private final List<InvocationOutcome> outcomes = new ArrayList<>();
  private Instant now;
  private long seq;
  private SourceContext engine;

  /**
   * Wraps {@code schedule}, starting the manual clock at {@code start}.
   *
   * @param schedule the schedule source, from {@code EventSources.schedule}
   * @param start the manual clock's first reading
   */
  ManualTimeSchedule(PushEventSource schedule, Instant start) {
    this.schedule = schedule;
    this.now = start;
  }

  @Override
  public String describe() {
    return schedule.describe() + " on manual time";
  }

  @Override
  public void start(SourceContext context) {
    synchronized (this) {
      engine = context;
    }
    schedule.start(new ManualContext());
  }

  @Override
  public void close() {
    schedule.close();
    synchronized (this) {
      timers.clear();
    }
  }

  /** Returns the manual clock's reading. */
  synchronized Instant now() {
    return now;
  }

  /** Returns how many timers the source has set and not yet seen run. */
  synchronized int pendingTimers() {
    return timers.size();
  }

  /** Returns the outcome of every invocation the source made, in order. */
  synchronized List<InvocationOutcome> outcomes() {
    return List.copyOf(outcomes);
  }

  /**
   * Moves the manual clock forward by {@code amount}, running every timer that falls due on the way at its own
   * time, on this thread. Timers set by those timers run too if they fall within {@code amount}.
   */
  void advance(Duration amount) {
    Instant target;
    synchronized (this) {
      target = now.plus(amount);
    }
    while (true) {
      Timer due;
      synchronized (this) {
        due = timers.peek();
        if (due == null || due.at().isAfter(target)) {
          now = target;
          return;
        }
        timers.poll();
        if (due.at().isAfter(now)) {
          now = due.at();
        }
      }
      // outside the lock: the task invokes the function, which may take a while
      due.task().run();
    }
  }

  /** The context the wrapped source sees: manual time, the engine's invocations. */
  private final class ManualContext implements SourceContext {

    private final Clock clock = new Clock() {
      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("manual time is UTC only");
      }

      @Override
      public Instant instant() {
        return now();
      }
    };

    @Override
    public String functionRef() {
      return engine().functionRef();
    }

    @Override
    public Clock clock() {
      return clock;
    }

    @Override
    public Cancellable schedule(Instant at, Runnable task) {
      Timer timer;
      synchronized (ManualTimeSchedule.this) {
        timer = new Timer(at, seq++, task);
        timers.add(timer);
      }
      return () -> {
        synchronized (ManualTimeSchedule.this) {
          timers.remove(timer);
        }
      };
    }

    @Override
    public InvocationOutcome invoke(byte[] event) {
      InvocationOutcome outcome = engine().invoke(event);
      synchronized (ManualTimeSchedule.this) {
        outcomes.add(outcome);
      }
      return outcome;
    }

    @Override
    public void reportFailure(String message, Throwable cause) {
      engine().reportFailure(message, cause);
    }

    private SourceContext engine() {
      synchronized (ManualTimeSchedule.this) {
        return engine;
      }
    }
  }
}
