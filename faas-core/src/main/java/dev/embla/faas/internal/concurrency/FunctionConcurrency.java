package dev.embla.faas.internal.concurrency;

import dev.embla.faas.TooManyRequestsException;
import java.util.concurrent.atomic.LongAdder;

/**
 * One function's side of the concurrency gate, shared by all its revisions: where its invocations take their permit,
 * and its throttle, cold-start and recursive-loop counts.
 *
 * <p>A function without reserved or provisioned concurrency takes its permits from the engine's unreserved pool. One
 * with reserved concurrency takes them only from its own pool of that size: guaranteed, because that many were taken
 * out of the unreserved pool, and capped, because it never falls back. One with provisioned concurrency and no
 * reservation takes from its own pool of the provisioned size first, then from the unreserved pool, as Lambda
 * spills over from provisioned to on-demand concurrency.
 */
public final class FunctionConcurrency {

  private final String functionName;
  private final ConcurrencyControl control;
  // Written under the control's lock, read by every invocation.
  private volatile PermitPool own;
  private volatile boolean capped;
  // Guarded by the control's lock (reserved is read without it only to name the limit in a throttle).
  volatile int reserved = -1;
  int provisioned;
  /** Permits of the function's figure not yet in its own pool, because other invocations still hold them. */
  int withheld;

  private final LongAdder throttles = new LongAdder();
  private final LongAdder coldStarts = new LongAdder();
  private final LongAdder recursionStops = new LongAdder();

  FunctionConcurrency(String functionName, ConcurrencyControl control) {
    this.functionName = functionName;
    this.control = control;
  }

  /**
   * Admits one invocation: takes a permit and returns the pool to give it back to with
   * {@link PermitPool#release()}.
   *
   * @throws TooManyRequestsException naming the limit that is in use
   */
  public PermitPool admit() {
    PermitPool p = own;
    if (p != null) {
      if (p.tryAcquire()) {
        return p;
      }
      if (capped) {
        throttles.increment();
        throw control.reservedThrottle(functionName, reserved);
      }
    }
    PermitPool u = control.unreserved();
    if (u.tryAcquire()) {
      return u;
    }
    throttles.increment();
    throw control.unreservedThrottle(functionName);
  }

  /** Counts a throttle decided elsewhere (the memory budget). */
  public void recordThrottle() {
    throttles.increment();
  }

  /** Counts an invocation that created its environment. */
  public void recordColdStart() {
    coldStarts.increment();
  }

  /** Counts events not delivered to the function because recursive loop detection stopped them. */
  public void recordRecursionStops(int events) {
    recursionStops.add(events);
  }

  /** Returns how many invocations were throttled. */
  public long throttles() {
    return throttles.sum();
  }

  /** Returns how many invocations started cold. */
  public long coldStarts() {
    return coldStarts.sum();
  }

  /** Returns how many events recursive loop detection stopped before they reached the function. */
  public long recursionStops() {
    return recursionStops.sum();
  }

  /** Returns the function's name. */
  public String functionName() {
    return functionName;
  }

  /**
   * Applies the function's reservation and provisioned figure; called under the control's lock.
   *
   * @return the function's own pool if this change dropped it (its invocations may still hold permits), else null
   */
  PermitPool apply(int newReserved, int newProvisioned) {
    reserved = newReserved;
    provisioned = newProvisioned;
    if (newReserved < 0 && newProvisioned == 0) {
      capped = false;
      return detach();
    }
    int size = setAside();
    withheld = Math.min(withheld, size);
    PermitPool p = own;
    if (p == null) {
      own = new PermitPool(size - withheld);
    } else {
      p.resize(size - withheld);
    }
    capped = newReserved >= 0;
    return null;
  }

  /** Stops taking from the function's own pool; returns it (or null), for the control to count what it still holds. */
  PermitPool detach() {
    PermitPool p = own;
    own = null;
    withheld = 0;
    if (p != null) {
      p.resize(0); // what its invocations still hold becomes its debt
    }
    return p;
  }

  /** Moves {@code n} permits between the function's figure and its own pool: positive withholds, negative gives. */
  void withhold(int n) {
    withheld += n;
    PermitPool p = own;
    if (p != null) {
      p.resize(setAside() - withheld);
    }
  }

  /** Returns how many permits the function's invocations hold beyond its own pool's capacity. */
  int ownDebt() {
    PermitPool p = own;
    return p == null ? 0 : p.debt();
  }

  /** Returns how many permits its own pool could hand out now beyond what it holds, at most. */
  int ownFree() {
    PermitPool p = own;
    return p == null ? 0 : Math.max(0, p.capacity() - p.inUse());
  }

  /** Returns how much this function takes out of the unreserved pool: its reservation, else its provisioned figure. */
  int setAside() {
    return reserved >= 0 ? reserved : provisioned;
  }
}
