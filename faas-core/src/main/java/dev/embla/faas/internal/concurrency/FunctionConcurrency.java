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
  // Guarded by the control's lock.
  int reserved = -1;
  int provisioned;

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
        throw control.reservedThrottle(functionName, p.capacity());
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

  /** Applies the function's reservation and provisioned figure; called under the control's lock. */
  void apply(int newReserved, int newProvisioned) {
    reserved = newReserved;
    provisioned = newProvisioned;
    int size = newReserved >= 0 ? newReserved : newProvisioned;
    if (newReserved < 0 && newProvisioned == 0) {
      capped = false;
      own = null; // permits still held return to the old pool object, which nobody takes from any more
      return;
    }
    PermitPool p = own;
    if (p == null) {
      own = new PermitPool(size);
    } else {
      p.resize(size);
    }
    capped = newReserved >= 0;
  }

  /** Returns how much this function takes out of the unreserved pool: its reservation, else its provisioned figure. */
  int setAside() {
    return reserved >= 0 ? reserved : provisioned;
  }
}
