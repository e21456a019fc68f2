package dev.embla.faas.internal.pool;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One execution environment as the engine tracks it: the runtime's environment, its watchdog slot, and its
 * bookkeeping. Owned by exactly one invocation while busy; the pool hands it out only from its idle set.
 *
 * <p>The watchdog slot ({@link #deadlineNanos}, {@link #state}) is the only part touched by two threads at once: the
 * invoking thread arms and disarms it, the watchdog thread moves a {@code RUNNING} slot past its deadline to
 * {@code EXPIRED}. Whoever wins the compare-and-set on {@link #state} decides the outcome, so a call that finishes as
 * the deadline passes is either a success or a timeout, never both. The state carries an arming counter in its high
 * bits: a watchdog that read one arming's deadline can never expire a later arming of the same environment (the
 * compare-and-set fails because the counter moved on).
 *
 * <p>Allocation budget: an arming may also carry the id of the thread running the guest (the invoking thread unless
 * the runtime has its own), its allocated-bytes figure when the phase started, and a budget. These are plain fields
 * written before the volatile write of {@link #state}, so a watchdog that reads the state of an arming sees them (or,
 * if the owner re-armed meanwhile, the next arming's, in which case its compare-and-set on the old state fails and
 * nothing happens). The watchdog moves a slot over budget to {@code OVER_BUDGET} with the same compare-and-set
 * discipline as a deadline.
 */
public final class PooledEnvironment {

  /** Slot phases, in the low three bits of the state. */
  static final long IDLE = 0;
  /** A phase (Init or Invoke) is running under a deadline. */
  static final long RUNNING = 1;
  /** The deadline passed and the watchdog cancelled the environment. */
  static final long EXPIRED = 2;
  /** The engine closed and cancelled the environment after its grace period. */
  static final long CLOSED = 3;
  /** The phase allocated more than its budget and the watchdog cancelled the environment. */
  static final long OVER_BUDGET = 4;
  private static final long PHASE = 7;
  private static final int PHASE_BITS = 3;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(PooledEnvironment.class, "state", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String id;
  private final ExecutionEnvironment delegate;
  private final EnvironmentOutput output;
  private final EnvironmentPool pool;
  final long createdNanos;

  Object context; // the pool's EnvironmentContext, to delete its /tmp at shutdown
  boolean shutdownInline;
  volatile long deadlineNanos;
  private volatile long state;
  private long armings; // owner thread only
  // The arming's allocation budget (see the class comment); budgetBytes 0 means none.
  long budgetThreadId;
  long budgetBaselineBytes;
  long budgetBytes;
  volatile long overBudgetBytes;

  // Written and read only by the thread that owns the environment (the pool hands it to one owner at a time).
  long lastUsedNanos;
  boolean initialized;
  boolean broken;
  long invocations;
  long maxAllocatedBytes;

  // ---- Concurrency and scaling (see EnvironmentLanes, internal.concurrency) ----
  /** The lanes of a shared environment; null when the environment runs one invocation at a time. */
  final EnvironmentLanes lanes;
  /** Kept warm by provisioned concurrency: exempt from keep-alive and memory-budget eviction. */
  volatile boolean provisioned;
  /** Set from another thread (provisioned concurrency scaled down): shut down at release instead of pooling. */
  volatile boolean discardOnRelease;

  PooledEnvironment(String id, ExecutionEnvironment delegate, EnvironmentOutput output, EnvironmentPool pool,
      long nowNanos) {
    this(id, delegate, output, pool, nowNanos, null);
  }

  PooledEnvironment(String id, ExecutionEnvironment delegate, EnvironmentOutput output, EnvironmentPool pool,
      long nowNanos, EnvironmentLanes lanes) {
    this.lanes = lanes;
    this.id = id;
    this.delegate = delegate;
    this.output = output;
    this.pool = pool;
    this.createdNanos = nowNanos;
    this.lastUsedNanos = nowNanos;
  }

  /** Returns the environment's id. */
  public String id() {
    return id;
  }

  /** Returns the runtime's environment. */
  public ExecutionEnvironment delegate() {
    return delegate;
  }

  /** Returns the sink of the function's output. */
  public EnvironmentOutput output() {
    return output;
  }

  /** Returns the pool this environment belongs to. */
  public EnvironmentPool pool() {
    return pool;
  }

  /** Returns whether Init completed. */
  public boolean initialized() {
    return initialized;
  }

  /** Records that Init completed; a shared environment then opens its other lanes. */
  public void markInitialized() {
    initialized = true;
    if (lanes != null) {
      pool.openLanes(this);
    }
  }

  /** Returns when the environment was last released (ticker nanos); racy when read by another thread. */
  public long lastUsedNanos() {
    return lastUsedNanos;
  }

  /** Returns whether provisioned concurrency keeps this environment warm. */
  public boolean provisioned() {
    return provisioned;
  }

  /**
   * Returns whether this invocation's shared environment was cancelled because of another invocation in it (its
   * timeout, or the engine's close), rather than because of this one.
   */
  public boolean cancelledForAnotherLane() {
    return lanes != null && lanes.cancelled && (state & PHASE) != EXPIRED && (state & PHASE) != CLOSED;
  }

  /** Marks the environment as unusable: it is shut down instead of going back to the idle set. */
  public void markBroken() {
    broken = true;
  }

  /** Marks the environment to be shut down after its current invocation, healthy or not. */
  public void markDiscardAfterUse() {
    broken = true;
    shutdownInline = true;
  }

  /** Returns whether the environment must not be reused. */
  public boolean broken() {
    return broken;
  }

  /** Records one invocation's allocation figure and returns the environment's maximum so far. */
  public long recordAllocation(long bytes) {
    invocations++;
    if (bytes > maxAllocatedBytes) {
      maxAllocatedBytes = bytes;
    }
    return maxAllocatedBytes;
  }

  /** Arms the watchdog slot: the running phase must end by {@code deadline} (ticker nanos). No allocation budget. */
  public void arm(long deadline) {
    arm(deadline, 0, -1, 0);
  }

  /**
   * Arms the watchdog slot with a deadline and an allocation budget: the running phase must end by {@code deadline}
   * (ticker nanos), and the thread {@code threadId} must not allocate more than {@code budget} bytes beyond
   * {@code baselineBytes} (its allocated-bytes figure when the phase started) before it does.
   *
   * @param baselineBytes -1 if the thread's allocation cannot be measured (a virtual thread): no budget then
   * @param budget 0 for no budget
   */
  public void arm(long deadline, long threadId, long baselineBytes, long budget) {
    deadlineNanos = deadline;
    budgetThreadId = threadId;
    budgetBaselineBytes = baselineBytes;
    budgetBytes = baselineBytes < 0 ? 0 : budget;
    STATE.setVolatile(this, (++armings << PHASE_BITS) | RUNNING);
  }

  /**
   * Disarms the watchdog slot.
   *
   * @return true if the phase ended before the watchdog or the engine's close cancelled it
   */
  public boolean disarm() {
    long s = state;
    return (s & PHASE) == RUNNING && STATE.compareAndSet(this, s, s & ~PHASE);
  }

  /** Returns whether the engine's close, rather than the deadline, stopped the last phase. */
  public boolean stoppedByClose() {
    return (state & PHASE) == CLOSED;
  }

  /** Returns whether the watchdog stopped the last phase because it allocated more than its budget. */
  public boolean stoppedOverBudget() {
    return (state & PHASE) == OVER_BUDGET;
  }

  /** Returns the bytes the watchdog saw the last phase allocate when it stopped it over budget. */
  public long overBudgetBytes() {
    return overBudgetBytes;
  }

  /** Returns the budget of the current or last arming, in bytes; 0 for none. */
  public long budgetBytes() {
    return budgetBytes;
  }

  /** The slot's state word, for the watchdog's compare-and-set in {@link #exceedBudget}. */
  long stateWord() {
    return state;
  }

  /**
   * Called by the watchdog: moves the arming whose state word was {@code seen} to {@code OVER_BUDGET}, recording the
   * bytes it saw allocated; returns false if that arming already ended (or the deadline or close stopped it).
   */
  boolean exceedBudget(long seen, long allocatedBytes) {
    if (!isRunning(seen)) {
      return false;
    }
    overBudgetBytes = allocatedBytes;
    // Stopping one lane cancels the environment every lane shares, as a timeout does: its idle lanes must not be
    // handed out any more.
    return STATE.compareAndSet(this, seen, (seen & ~PHASE) | OVER_BUDGET) && lanesCancelled();
  }

  /** Called by the watchdog: expires the slot if it is running past {@code now}; returns whether it did. */
  boolean expireIfDue(long now) {
    long s = state;
    if ((s & PHASE) != RUNNING || now - deadlineNanos < 0) {
      return false;
    }
    return STATE.compareAndSet(this, s, (s & ~PHASE) | EXPIRED) && lanesCancelled();
  }

  /** Stops the running phase now, whatever its deadline (engine close); returns whether a phase was running. */
  boolean expireNow() {
    long s = state;
    return (s & PHASE) == RUNNING && STATE.compareAndSet(this, s, (s & ~PHASE) | CLOSED) && lanesCancelled();
  }

  /** Cancelling one lane cancels the environment every lane shares; returns true for use in a condition. */
  private boolean lanesCancelled() {
    if (lanes != null) {
      lanes.broken = true;
      lanes.cancelled = true;
    }
    return true;
  }

  /** Returns whether a state word (see {@link #stateWord}) is that of a running phase. */
  static boolean isRunning(long stateWord) {
    return (stateWord & PHASE) == RUNNING;
  }

  /** Returns whether a phase is running under a deadline. */
  public boolean running() {
    return (state & PHASE) == RUNNING;
  }

  @Override
  public String toString() {
    return "PooledEnvironment{" + id + "}";
  }
}
