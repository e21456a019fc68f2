package dev.embla.faas.internal.pool;

import dev.embla.faas.Ticker;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces deadlines for code that runs on its caller's thread (or a runtime's own guest thread). Arming a deadline is
 * a plain volatile write into the environment's slot ({@link PooledEnvironment#arm}); this thread parks until the
 * earliest armed deadline and cancels the environments whose deadline has passed.
 *
 * <p>Why a newly armed deadline is never missed while this thread parks: it never parks longer than
 * {@link #MAX_PARK_NANOS}, and every deadline is at least one second away when it is armed (the shortest timeout is
 * one second), so the next wake-up always comes before it. The cap also bounds how late a deadline is noticed when
 * the engine runs on a test ticker that a test moves by hand.
 *
 * <p>Allocation budgets: while at least one running phase carries a budget ({@link PooledEnvironment#arm(long, long,
 * long, long)}), each round also reads those phases' threads' allocated bytes in one batch call
 * ({@link AllocationSampler}) and stops the phases over budget the way an expired deadline is stopped, and the thread
 * wakes at least every {@link #SAMPLE_PERIOD_NANOS}. With no budgeted phase running, it makes no such call and keeps
 * its usual rhythm.
 */
public final class Watchdog implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
  static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** How often the allocation of running budgeted phases is sampled: the bound on how late a budget is enforced. */
  static final long SAMPLE_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final Ticker ticker;
  private final Set<PooledEnvironment> watched = ConcurrentHashMap.newKeySet();
  private final Thread thread;
  private volatile boolean closed;
  private volatile long lastLatenessNanos = -1;
  private final AllocationSampler sampler;
  private final Consumer<PooledEnvironment> canceller = this::cancel;
  private volatile long rounds;

  /** Creates and starts the watchdog thread. */
  public Watchdog(Ticker ticker) {
    this(ticker, AllocationSampler.threadMxBean());
  }

  /** Creates and starts the watchdog thread, reading threads' allocated bytes through {@code probe}. */
  Watchdog(Ticker ticker, AllocationSampler.Probe probe) {
    this.ticker = ticker;
    this.sampler = new AllocationSampler(probe);
    this.thread = Thread.ofPlatform().daemon().name("embla-watchdog").unstarted(this::run);
    thread.setPriority(Thread.MAX_PRIORITY);
    thread.start();
  }

  /** Starts watching an environment's slot. */
  void register(PooledEnvironment env) {
    watched.add(env);
  }

  /** Stops watching an environment's slot. */
  void unregister(PooledEnvironment env) {
    watched.remove(env);
  }

  private void run() {
    while (!closed) {
      long now = ticker.read();
      long next = now + MAX_PARK_NANOS;
      for (PooledEnvironment env : watched) {
        if (!env.running()) {
          continue;
        }
        long deadline = env.deadlineNanos;
        if (env.expireIfDue(now)) {
          lastLatenessNanos = ticker.read() - deadline;
          cancel(env);
        } else {
          if (deadline - next < 0) {
            next = deadline;
          }
          sampler.offer(env);
        }
      }
      long maxPark = sampler.sample(canceller) ? SAMPLE_PERIOD_NANOS : MAX_PARK_NANOS;
      rounds++;
      long park = next - ticker.read();
      if (park > 0) {
        LockSupport.parkNanos(this, Math.min(park, maxPark));
      }
    }
  }

  /** Cancels an expired environment; the runtime must make its running phase end promptly. */
  void cancel(PooledEnvironment env) {
    try {
      env.delegate().cancel();
    } catch (RuntimeException | Error e) {
      LOG.warn("function {}: cancelling environment {} failed", env.pool().functionName(), env.id(), e);
    }
  }

  /**
   * Returns how late (after its deadline, by the ticker) the most recent expired deadline was noticed and its
   * environment cancelled, or -1 if none has expired; for the deadline benchmark.
   */
  public long lastLatenessNanos() {
    return lastLatenessNanos;
  }

  /** Returns how many rounds the watchdog thread has made; for tests. */
  long rounds() {
    return rounds;
  }

  /** Returns how many allocation samples (batch calls) the watchdog has taken; for tests. */
  long allocationSamples() {
    return sampler.samples();
  }

  /** Stops the watchdog thread. */
  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
  }
}
