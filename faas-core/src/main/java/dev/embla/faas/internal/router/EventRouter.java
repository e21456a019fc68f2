package dev.embla.faas.internal.router;

import dev.embla.faas.BatchOptions;
import dev.embla.faas.EngineClosedException;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.FaasException;
import dev.embla.faas.spi.source.EventSource;
import dev.embla.faas.spi.source.PullEventSource;
import dev.embla.faas.spi.source.PushEventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects event sources to functions for one engine. A {@link PushEventSource} is started with a
 * {@link dev.embla.faas.spi.source.SourceContext} and invokes by itself; a {@link PullEventSource} gets an event
 * source mapping, a poller that batches, invokes, and acknowledges or releases. Timers that sources schedule run on
 * the injected clock.
 *
 * <p>The engine creates one router, invokes through the {@link Invoker} it passes, and closes the router when it
 * closes. Exceptions from sources and functions never escape into the router's threads: they are counted on their
 * connection and logged once with the function's name.
 */
public final class EventRouter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EventRouter.class);
  /** How long {@link #close()} waits for pollers to leave; an invocation still running after that finishes alone. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

  private final Clock clock;
  private final Invoker invoker;
  private final TimerService timers;
  private final Duration receiveWait;
  private final Set<EventSourceConnection> connections = ConcurrentHashMap.newKeySet();
  private final Object lifecycle = new Object();
  private boolean closed; // guarded by lifecycle

  /**
   * Creates a router whose timers run on {@code clock}, driven by a daemon thread, and whose due tasks run on
   * virtual threads.
   *
   * @param clock the engine's clock; schedules and visibility timeouts follow it
   * @param invoker the engine's synchronous invoke
   */
  public EventRouter(Clock clock, Invoker invoker) {
    this(clock, invoker,
        // Platform threads, not virtual: the JDK measures allocation per platform thread only, and the engine's
        // allocation budget needs that measurement (see internal.invoke.AllocationBudget).
        new TimerService(clock, Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon()
            .name("embla-timer-", 0).factory())),
        EventSourceMapping.DEFAULT_RECEIVE_WAIT);
    timers.start();
  }

  /** Creates a router over a given timer service (started or not) and long-poll wait, for tests. */
  EventRouter(Clock clock, Invoker invoker, TimerService timers, Duration receiveWait) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.invoker = Objects.requireNonNull(invoker, "invoker");
    this.timers = Objects.requireNonNull(timers, "timers");
    this.receiveWait = Objects.requireNonNull(receiveWait, "receiveWait");
  }

  /**
   * Connects a source to a function: starts a push source, or starts an event source mapping for a pull source.
   *
   * @param source the source; connected once (a source instance is not shared between connections)
   * @param functionRef the function reference events go to; it is resolved at each invocation, not now
   * @param options batching for a pull source, {@link BatchOptions#defaults()} when null; ignored for a push source
   * @return the connection; closing it stops the source and leaves unacknowledged records in it
   * @throws EngineClosedException if the router is closed
   * @throws FaasException if the source failed to start; it is closed again and nothing stays connected
   */
  public EventSourceConnection connect(EventSource source, String functionRef, BatchOptions options) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(functionRef, "functionRef");
    String id = UUID.randomUUID().toString();
    String description = describe(source);
    RouterSourceContext context = new RouterSourceContext(functionRef, description, clock, timers, invoker);
    EventSourceConnection connection = switch (source) {
      case PushEventSource push -> new PushConnection(id, push, context, connections::remove);
      case PullEventSource pull -> new EventSourceMapping(id, pull, context,
          options == null ? BatchOptions.defaults() : options, receiveWait, connections::remove);
    };
    // Started under the lifecycle lock, so that close() either refuses this connection or sees it fully started
    // and closes it: never a source started after the router closed. Starting a source is quick by contract.
    synchronized (lifecycle) {
      if (closed) {
        throw new EngineClosedException("event router is closed; cannot connect " + description + " to "
            + functionRef);
      }
      connections.add(connection);
      try {
        switch (source) {
          case PushEventSource push -> push.start(context);
          case PullEventSource pull -> pull.start(context);
        }
      } catch (RuntimeException e) {
        connection.close();
        throw new FaasException("event source " + description + " failed to start for function " + functionRef
            + ": " + e.getMessage(), e);
      }
      if (connection instanceof EventSourceMapping mapping) {
        mapping.start();
      }
    }
    LOG.debug("connected {} to function {} as {}", description, functionRef, id);
    return connection;
  }

  /** Returns the connections that are open now. */
  public List<EventSourceConnection> connections() {
    return List.copyOf(connections);
  }

  /** Returns the router's timer service. */
  TimerService timers() {
    return timers;
  }

  /**
   * Closes every connection, waits briefly for pollers to leave, and stops the timers. Idempotent. An invocation
   * that is running is not interrupted; it finishes and settles its batch on its own.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
    }
    List<EventSourceConnection> open = new ArrayList<>(connections);
    for (EventSourceConnection c : open) {
      try {
        c.close();
      } catch (RuntimeException e) {
        LOG.warn("function {}: closing {} failed", c.functionRef(), c, e);
      }
    }
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    try {
      for (EventSourceConnection c : open) {
        if (c instanceof EventSourceMapping mapping) {
          long left = Math.max(0, deadline - System.nanoTime());
          if (!mapping.awaitStopped(Duration.ofNanos(left))) {
            LOG.info("function {}: {} still has an invocation running; it will settle its batch when it ends",
                c.functionRef(), c);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    timers.close();
  }

  private static String describe(EventSource source) {
    try {
      return source.describe();
    } catch (RuntimeException e) {
      return source.getClass().getName();
    }
  }
}
