package dev.embla.faas.internal.pool;

import dev.embla.faas.internal.concurrency.MemoryBudget;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.testing.FakeTicker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The pool on its own: hot slots and the shared stack, keep-alive, retirement, and ownership under contention. */
class EnvironmentPoolTest {

  @TempDir Path tmp;
  FakeTicker time;
  Watchdog watchdog;
  AtomicInteger shutdowns;
  AtomicInteger drained;
  AtomicInteger preparedClosed;
  EnvironmentPool pool;

  /** An environment that records shutdowns and catches two owners at once. */
  static final class Env implements ExecutionEnvironment {
    final AtomicBoolean inUse = new AtomicBoolean();
    final AtomicInteger shutdowns;

    Env(AtomicInteger shutdowns) {
      this.shutdowns = shutdowns;
    }

    @Override public void init() {}
    @Override public byte[] invoke(byte[] payload, Context context) { return payload; }
    @Override public void cancel() {}
    @Override public void shutdown(Duration bound) { shutdowns.incrementAndGet(); }
  }

  @BeforeEach
  void setUp() {
    time = new FakeTicker();
    watchdog = new Watchdog(time);
    shutdowns = new AtomicInteger();
    drained = new AtomicInteger();
    preparedClosed = new AtomicInteger();
    PreparedFunction prepared = new PreparedFunction() {
      @Override
      public ExecutionEnvironment newEnvironment(dev.embla.faas.spi.runtime.EnvironmentContext context) {
        return new Env(shutdowns);
      }

      @Override
      public void close() {
        preparedClosed.incrementAndGet();
      }
    };
    // Shutdowns run inline, so tests see them at once.
    pool = new EnvironmentPool("f", prepared, time, tmp, LoggerFactory.getLogger("embla.function.f"), watchdog,
        Runnable::run, Duration.ofSeconds(2), drained::incrementAndGet, 1 << 20);
  }

  @AfterEach
  void tearDown() {
    watchdog.close();
  }

  private PooledEnvironment created() {
    PooledEnvironment env = pool.create();
    env.markInitialized();
    return env;
  }

  @Test
  void aLaneStoppedOverItsAllocationBudget_takesTheSharedEnvironmentsIdleLanesWithIt() {
    PreparedFunction prepared = context -> new Env(shutdowns);
    EnvironmentPool shared = new EnvironmentPool("w", prepared, time, tmp, LoggerFactory.getLogger("embla.function.w"),
        watchdog, Runnable::run, Duration.ofSeconds(2), () -> {}, 1 << 20,
        new PoolLimits(PoolLimits.unlimited("w").concurrency(), MemoryBudget.unlimited(), 0, 2),
        new LogStreamNames(time, "$LATEST"));
    PooledEnvironment first = shared.create();
    first.markInitialized(); // opens the second lane, idle
    first.arm(time.read() + Duration.ofSeconds(10).toNanos(), 1, 0, 1_000);
    assertThat(first.exceedBudget(first.stateWord(), 2_000)).isTrue();

    // The watchdog's stop cancelled the environment both lanes share: the idle lane is not handed out.
    assertThat(shared.acquire()).isNull();
    assertThat(shutdowns).hasValue(0); // the environment shuts down once its stopped lane is released
    shared.release(first);
    assertThat(shutdowns).hasValue(1);
  }

  @Test
  void concurrentSet_startsEmptyAndKeepsEveryElementAddedFromManyThreads() throws Exception {
    Set<Integer> set = EnvironmentPool.concurrentSet();
    assertThat(set).isEmpty();
    CountDownLatch start = new CountDownLatch(1);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> adds = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t * 1_000;
        adds.add(threads.submit(() -> {
          start.await();
          for (int i = 0; i < 1_000; i++) {
            set.add(base + i);
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> add : adds) {
        add.get(30, TimeUnit.SECONDS);
      }
    }

    assertThat(set).hasSize(8_000).contains(0, 4_321, 7_999);
    assertThat(set.remove(4_321)).isTrue();
    assertThat(set).hasSize(7_999).doesNotContain(4_321);
  }

  @Test
  void acquire_emptyPoolHasNothing_thenReusesWhatWasReleased() {
    assertThat(pool.acquire()).isNull();
    PooledEnvironment env = created();
    assertThat(pool.busyCount()).isEqualTo(1);
    pool.release(env);
    assertThat(pool.busyCount()).isZero();
    assertThat(pool.idleCount()).isEqualTo(1);
    assertThat(pool.acquire()).isSameAs(env);
    assertThat(pool.idleCount()).isZero();
  }

  @Test
  void acquire_reusesMostRecentlyUsedFirst() {
    PooledEnvironment first = created();
    PooledEnvironment second = created();
    pool.release(first);
    time.advance(Duration.ofSeconds(1));
    pool.release(second);
    assertThat(pool.acquire()).isSameAs(second);
    assertThat(pool.acquire()).isSameAs(first);
    assertThat(pool.acquire()).isNull();
  }

  @Test
  void acquire_findsAnEnvironmentAnotherThreadParked_insteadOfColdStarting() throws Exception {
    Thread other = Thread.ofPlatform().start(() -> pool.release(created()));
    other.join();
    assertThat(pool.size()).isEqualTo(1);
    PooledEnvironment env = pool.acquire();
    assertThat(env).isNotNull();
    assertThat(pool.size()).isEqualTo(1);
  }

  @Test
  void evictIdle_shutsDownOnlyExpiredEnvironments_whereverTheyAreParked() throws Exception {
    PooledEnvironment a = created();
    PooledEnvironment b = created();
    pool.release(a); // this thread's slot
    Thread other = Thread.ofPlatform().start(() -> pool.release(b));
    other.join();
    time.advance(Duration.ofMinutes(4));
    PooledEnvironment c = created();
    pool.release(c); // newest: takes this thread's slot, a goes to the shared stack
    time.advance(Duration.ofMinutes(1));

    assertThat(pool.evictIdle(Duration.ofMinutes(5).toNanos())).isEqualTo(2);
    assertThat(shutdowns).hasValue(2);
    assertThat(pool.idleCount()).isEqualTo(1);
    assertThat(pool.acquire()).isSameAs(c);
  }

  @Test
  void retire_shutsIdleNow_busyOnRelease_refusesCreate_andDrainsOnce() {
    PooledEnvironment idle = created();
    PooledEnvironment busy = created();
    pool.release(idle);
    pool.retire();
    assertThat(shutdowns).hasValue(1);
    assertThat(pool.acquire()).isNull();
    assertThat(pool.create()).isNull();
    assertThat(drained).hasValue(0);

    pool.release(busy);
    assertThat(shutdowns).hasValue(2);
    assertThat(pool.size()).isZero();
    assertThat(drained).hasValue(1);
    assertThat(preparedClosed).hasValue(1);
    pool.retire();
    assertThat(drained).hasValue(1);
  }

  @Test
  void release_brokenOrUninitialisedEnvironmentIsShutDown() {
    PooledEnvironment broken = created();
    broken.markBroken();
    pool.release(broken);
    PooledEnvironment neverInitialised = pool.create();
    pool.release(neverInitialised);
    assertThat(shutdowns).hasValue(2);
    assertThat(pool.idleCount()).isZero();
  }

  @Test
  void contention_noEnvironmentIsEverOwnedTwice_andNoneIsLost() throws Exception {
    int threads = 4;
    int rounds = 20_000;
    Set<PooledEnvironment> seen = ConcurrentHashMap.newKeySet();
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger violations = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      futures.add(executor.submit(() -> {
        go.await();
        for (int i = 0; i < rounds; i++) {
          PooledEnvironment env = pool.acquire();
          if (env == null) {
            env = created();
          }
          seen.add(env);
          Env e = (Env) env.delegate();
          if (!e.inUse.compareAndSet(false, true)) {
            violations.incrementAndGet();
          }
          Thread.onSpinWait();
          e.inUse.set(false);
          pool.release(env);
        }
        return null;
      }));
    }
    go.countDown();
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    executor.shutdown();
    assertThat(violations).hasValue(0);
    assertThat(seen.size()).isBetween(1, threads);
    assertThat(pool.busyCount()).isZero();
    assertThat(pool.idleCount()).isEqualTo(seen.size()); // every environment made is idle again, none lost
    assertThat(shutdowns).hasValue(0);
  }
}
