package dev.embla.faas.internal.java;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Lets the JVM define and link environments' classes one at a time, with a waiter that spins instead of sleeping.
 *
 * <p><b>Why.</b> Defining and linking a class takes HotSpot's JVM-wide internal mutexes ({@code SystemDictionary},
 * loader constraints, the class loader graph, metaspace). When two threads contend for one, the loser sleeps in the
 * kernel, and on a machine with few cores the kernel tends to wake it on the core of the thread that woke it: the
 * two then share one core in scheduler ticks (4 ms here) while the other core idles. In a burst of cold starts on
 * two virtual-thread carriers that turned a cold start of about 100 µs into 1-4 ms for a few percent of the calls,
 * with no engine code involved: a bare class loader per call shows the same (docs/BENCHMARKS.md, stop 15). With the
 * definitions taken in turn and the waiter spinning, no thread sleeps on those mutexes, and the burst's p99 fell from
 * 1.9-4.0 ms to 0.30-0.37 ms, 1.9 to 3.4 times a lone cold start's.
 *
 * <p><b>Bounded, so it can never hurt much.</b> At most one thread spins at a time, and for at most
 * {@link #SPIN_LIMIT_NANOS}; any other thread, and a spinner past its limit, goes ahead without the gate, exactly as
 * without it (HotSpot is correct under concurrent definition; the gate only orders it). So at most one core's worth
 * of spinning is spent, on many-core machines the gate degrades to today's behaviour for all but two threads, and a
 * holder that stalls (descheduled, or a virtual thread unmounted while holding it) delays nobody past the limit.
 * The gate is reentrant: defining a class loads its superclasses through the same loader, on the same thread.
 *
 * <p>No function code runs under the gate: it covers {@code defineClass} and the linking of the handler class
 * (verification), not static initialisers or constructors.
 */
final class DefinitionGate {

  /**
   * The longest a waiter spins before going ahead ungated: well past one definition (tens of microseconds), well short
   * of a scheduler tick (4 ms). 250 µs gave up too often and 4 ms cost the burst's median (docs/BENCHMARKS.md, stop 15).
   */
  static final long SPIN_LIMIT_NANOS = 1_000_000;

  /** The gate every environment of every engine in this class loader shares, as HotSpot's mutexes are JVM-wide. */
  static final DefinitionGate INSTANCE = new DefinitionGate(SPIN_LIMIT_NANOS);

  /** Work done under the gate. */
  @FunctionalInterface
  interface Work<T, X extends Exception> {
    T run() throws X;
  }

  private final long spinLimitNanos;
  private final AtomicReference<Thread> holder = new AtomicReference<>();
  private final AtomicBoolean spinner = new AtomicBoolean();

  DefinitionGate(long spinLimitNanos) {
    this.spinLimitNanos = spinLimitNanos;
  }

  /** Runs {@code work} holding the gate if it can get it within the spin limit, otherwise without it. */
  <T, X extends Exception> T run(Work<T, X> work) throws X {
    Thread me = Thread.currentThread();
    if (holder.get() == me) {
      return work.run();
    }
    boolean held = holder.compareAndSet(null, me);
    if (!held && spinner.compareAndSet(false, true)) {
      try {
        long start = System.nanoTime();
        do {
          Thread.onSpinWait();
          held = holder.get() == null && holder.compareAndSet(null, me);
        } while (!held && System.nanoTime() - start < spinLimitNanos);
      } finally {
        spinner.set(false);
      }
    }
    try {
      return work.run();
    } finally {
      if (held) {
        holder.set(null);
      }
    }
  }

  /** Whether the calling thread holds the gate (for tests). */
  boolean isHeldByCurrentThread() {
    return holder.get() == Thread.currentThread();
  }

  /** Whether a thread is spinning for the gate (for tests). */
  boolean hasSpinner() {
    return spinner.get();
  }
}
