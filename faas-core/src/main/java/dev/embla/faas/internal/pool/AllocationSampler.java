package dev.embla.faas.internal.pool;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Watchdog}'s allocation check: each round, the watchdog {@link #offer offers} every running environment;
 * those whose phase carries a budget are collected, and {@link #sample} reads all their threads' allocated bytes in
 * one batch call and stops the phases over budget. A round with no budgeted phase running makes no call at all, so an
 * idle engine samples nothing.
 *
 * <p>Confined to the watchdog thread. Why a stale sample cannot stop the wrong phase: the state word of the arming is
 * read before its thread, baseline and budget, and the stop is a compare-and-set from exactly that word
 * ({@link PooledEnvironment#exceedBudget}). If the compare-and-set succeeds, that arming was running from before the
 * sample until after it, on the thread that was sampled (thread ids are never reused), so the figure is that phase's.
 */
final class AllocationSampler {

  /** Reads the allocated bytes of threads, as {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}. */
  @FunctionalInterface
  interface Probe {
    /** Returns, for each id, the bytes that thread has allocated so far, or -1 if it cannot be measured. */
    long[] allocatedBytes(long[] threadIds);
  }

  private static final Logger LOG = LoggerFactory.getLogger(AllocationSampler.class);

  private final Probe probe;
  private PooledEnvironment[] envs = new PooledEnvironment[16];
  private long[] states = new long[16];
  private long[] threadIds = new long[16];
  private long[] baselines = new long[16];
  private long[] budgets = new long[16];
  private int count;
  private boolean probeFailed;
  private volatile long samples;

  AllocationSampler(Probe probe) {
    this.probe = probe;
  }

  /** The JVM's own per-thread allocation counters (HotSpot's; -1 for virtual threads and where unsupported). */
  static Probe threadMxBean() {
    java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    if (!(bean instanceof com.sun.management.ThreadMXBean threads) || !threads.isThreadAllocatedMemorySupported()) {
      return ids -> {
        long[] none = new long[ids.length];
        Arrays.fill(none, -1);
        return none;
      };
    }
    if (!threads.isThreadAllocatedMemoryEnabled()) {
      threads.setThreadAllocatedMemoryEnabled(true);
    }
    return threads::getThreadAllocatedBytes;
  }

  /** Collects {@code env} for this round's sample if its running phase has an allocation budget. */
  void offer(PooledEnvironment env) {
    long state = env.stateWord();
    long budget = env.budgetBytes;
    if (budget <= 0 || !PooledEnvironment.isRunning(state)) {
      return;
    }
    if (count == envs.length) {
      int n = count * 2;
      envs = Arrays.copyOf(envs, n);
      states = Arrays.copyOf(states, n);
      threadIds = Arrays.copyOf(threadIds, n);
      baselines = Arrays.copyOf(baselines, n);
      budgets = Arrays.copyOf(budgets, n);
    }
    envs[count] = env;
    states[count] = state;
    threadIds[count] = env.budgetThreadId;
    baselines[count] = env.budgetBaselineBytes;
    budgets[count] = budget;
    count++;
  }

  /**
   * Samples the threads of the environments offered this round and stops (through {@code cancel}) those over
   * budget.
   *
   * @return whether any environment was sampled, so the watchdog knows to come back within the sampling period
   */
  boolean sample(Consumer<PooledEnvironment> cancel) {
    if (count == 0) {
      return false;
    }
    int n = count;
    count = 0;
    long[] allocated;
    try {
      allocated = probe.allocatedBytes(n == threadIds.length ? threadIds : Arrays.copyOf(threadIds, n));
    } catch (RuntimeException e) {
      // Never let the deadline thread die of the budget check; the next round tries again. Said once, not per round.
      if (!probeFailed) {
        probeFailed = true;
        LOG.warn("sampling the allocation of invocation threads failed; allocation budgets are not enforced while "
            + "it fails", e);
      }
      Arrays.fill(envs, 0, n, null);
      return true;
    }
    samples++;
    for (int i = 0; i < n; i++) {
      PooledEnvironment env = envs[i];
      envs[i] = null; // do not keep a discarded environment reachable from here
      long used = allocated[i] - baselines[i];
      if (allocated[i] >= 0 && used > budgets[i] && env.exceedBudget(states[i], used)) {
        cancel.accept(env);
      }
    }
    return true;
  }

  /** Returns how many batch samples were taken; for tests. */
  long samples() {
    return samples;
  }
}
