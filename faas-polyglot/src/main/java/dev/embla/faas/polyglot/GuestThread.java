package dev.embla.faas.polyglot;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

/**
 * A platform thread of one execution environment's own, on which all of its guest code runs, so that the caller of a
 * runaway invocation can be answered at its deadline while the guest is still unwinding.
 *
 * <p>Why: an environment whose guest runs on the caller's thread can only return to the caller once the guest has
 * stopped, and GraalPy's cancellation takes milliseconds to tens of milliseconds after {@code Context.close(true)}
 * (measured on a bare context: p50 3 ms, p90 6 ms, max 19 ms). Here the caller hands each phase to this thread and
 * waits; {@link #abandon} (from the engine's watchdog, through {@code ExecutionEnvironment#cancel}) ends that wait at
 * once, and the guest finishes stopping on this thread in the background. The price is a thread handoff per phase.
 * Waking a parked thread costs tens of microseconds on a 2-core VM (measured: a Python warm invoke went from 2.6 to
 * 20.7 µs p50 with parking alone), so both sides spin for up to {@link #SPIN_NANOS} first: the caller for the phase's
 * result, and this thread, after a phase, for the next one. Back-to-back calls then never park (6.3 µs); an idle
 * environment parks after one spin, and a long phase costs its caller one spin and one wake-up. The JavaScript
 * runtime, whose warm calls cost about a microsecond and need no such handoff to be stopped on time, does not use
 * this.
 *
 * <p>Phases never overlap (the engine guarantees it), so one task at a time is queued. The thread is a daemon; it ends
 * after {@link #stop}, once the task it is running, if any, returns, and never otherwise: a phase that throws, even an
 * {@link Error}, is reported to its caller, and an interrupt left over from a cancelled phase is cleared.
 *
 * <p>Why {@code abandon} cannot be missed: {@link #call} publishes its future in {@code waiting} and then reads
 * {@code abandoned}; {@code abandon} writes {@code abandoned} and then reads {@code waiting}. Both are volatile, so at
 * least one side sees the other's write: either the call fails before queueing anything, or its future is completed
 * by {@code abandon}. A task that starts after its future was completed does not run the phase.
 */
public final class GuestThread {

  private static final Runnable STOP = () -> {};
  /** How long each side spins before it parks: about what waking a parked thread costs here. */
  static final long SPIN_NANOS = 20_000;

  /** How a phase ended, when it threw: the future completes normally with one, so its own wrapping never applies. */
  private record Failure(Throwable thrown) {}

  /** Reported when a phase failed so badly that even its failure could not be allocated. */
  private static final Failure UNREPORTABLE = new Failure(
      new OutOfMemoryError("the guest phase failed and its failure could not be reported (the heap is exhausted)"));

  private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile CompletableFuture<Object> waiting;
  private volatile RuntimeException abandoned;
  private volatile boolean stopped;

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
   * @throws IllegalStateException if {@link #stop} was called
   */
  @SuppressWarnings("unchecked")
  public <T> T call(Supplier<T> phase) {
    if (stopped) {
      throw new IllegalStateException("guest thread " + thread.getName() + " was stopped");
    }
    CompletableFuture<Object> done = new CompletableFuture<>();
    waiting = done;
    RuntimeException gone = abandoned;
    if (gone != null) { // abandoned before we were waiting: do not start guest code at all
      waiting = null;
      throw gone;
    }
    tasks.add(() -> {
      if (done.isDone()) {
        return; // abandoned between queueing and now: the caller has its answer, run nothing
      }
      try {
        done.complete(phase.get());
      } catch (Throwable t) {
        try {
          done.complete(new Failure(t));
        } catch (Throwable exhausted) {
          done.complete(UNREPORTABLE);
        }
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

  /** Lets the thread end once the phase it runs, if any, has returned; later calls fail. */
  public void stop() {
    stopped = true;
    tasks.add(STOP);
  }

  /**
   * Waits at most {@code bound} for the thread to end after {@link #stop}, so that whoever shuts the environment down
   * knows the guest has left it (its context, its files).
   *
   * @return whether the thread ended in time
   */
  public boolean awaitEnd(Duration bound) {
    try {
      return thread.join(bound);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void loop() {
    for (Runnable task = next(); task != STOP; task = next()) {
      task.run(); // never throws: every phase's outcome, Errors included, goes to its caller
      Thread.interrupted(); // GraalVM may interrupt a cancelled guest; that must not end the thread
    }
  }

  private Runnable next() {
    long start = System.nanoTime();
    do {
      Runnable task = tasks.poll();
      if (task != null) {
        return task;
      }
      Thread.onSpinWait();
    } while (System.nanoTime() - start < SPIN_NANOS);
    while (true) {
      try {
        return tasks.take();
      } catch (InterruptedException e) {
        // only stop() ends the thread: an interrupt here is a stray one
      }
    }
  }
}
