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
import java.util.UUID;
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

  private final java.util.Set<Cancellable> pending = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public Cancellable schedule(Instant at, Runnable task) {
    Objects.requireNonNull(task, "task");
    if (closed) {
      // A source that schedules after it was disconnected must not keep a timer alive for nothing.
      return () -> {};
    }
    Cancellable[] handle = new Cancellable[1];
    Runnable run = () -> {
      pending.remove(handle[0]);
      if (closed) {
        return;
      }
      try {
        task.run();
      } catch (RuntimeException e) {
        reportFailure("scheduled task failed", e);
      }
    };
    Cancellable timer = timers.schedule(at, run);
    Cancellable tracked = new Cancellable() {
      @Override
      public void cancel() {
        pending.remove(this);
        timer.cancel();
      }
    };
    handle[0] = tracked;
    pending.add(tracked);
    if (closed) {
      tracked.cancel(); // closed while scheduling
    }
    return tracked;
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

  /** Stops scheduling: tasks not yet started are skipped, new ones are ignored. */
  void close() {
    closed = true;
    // Cancel what the source left scheduled, so a disconnected source holds no timer (a yearly cron would otherwise
    // sit in the timer queue for a year).
    for (Cancellable c : java.util.List.copyOf(pending)) {
      c.cancel();
    }
  }
}
