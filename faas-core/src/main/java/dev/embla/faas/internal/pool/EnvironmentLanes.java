package dev.embla.faas.internal.pool;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The lanes of one execution environment that runs several invocations at once ({@code maxConcurrencyPerEnvironment}
 * above 1). Each lane is a {@link PooledEnvironment} over the same runtime environment, with its own watchdog slot,
 * and is pooled exactly like a one-invocation environment: idle in one place or owned by one invocation. So the
 * pool's lock-free hand-out, the watchdog's per-slot deadlines and every concurrency limit (one permit per
 * invocation) work unchanged, while the memory budget is charged once per environment.
 *
 * <p>The first lane is created with the environment and runs its Init; the others are opened once Init succeeded.
 * When one lane breaks (its invocation timed out, crashed or tried to exit), the shared environment is unusable:
 * {@link #broken} stops every lane from being handed out again, and the environment shuts down when its last lane
 * is destroyed.
 */
final class EnvironmentLanes {

  final int width;
  final AtomicInteger live = new AtomicInteger(1);
  /** A lane failed or was cancelled: no lane of this environment is used again. */
  volatile boolean broken;
  /** The watchdog or the engine's close cancelled the shared environment for one lane's sake. */
  volatile boolean cancelled;

  /**
   * Lanes not yet promised to an invocation that arrived during Init. An invocation that finds no idle lane joins an
   * environment still in Init rather than create another (a burst would otherwise make one environment per arrival,
   * as if each took one invocation): it takes one of these, waits for {@link #opened}, then takes an idle lane.
   */
  final AtomicInteger unclaimed;
  /** Counted down when Init ended, successfully (the lanes are open) or not. */
  final java.util.concurrent.CountDownLatch opened = new java.util.concurrent.CountDownLatch(1);

  EnvironmentLanes(int width) {
    this.width = width;
    this.unclaimed = new AtomicInteger(width - 1);
  }

  /** Promises a lane to an invocation waiting for Init; false if none is left or Init has ended. */
  boolean claim() {
    int n;
    while ((n = unclaimed.get()) > 0) {
      if (unclaimed.compareAndSet(n, n - 1)) {
        return true;
      }
    }
    return false;
  }
}
