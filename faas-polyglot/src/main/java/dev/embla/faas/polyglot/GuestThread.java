package dev.embla.faas.polyglot;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

/**
 * A platform thread of one execution environment's own, on which all of its guest code runs, so that the caller of a
 * runaway invocation can be answered at its deadline while the guest is still unwinding.
 *
 * <p>Why: an environment whose guest runs on the caller's thread can only return to the caller once the guest has
 * stopped, and GraalPy's cancellation takes milliseconds to tens of milliseconds after {@code Context.close(true)}
 * (measured on a bare context: p50 3 ms, p90 7–9 ms). Here the caller hands each phase to this thread and waits;
 * {@link #abandon} (from the engine's watchdog, through {@code ExecutionEnvironment#cancel}) ends that wait at once,
 * and the guest finishes stopping on this thread in the background. The price is a thread handoff per phase. Waking a
 * parked thread costs tens of microseconds on a 2-core VM (measured: a Python warm invoke went from 2.6 to 20.7 µs
 * p50 with parking alone), so both sides spin for up to {@link #SPIN_NANOS} first: the caller for the phase's result,
 * and this thread, after a phase, for the next one. Back-to-back calls then never park; an idle environment parks
 * after one spin, and a long phase costs its caller one spin and one wake-up. The JavaScript runtime, whose warm calls
 * cost about a microsecond and need no such handoff to be stopped on time, does not use this.
 *
 * <p>Phases never overlap (the engine guarantees it), so one task at a time is queued. The thread is a daemon and ends
 * after {@link #stop}, once the task it is running, if any, returns.
 */
public final class GuestThread {

  private static final Runnable STOP = () -> {};
  /** How long each side spins before it parks: about what waking a parked thread costs here. */
  static final long SPIN_NANOS = 20_000;

  private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final Thread thread;
  /** How a phase ended, when it threw: the future completes normally with one, so its own wrapping never applies. */
  private record Failure(Throwable thrown) {}

  private volatile CompletableFuture<Object> waiting;
  private volatile RuntimeException abandoned;

  /** Starts the thread, named {@code name}. */
  public GuestThread(String name) {
    this.thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
  }

  /** Returns the thread guest code runs on; the engine measures its allocation for the environment's budget. */
  public Thread thread() {
    return thread;
  }

  /**
   * Runs {@code phase} on this thread and returns its result, or rethrows what it threw (unchecked exceptions and
   * errors as they are).
   *
   * @throws RuntimeException the exception given to {@link #abandon}, at once, if the environment was abandoned
   *     before or while the phase ran
   */
  @SuppressWarnings("unchecked")
  public <T> T call(Supplier<T> phase) {
    CompletableFuture<Object> done = new CompletableFuture<>();
    waiting = done;
    RuntimeException gone = abandoned;
    if (gone != null) { // abandoned before we were waiting: do not start guest code at all
      waiting = null;
      throw gone;
    }
    tasks.add(() -> {
      try {
        done.complete(phase.get());
      } catch (Throwable t) {
        done.complete(new Failure(t));
      }
    });
    Object outcome;
    try {
      for (long start = System.nanoTime(); !done.isDone() && System.nanoTime() - start < SPIN_NANOS; ) {
        Thread.onSpinWait();
      }
      outcome = done.join();
    } finally {
      waiting = null;
    }
    if (outcome instanceof Failure f) {
      if (f.thrown() instanceof RuntimeException r) {
        throw r;
      }
      if (f.thrown() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("guest phase failed", f.thrown());
    }
    return (T) outcome;
  }

  /**
   * Makes the phase being waited for, and every later one, end at once with {@code why}; never blocks. The guest code
   * itself is not stopped by this: the caller stops it (by closing its context) and it unwinds on this thread.
   */
  public void abandon(RuntimeException why) {
    abandoned = why;
    CompletableFuture<Object> w = waiting;
    if (w != null) {
      w.complete(new Failure(why));
    }
  }

  /** Lets the thread end once the phase it runs, if any, has returned. */
  public void stop() {
    tasks.add(STOP);
  }

  private void loop() {
    try {
      for (Runnable task = next(); task != STOP; task = next()) {
        task.run();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // nothing to run on an interrupted guest thread: end
    }
  }

  private Runnable next() throws InterruptedException {
    long start = System.nanoTime();
    do {
      Runnable task = tasks.poll();
      if (task != null) {
        return task;
      }
      Thread.onSpinWait();
    } while (System.nanoTime() - start < SPIN_NANOS);
    return tasks.take();
  }
}
