package dev.embla.faas.internal.concurrency;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A number of concurrency permits, handed out without locks and, in the steady state, without any memory that two
 * threads write.
 *
 * <p>Why not one counter: every invocation acquires and releases a permit, and a counter shared by all calling
 * threads would move its cache line between cores twice per call, which is what made two threads slower than one
 * before the pool got per-thread slots (see ARCHITECTURE.md). Here the free permits live in two places: a shared
 * count, and a small cache per stripe of threads (striped by thread id, one cache line per stripe, as the pool's hot
 * slots are). A release puts the permit into its own stripe (up to {@link #KEEP}), and the same thread's next acquire
 * takes it from there: a compare-and-set on a line only that thread writes. Only when its stripe is empty does an
 * acquire take from the shared count, and only when that is empty too does it move every stripe's cached permits back
 * to the shared count before it gives up.
 *
 * <p>Exactness: a permit is always in exactly one place (the shared count, one stripe, or held by an invocation), and
 * it moves only by a compare-and-set or get-and-set that takes it from where it was, so at no instant do more
 * invocations hold permits than {@link #capacity()}. Refusal is exact when nothing moves: an acquire refuses only
 * after it found the shared count empty, emptied every stripe into it, and found it empty again; a permit being
 * released by another thread at that same instant may be missed, which orders that release after the refusal.
 *
 * <p>Resizing ({@link #resize}) adds to or takes from the shared count; the shared count may go negative (permits
 * still held by invocations that started under the larger capacity). While it is negative, releases pay the debt
 * and acquires take nothing from the stripes, so the new capacity holds once those invocations end.
 */
public final class PermitPool {

  private static final int STRIPES =
      Integer.highestOneBit(Math.max(2, Runtime.getRuntime().availableProcessors()) * 2 - 1) * 2;
  /** Ints per stripe, so that stripes sit on different cache lines. */
  private static final int PAD = 16;
  /** How many free permits a stripe keeps for its threads' next calls (a nested invoke holds two). */
  private static final int KEEP = 4;
  /** Taken from a retired pool's shared count so that no acquire succeeds again, whatever is released into it. */
  private static final int RETIRED = 1 << 29;

  private final AtomicIntegerArray cached = new AtomicIntegerArray(STRIPES * PAD);
  private final AtomicInteger shared;
  private volatile int capacity;

  /** Creates a pool of {@code capacity} free permits. */
  public PermitPool(int capacity) {
    this.capacity = capacity;
    this.shared = new AtomicInteger(capacity);
  }

  /** Takes a permit if one is free; never blocks. */
  public boolean tryAcquire() {
    int s = stripe();
    int c = cached.get(s);
    // The shared count is written only on slow paths, so reading it here is a read of a line every core holds.
    if (c > 0 && shared.get() >= 0 && cached.compareAndSet(s, c, c - 1)) {
      return true;
    }
    return acquireSlow();
  }

  private boolean acquireSlow() {
    for (int pass = 0; pass < 2; pass++) {
      int free;
      while ((free = shared.get()) > 0) {
        if (shared.compareAndSet(free, free - 1)) {
          return true;
        }
      }
      if (!drainStripes()) {
        return false;
      }
    }
    return false;
  }

  /** Moves every stripe's cached permits to the shared count; returns whether there were any. */
  private boolean drainStripes() {
    boolean moved = false;
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      if (cached.get(i) > 0) {
        int c = cached.getAndSet(i, 0);
        if (c > 0) {
          shared.addAndGet(c);
          moved = true;
        }
      }
    }
    return moved;
  }

  /** Gives back a permit taken by {@link #tryAcquire()}. */
  public void release() {
    int s = stripe();
    int c = cached.get(s);
    if (c < KEEP && shared.get() >= 0 && cached.compareAndSet(s, c, c + 1)) {
      return;
    }
    shared.incrementAndGet();
  }

  /**
   * Changes the capacity. Permits held now stay valid; if they exceed the new capacity, acquires are refused until
   * enough are released. Callers serialise resizes.
   */
  public void resize(int newCapacity) {
    int delta = newCapacity - capacity;
    capacity = newCapacity;
    if (delta < 0) {
      drainStripes(); // so that no stripe hands out a permit the smaller capacity no longer has
    }
    shared.addAndGet(delta);
  }

  /**
   * Returns how many permits are held beyond the capacity after a resize down: the shared count's deficit, which
   * only releases reduce (no acquire succeeds while it lasts). May count a permit being released at this instant.
   */
  int debt() {
    return Math.max(0, -shared.get());
  }

  /**
   * Returns the debt of a pool nobody acquires from any more (one dropped from its function), its stripes emptied
   * first: a release that read the shared count just before the pool was sized to 0 may have cached its permit in a
   * stripe, where no acquire will ever take it, and {@link #debt} would count it as held for good.
   */
  int settledDebt() {
    drainStripes();
    return debt();
  }

  /**
   * Makes every later acquire fail, for a pool nobody should take from any more; call once its debt is paid. A
   * caller that read the pool just before it was dropped finds nothing to take, not even a permit cached in a stripe.
   */
  void retire() {
    capacity = 0;
    drainStripes();
    shared.addAndGet(-RETIRED);
  }

  /** Returns the capacity. */
  public int capacity() {
    return capacity;
  }

  /** Returns how many permits are held now; a snapshot that may be off by the permits moving while it reads. */
  public int inUse() {
    int free = shared.get();
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      free += cached.get(i);
    }
    return Math.max(0, capacity - free);
  }

  private static int stripe() {
    long id = Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L;
    return ((int) (id >>> 40) & (STRIPES - 1)) * PAD;
  }
}
