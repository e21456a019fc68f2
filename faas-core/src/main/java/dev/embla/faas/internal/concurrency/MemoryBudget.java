package dev.embla.faas.internal.concurrency;

import dev.embla.faas.TooManyRequestsException;
import dev.embla.faas.internal.pool.EnvironmentPool;
import dev.embla.faas.internal.pool.PooledEnvironment;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The engine's memory budget for execution environments: every live environment, busy or idle, reserves its
 * function's memory size from it when it is created and gives it back when it is shut down. Touched only on cold
 * starts and shutdowns, never by a warm invocation.
 *
 * <p>When a new environment does not fit, idle environments of other pools are shut down, least recently used first
 * (provisioned ones never), until it fits; if it still does not, the invocation is throttled. The requesting pool's
 * own environments are not candidates: had one been idle, the invocation would have used it. Other versions of the
 * same function are: each version has its own pool, and an idle environment of version 1 cannot serve a call to
 * version 2, so keeping it would throttle a function behind its own past.
 */
public final class MemoryBudget {

  private final long budgetMb;
  private final AtomicLong usedMb = new AtomicLong();
  private final Supplier<? extends Iterable<EnvironmentPool>> pools;

  /**
   * Creates a budget.
   *
   * @param budgetMb the budget in megabytes
   * @param pools the pools whose idle environments may be shut down to make room
   */
  public MemoryBudget(long budgetMb, Supplier<? extends Iterable<EnvironmentPool>> pools) {
    this.budgetMb = budgetMb;
    this.pools = pools;
  }

  /** A budget that is never short; for pools built outside an engine. */
  public static MemoryBudget unlimited() {
    return new MemoryBudget(Long.MAX_VALUE / 4, java.util.List::of);
  }

  /**
   * Reserves {@code mb} for a new environment of {@code requester}, shutting idle environments of other pools (other
   * functions, and other versions of the same function) down if needed.
   *
   * @throws TooManyRequestsException if it does not fit even then
   */
  public void reserve(EnvironmentPool requester, int mb) {
    if (tryReserve(mb)) {
      return;
    }
    // Bounded: each round shuts one environment down or ends; the bound only guards against a pathological race.
    for (int round = 0; round < 100_000; round++) {
      PooledEnvironment victim = null;
      for (EnvironmentPool pool : pools.get()) {
        if (pool == requester) {
          continue;
        }
        PooledEnvironment candidate = pool.evictionCandidate();
        if (candidate != null && (victim == null || candidate.lastUsedNanos() - victim.lastUsedNanos() < 0)) {
          victim = candidate;
        }
      }
      if (victim == null) {
        break;
      }
      victim.pool().evict(victim);
      if (tryReserve(mb)) {
        return;
      }
    }
    requester.concurrency().recordThrottle();
    long used = usedMb.get();
    throw new TooManyRequestsException(TooManyRequestsException.Reason.ENVIRONMENT_MEMORY_BUDGET_EXCEEDED,
        String.format(Locale.ROOT, "Rate exceeded: a new environment of function '%s' needs %d MB, but %d MB of the"
            + " engine's environment memory budget of %d MB are reserved by live environments and no idle"
            + " environment of another function or version can be shut down (EnvironmentMemoryBudgetExceeded)",
            requester.functionName(), mb, used, budgetMb));
  }

  private boolean tryReserve(int mb) {
    long used;
    do {
      used = usedMb.get();
      if (used + mb > budgetMb) {
        return false;
      }
    } while (!usedMb.compareAndSet(used, used + mb));
    return true;
  }

  /** Gives back what an environment reserved. */
  public void release(int mb) {
    usedMb.addAndGet(-mb);
  }

  /** Returns the megabytes reserved by live environments. */
  public long usedMb() {
    return usedMb.get();
  }

  /** Returns the budget in megabytes. */
  public long budgetMb() {
    return budgetMb;
  }
}
