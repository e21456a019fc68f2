package dev.embla.faas.benchmarks;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Warms a measurement up until the JVM's compilers have gone quiet, so that what is measured next is the steady state
 * and not the JIT competing for the second of two cores.
 *
 * <p><b>Why a fixed warm-up is not enough for the guest runtimes.</b> On a stock JDK the Graal compiler that Truffle
 * uses is Java code ({@code jargraal}, from {@code faas-polyglot/target/jvmci}), and HotSpot's own C1 and C2 compile it
 * while it compiles the guest's code. On these 2-core machines that took from 40 s to over two minutes of a JMH fork
 * after the first JavaScript call. In a 10 s wall-clock profile taken after 20 s of warm-up, C2 was busy in every
 * sample and the Truffle compiler thread in 83% of them, and {@code jsColdStart}'s p99 was 7.3 ms with one core left
 * for the benchmark; after 60 warm-up iterations it was 0.54 ms (docs/BENCHMARKS.md, stop 14). How long that phase
 * lasts depends on how busy the machine is, so a fixed count of warm-up iterations measures the compiler on a slow
 * hour and the engine on a fast one.
 *
 * <p><b>What "quiet" means.</b> The compilers' time (HotSpot's accumulated compilation time, which covers C1 and C2,
 * plus the CPU time of Truffle's compiler threads) grew by at most {@link #QUIET_SHARE} of the wall time in each of
 * {@link #QUIET_WINDOWS} consecutive windows of {@link #WINDOW}. The warm-up stops there or at its limit, whichever
 * comes first, and says which: a measurement taken while the compilers are still busy is printed as such, not hidden.
 * Ten windows, because three were not enough: in a {@code deadline-js} trial the compilers were quiet for three
 * seconds, then compiled for 1.6-1.9 s of CPU per second for seven seconds, and the two slowest samples (8.6 and
 * 11.1 ms) fell in those seven.
 */
final class CompilerQuiet {

  /** The length of one observation window. */
  static final Duration WINDOW = Duration.ofSeconds(1);

  /**
   * The longest a benchmark's or driver's warm-up waits for the compilers to go quiet, unless it has a reason of its own
   * ({@code deadline-js} waits 3 minutes): past the 40 s to two minutes that compiling the Graal compiler took here.
   */
  static final Duration LIMIT = Duration.ofSeconds(150);

  /** How many quiet windows in a row count as quiet. */
  static final int QUIET_WINDOWS = 10;

  /** The most compiler time per wall time a quiet window may hold: 5% of one core. */
  static final double QUIET_SHARE = 0.05;

  private final LongSupplier compilerNanos;
  private final LongSupplier clock;

  /** Watches this JVM's compilers. */
  CompilerQuiet() {
    this(new JvmCompilers(), System::nanoTime);
  }

  /** Watches the given compiler-time counter against the given clock, both in nanoseconds (for tests). */
  CompilerQuiet(LongSupplier compilerNanos, LongSupplier clock) {
    this.compilerNanos = compilerNanos;
    this.clock = clock;
  }

  /** How a warm-up ended: how long it took, how many steps ran, and whether the compilers went quiet. */
  record Outcome(Duration took, long steps, boolean quiet, double lastShare) {

    /** One line for the driver's or benchmark's output. */
    String describe(String what) {
      return String.format(Locale.ROOT, "%s: warmed up for %.1f s (%d steps) until the compilers were %s"
              + " (last window: %.1f%% of a core compiling)", what, took.toMillis() / 1e3, steps,
          quiet ? "quiet" : "still busy, at the limit", lastShare * 100);
    }
  }

  /**
   * Runs {@code step} again and again until the compilers have been quiet for {@link #QUIET_WINDOWS} windows in a row,
   * or until {@code limit} has passed. Each step should do what the measurement will do.
   */
  Outcome warmUntilQuiet(Runnable step, Duration limit) {
    long start = clock.getAsLong();
    long windowStart = start;
    long compiledAtWindowStart = compilerNanos.getAsLong();
    long steps = 0;
    int quietWindows = 0;
    double share = 1;
    while (true) {
      step.run();
      steps++;
      long now = clock.getAsLong();
      if (now - windowStart >= WINDOW.toNanos()) {
        long compiled = compilerNanos.getAsLong();
        share = (compiled - compiledAtWindowStart) / (double) (now - windowStart);
        quietWindows = share <= QUIET_SHARE ? quietWindows + 1 : 0;
        windowStart = now;
        compiledAtWindowStart = compiled;
        if (quietWindows >= QUIET_WINDOWS) {
          return new Outcome(Duration.ofNanos(now - start), steps, true, share);
        }
      }
      if (now - start >= limit.toNanos()) {
        return new Outcome(Duration.ofNanos(now - start), steps, false, share);
      }
    }
  }

  /** Starts a span of time from now, to report how busy the compilers were during a measurement. */
  Span startSpan() {
    return new Span(compilerNanos.getAsLong(), clock.getAsLong());
  }

  /** From its start to now: how much the compilers worked, and what share of a core that was. */
  final class Span {
    private final long compiledAtStart;
    private final long startedAt;

    private Span(long compiledAtStart, long startedAt) {
      this.compiledAtStart = compiledAtStart;
      this.startedAt = startedAt;
    }

    /** The compilers' time since the start, in nanoseconds. */
    long compiledNanos() {
      return compilerNanos.getAsLong() - compiledAtStart;
    }

    /** The compilers' time since the start over the wall time since it: 1.0 is one core compiling throughout. */
    double busyShare() {
      return compiledNanos() / (double) (clock.getAsLong() - startedAt);
    }
  }

  /**
   * HotSpot's accumulated compilation time (C1 and C2, which also compile {@code jargraal} itself) plus the CPU time
   * of Truffle's compiler threads, in nanoseconds. Never decreases: a compiler thread that ends keeps what it used.
   */
  static final class JvmCompilers implements LongSupplier {
    private final Map<Long, Long> truffleCpu = new HashMap<>();
    private long truffleTotal;

    @Override
    public synchronized long getAsLong() {
      CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
      long hotspot = jit != null && jit.isCompilationTimeMonitoringSupported()
          ? Duration.ofMillis(jit.getTotalCompilationTime()).toNanos() : 0;
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (t.getName().startsWith("TruffleCompilerThread")) {
          long cpu = threads.getThreadCpuTime(t.threadId());
          if (cpu > 0) {
            Long before = truffleCpu.put(t.threadId(), cpu);
            truffleTotal += cpu - (before == null ? 0 : before);
          }
        }
      }
      return hotspot + truffleTotal;
    }
  }
}
