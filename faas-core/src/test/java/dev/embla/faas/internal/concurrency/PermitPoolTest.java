package dev.embla.faas.internal.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The striped permit pool: never more permits held than its capacity, and none lost in the stripes. */
class PermitPoolTest {

  @Test
  void acquire_refusesAtCapacity_andPermitsCachedByOtherThreadsAreFound() throws Exception {
    PermitPool pool = new PermitPool(2);
    assertThat(pool.tryAcquire()).isTrue();
    assertThat(pool.tryAcquire()).isTrue();
    assertThat(pool.tryAcquire()).isFalse();
    pool.release();
    pool.release(); // both now cached in this thread's stripe
    assertThat(pool.inUse()).isZero();
    // Another thread (another stripe, most likely) still gets both.
    ExecutorService other = Executors.newSingleThreadExecutor();
    assertThat(other.submit(() -> pool.tryAcquire() && pool.tryAcquire() && !pool.tryAcquire())
        .get(5, TimeUnit.SECONDS)).isTrue();
    other.shutdown();
    assertThat(pool.inUse()).isEqualTo(2);
  }

  @Test
  void contention_neverMoreHeldThanCapacity_recordedMaximum() throws Exception {
    PermitPool pool = new PermitPool(3);
    AtomicInteger held = new AtomicInteger();
    AtomicInteger max = new AtomicInteger();
    AtomicInteger granted = new AtomicInteger();
    int threads = 8;
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      done.add(executor.submit(() -> {
        go.await();
        for (int i = 0; i < 50_000; i++) {
          if (pool.tryAcquire()) {
            max.accumulateAndGet(held.incrementAndGet(), Math::max);
            granted.incrementAndGet();
            held.decrementAndGet();
            pool.release();
          }
        }
        return null;
      }));
    }
    go.countDown();
    for (Future<?> f : done) {
      f.get(60, TimeUnit.SECONDS);
    }
    executor.shutdown();
    assertThat(max.get()).isBetween(1, 3);
    assertThat(granted.get()).isPositive();
    assertThat(pool.inUse()).isZero();
    // Nothing was lost in the stripes: all three can be taken again from one thread.
    assertThat(pool.tryAcquire() && pool.tryAcquire() && pool.tryAcquire()).isTrue();
    assertThat(pool.tryAcquire()).isFalse();
  }

  @Test
  void resize_downWhilePermitsAreHeld_refusesUntilEnoughAreReleased() {
    PermitPool pool = new PermitPool(4);
    for (int i = 0; i < 4; i++) {
      assertThat(pool.tryAcquire()).isTrue();
    }
    pool.resize(2);
    pool.release();
    assertThat(pool.tryAcquire()).isFalse(); // 3 held, capacity 2
    pool.release();
    assertThat(pool.tryAcquire()).isFalse(); // 2 held
    pool.release();
    assertThat(pool.tryAcquire()).isTrue(); // 1 held: room again
    assertThat(pool.tryAcquire()).isFalse();
    pool.resize(5);
    assertThat(pool.tryAcquire()).isTrue();
    assertThat(pool.inUse()).isEqualTo(3);
  }
}
