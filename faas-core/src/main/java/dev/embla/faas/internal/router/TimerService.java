package dev.embla.faas.internal.router;

import dev.embla.faas.spi.source.SourceContext.Cancellable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks once an injected {@link Clock} reaches their due time. Due tasks are handed to a worker executor, so a
 * slow function started by one timer does not delay the others.
 *
 * <p>Time is the injected clock's, which may be a test clock that moves only when a test advances it. The clock gives
 * no signal when it moves, so the driver thread ({@link #start()}) never parks longer than {@link #MAX_PARK} of real
 * time: a test clock's advance is noticed within that bound, and a real clock's due time is met within it. Tests that
 * want full determinism leave the driver off and call {@link #runDueTasks()} themselves.
 *
 * <p>Concurrency: the queue is guarded by one lock, held only to add, remove or pop entries, never while a task runs.
 * A task is popped by exactly one {@link #runDueTasks()} call; its cancelled flag is checked again on the worker, so a
 * cancel that races with dispatch still wins if the task has not started. A task the executor failed to take (it
 * threw, say {@code OutOfMemoryError: unable to create native thread}) goes back into the queue rather than being
 * lost, since a lost task ends a schedule for good (each fire schedules the next). An executor that threw may still
 * have kept the task, so a task claims itself once when it starts: it runs at most once however often it is handed
 * over.
 *
 * <p>The driver survives anything {@link #runDueTasks()} throws, an {@link Error} included: a dead driver would stop
 * every schedule with no sign of why. After a failure it waits {@link #MAX_PARK}, doubling up to
 * {@link #MAX_FAILURE_BACKOFF}, so that an executor that keeps failing is logged at a bounded rate.
 */
public final class TimerService implements AutoCloseable {

  /** The longest the driver parks in real time before looking at the clock again. */
  static final Duration MAX_PARK = Duration.ofMillis(20);

  /** The longest the driver waits after consecutive failures before it tries again. */
  static final Duration MAX_FAILURE_BACKOFF = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(TimerService.class);

  private final Clock clock;
  private final Executor executor;
  private final ReentrantLock lock = new ReentrantLock();
  private final PriorityQueue<Task> queue = new PriorityQueue<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile Thread driver;
  private volatile boolean closed;

  /**
   * Creates a timer service without a driver thread; tasks run when {@link #runDueTasks()} is called, until
   * {@link #start()} starts the driver.
   *
   * @param clock where due times are read
   * @param executor where due tasks run; {@code Runnable::run} runs them on the caller of {@link #runDueTasks()}
   */
  public TimerService(Clock clock, Executor executor) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  /** Starts the daemon driver thread that runs due tasks; idempotent. */
  public void start() {
    lock.lock();
    try {
      if (driver != null || closed) {
        return;
      }
      driver = Thread.ofPlatform().daemon().name("embla-timer").start(this::drive);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs {@code task} once the clock reaches {@code at}; a time in the past means at the next {@link #runDueTasks()}.
   *
   * @return a handle that cancels the task if it has not started
   */
  public Cancellable schedule(Instant at, Runnable task) {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(task, "task");
    Task t = new Task(at, sequence.getAndIncrement(), task);
    boolean first;
    lock.lock();
    try {
      if (closed) {
        return () -> {};
      }
      queue.add(t);
      first = queue.peek() == t;
    } finally {
      lock.unlock();
    }
    Thread d = driver;
    if (first && d != null) {
      // The driver may be parked until a later task; wake it so that it re-reads the head of the queue.
      LockSupport.unpark(d);
    }
    return () -> cancel(t);
  }

  /**
   * Hands every task due at the clock's current time to the executor, earliest first.
   *
   * @return how many tasks were handed over
   */
  public int runDueTasks() {
    // One reading of the clock: a task that schedules another for "now" runs on the next call, not in a loop here.
    Instant now = clock.instant();
    int dispatched = 0;
    while (true) {
      Task t;
      lock.lock();
      try {
        t = queue.peek();
        if (t == null || t.at.isAfter(now) || closed) {
          return dispatched;
        }
        queue.poll();
      } finally {
        lock.unlock();
      }
      if (t.cancelled) {
        continue;
      }
      try {
        executor.execute(t);
        dispatched++;
      } catch (RejectedExecutionException e) {
        // The executor is shutting down with the router; the task is dropped with the rest of the router's work.
        LOG.debug("timer task not run, executor is shut down", e);
      } catch (Throwable e) {
        // The executor could not take it (no native thread left, say); with Runnable::run the task itself may have
        // thrown, and then it ran and is done.
        if (!t.claimed()) {
          requeue(t);
        }
        throw e;
      }
    }
  }

  /** Returns how many tasks are waiting for their due time. */
  public int pending() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** Returns the due time of the earliest waiting task, or null if none waits. */
  public Instant nextDue() {
    lock.lock();
    try {
      Task t = queue.peek();
      return t == null ? null : t.at;
    } finally {
      lock.unlock();
    }
  }

  /** Returns how many tasks threw; each was logged when it did. */
  public long failures() {
    return failures.get();
  }

  /** Drops every waiting task, stops the driver thread and shuts the executor down; idempotent. Tasks already
   * running are not interrupted. */
  @Override
  public void close() {
    Thread d;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      queue.clear();
      d = driver;
    } finally {
      lock.unlock();
    }
    if (d != null) {
      d.interrupt();
    }
    if (executor instanceof ExecutorService es) {
      // No interrupt: a function a timer started finishes on its own, as a polled batch does.
      es.shutdown();
    }
  }

  private void requeue(Task t) {
    lock.lock();
    try {
      if (!closed && !t.cancelled) {
        queue.add(t);
      }
    } finally {
      lock.unlock();
    }
  }

  private void cancel(Task t) {
    t.cancelled = true;
    lock.lock();
    try {
      queue.remove(t);
    } finally {
      lock.unlock();
    }
  }

  private void drive() {
    long failureBackoffNanos = 0;
    while (!closed && !Thread.currentThread().isInterrupted()) {
      long parkNanos;
      try {
        runDueTasks();
        failureBackoffNanos = 0;
        parkNanos = MAX_PARK.toNanos();
        Instant next = nextDue();
        if (next != null) {
          long untilDue = Duration.between(clock.instant(), next).toNanos();
          parkNanos = Math.max(0, Math.min(parkNanos, untilDue));
        }
      } catch (Throwable e) {
        // Only a broken clock or executor gets here, an Error included (no native thread left for a task). Even a
        // VirtualMachineError is logged and survived rather than rethrown: a dead driver stops every schedule for good,
        // while one that goes on runs them again once the JVM recovers.
        LOG.error("timer driver failed to run due tasks", e);
        failureBackoffNanos = failureBackoffNanos == 0 ? MAX_PARK.toNanos()
            : Math.min(MAX_FAILURE_BACKOFF.toNanos(), failureBackoffNanos * 2);
        parkNanos = failureBackoffNanos;
      }
      if (parkNanos > 0) {
        LockSupport.parkNanos(this, parkNanos);
      }
    }
  }

  private final class Task implements Runnable, Comparable<Task> {
    final Instant at;
    final long seq;
    final Runnable body;
    volatile boolean cancelled;
    private final AtomicBoolean claimed = new AtomicBoolean();

    Task(Instant at, long seq, Runnable body) {
      this.at = at;
      this.seq = seq;
      this.body = body;
    }

    /** Returns true if the task has started (or was skipped as cancelled) on some thread. */
    boolean claimed() {
      return claimed.get();
    }

    @Override
    public void run() {
      if (!claimed.compareAndSet(false, true) || cancelled) {
        return;
      }
      try {
        body.run();
      } catch (RuntimeException | Error e) {
        // Sources wrap their tasks and log with the function's name; this only catches what escaped such a wrapper.
        failures.incrementAndGet();
        if (e instanceof VirtualMachineError vme) {
          throw vme;
        }
        LOG.warn("timer task failed", e);
      }
    }

    @Override
    public int compareTo(Task o) {
      int c = at.compareTo(o.at);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }
}
