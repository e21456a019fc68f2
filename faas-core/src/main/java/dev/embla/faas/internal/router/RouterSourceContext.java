package dev.embla.faas.internal.router;

import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.spi.source.InvocationOutcome;
import dev.embla.faas.spi.source.SourceContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link SourceContext} of one connection: its function, the router's clock and timers, an invoke that never
 * throws, and the connection's succeeded/failed counters. Every failure that reaches it is counted and logged here,
 * once, with the function's name, so sources and the mapping do not log it again.
 */
final class RouterSourceContext implements SourceContext {

  private static final Logger LOG = LoggerFactory.getLogger(RouterSourceContext.class);

  private final String functionRef;
  private final String sourceDescription;
  private final Clock clock;
  private final TimerService timers;
  private final Invoker invoker;
  private final LongAdder succeeded = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder sourceFailures = new LongAdder();
  private final Set<Scheduled> pending = ConcurrentHashMap.newKeySet(); // scheduled, neither run nor cancelled
  private volatile boolean closed;

  RouterSourceContext(String functionRef, String sourceDescription, Clock clock, TimerService timers,
      Invoker invoker) {
    this.functionRef = Objects.requireNonNull(functionRef, "functionRef");
    this.sourceDescription = Objects.requireNonNull(sourceDescription, "sourceDescription");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.timers = Objects.requireNonNull(timers, "timers");
    this.invoker = Objects.requireNonNull(invoker, "invoker");
  }

  @Override
  public String functionRef() {
    return functionRef;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public Cancellable schedule(Instant at, Runnable task) {
    Objects.requireNonNull(task, "task");
    if (closed) {
      // A source that schedules after it was disconnected must not keep a timer alive for nothing.
      return () -> {};
    }
    // Tracked before it is handed to the timers: a task due now can run on the timer thread before schedule returns,
    // and it must find itself registered so it can drop itself (a schedule's fire schedules the next one, so a fire
    // that failed here would end the schedule).
    Scheduled scheduled = new Scheduled(task);
    pending.add(scheduled);
    scheduled.timer = timers.schedule(at, scheduled);
    if (closed || scheduled.cancelled) {
      scheduled.cancel(); // closed or cancelled while scheduling, before the timer's handle was there to cancel
    }
    return scheduled;
  }

  @Override
  public InvocationOutcome invoke(byte[] event) {
    Objects.requireNonNull(event, "event");
    InvocationResult result;
    try {
      result = invoker.invoke(functionRef, event);
    } catch (Throwable e) {
      // FunctionNotFoundException, EngineClosedException, a throttle, or a bug (an Error included): the invocation
      // was not made, which for the source is a failed invocation like any other. The poller and timer threads must
      // survive it; only the JVM failing is passed on, for the caller to settle what it holds.
      failed.increment();
      LOG.warn("function {}: invocation from {} could not be made: {}", functionRef, sourceDescription,
          e.toString());
      if (EventSourceMapping.isFatal(e)) {
        throw e;
      }
      FunctionError error = new FunctionError(FunctionError.Kind.RUNTIME, e.getClass().getSimpleName(),
          e.getMessage(), List.of());
      return new InvocationOutcome(UUID.randomUUID().toString(), false,
          error.toJson().getBytes(StandardCharsets.UTF_8), error.errorType());
    }
    if (result.isError()) {
      failed.increment();
      FunctionError error = result.error().orElseThrow();
      // The function's own log already holds the error; this line ties it to the source that caused it.
      LOG.debug("function {}: invocation {} from {} failed: {}: {}", functionRef, result.requestId(),
          sourceDescription, error.errorType(), error.errorMessage());
      return new InvocationOutcome(result.requestId(), false, error.toJson().getBytes(StandardCharsets.UTF_8),
          error.errorType());
    }
    succeeded.increment();
    return new InvocationOutcome(result.requestId(), true, result.payload(), null);
  }

  @Override
  public void reportFailure(String message, Throwable cause) {
    sourceFailures.increment();
    LOG.warn("function {}: event source {} failed: {}", functionRef, sourceDescription, message, cause);
  }

  /** Counts messages that recursive loop detection stopped before they reached {@code functionName}. */
  void recursionStopped(String functionName, int events) {
    invoker.recursionStopped(functionName, events);
  }

  /** Returns how many invocations succeeded. */
  long succeeded() {
    return succeeded.sum();
  }

  /** Returns how many invocations failed: function errors and invocations that could not be made. */
  long failed() {
    return failed.sum();
  }

  /** Returns how many failures the source itself reported. */
  long sourceFailures() {
    return sourceFailures.sum();
  }

  /** Returns how many scheduled tasks have neither run nor been cancelled, for tests. */
  int scheduledTasks() {
    return pending.size();
  }

  /** Stops scheduling: tasks not yet started are skipped, new ones are ignored. */
  void close() {
    closed = true;
    // Cancel what the source left scheduled, so a disconnected source holds no timer (a yearly cron would otherwise
    // sit in the timer queue for a year).
    for (Cancellable c : List.copyOf(pending)) {
      c.cancel();
    }
  }

  /** One task a source scheduled, tracked from before its timer exists until it runs or is cancelled. */
  private final class Scheduled implements Cancellable, Runnable {
    private final Runnable task;
    volatile Cancellable timer; // null until the timer service returned it
    volatile boolean cancelled;

    Scheduled(Runnable task) {
      this.task = task;
    }

    @Override
    public void run() {
      pending.remove(this);
      if (closed || cancelled) {
        return;
      }
      try {
        task.run();
      } catch (RuntimeException e) {
        reportFailure("scheduled task failed", e);
      }
    }

    @Override
    public void cancel() {
      cancelled = true;
      pending.remove(this);
      Cancellable t = timer;
      if (t != null) {
        t.cancel();
      }
    }
  }
}
