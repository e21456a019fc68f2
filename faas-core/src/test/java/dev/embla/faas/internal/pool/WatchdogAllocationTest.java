package dev.embla.faas.internal.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The watchdog's allocation budget, with a scripted probe in place of the JVM's thread counters: phases over budget
 * are stopped once and say so, phases at or under it never, stale samples never stop a later phase, and an idle
 * watchdog samples nothing.
 */
class WatchdogAllocationTest {

  static final long THREAD = 4242;
  static final long BASELINE = 1_000_000;
  static final long BUDGET = 512L << 20;

  @TempDir Path tmp;
  FakeTicker time;
  Watchdog watchdog;
  EnvironmentPool pool;
  AtomicInteger cancels;
  AtomicInteger probeCalls;
  AtomicLong lastIds;
  volatile LongUnaryOperator allocatedOf = id -> BASELINE; // thread id -> allocated bytes so far

  @BeforeEach
  void setUp() {
    time = new FakeTicker();
    cancels = new AtomicInteger();
    probeCalls = new AtomicInteger();
    lastIds = new AtomicLong();
    watchdog = new Watchdog(time, ids -> {
      probeCalls.incrementAndGet();
      lastIds.set(ids.length);
      return Arrays.stream(ids).map(allocatedOf).toArray();
    });
    pool = new EnvironmentPool("f", context -> new ExecutionEnvironment() {
      @Override public void init() {}
      @Override public byte[] invoke(byte[] payload, Context c) { return payload; }
      @Override public void cancel() { cancels.incrementAndGet(); }
      @Override public void shutdown(Duration bound) {}
    }, time, tmp, LoggerFactory.getLogger("embla.function.f"), watchdog, Runnable::run, Duration.ofSeconds(2),
        () -> { }, 1 << 20);
  }

  @AfterEach
  void tearDown() {
    watchdog.close();
  }

  private void awaitRounds(int n) {
    long target = watchdog.rounds() + n;
    Await.until(n + " watchdog rounds", () -> watchdog.rounds() >= target);
  }

  private long deadline() {
    return time.read() + Duration.ofMinutes(1).toNanos();
  }

  @Test
  void idleWatchdog_samplesNothing_andNeitherDoPhasesWithoutABudget() {
    PooledEnvironment idle = pool.create();
    awaitRounds(3);
    assertThat(probeCalls).hasValue(0);
    assertThat(watchdog.allocationSamples()).isZero();

    idle.arm(deadline()); // no budget
    PooledEnvironment virtual = pool.create();
    virtual.arm(deadline(), THREAD, -1, BUDGET); // a virtual thread: not measurable, so no budget
    awaitRounds(3);
    assertThat(probeCalls).hasValue(0);
    assertThat(idle.disarm()).isTrue();
    assertThat(virtual.disarm()).isTrue();
  }

  @Test
  void phaseOverBudget_isStoppedOnce_andDisarmSaysWhy() {
    PooledEnvironment env = pool.create();
    allocatedOf = id -> id == THREAD ? BASELINE + BUDGET + 1 : -1;
    env.arm(deadline(), THREAD, BASELINE, BUDGET);
    Await.until("cancelled over budget", () -> cancels.get() == 1);
    assertThat(env.disarm()).isFalse();
    assertThat(env.stoppedOverBudget()).isTrue();
    assertThat(env.stoppedByClose()).isFalse();
    assertThat(env.overBudgetBytes()).isEqualTo(BUDGET + 1);
    // Disarmed: sampling stops, and the environment is not cancelled again.
    awaitRounds(2);
    long samples = watchdog.allocationSamples();
    awaitRounds(3);
    assertThat(watchdog.allocationSamples()).isEqualTo(samples);
    assertThat(cancels).hasValue(1);
  }

  @Test
  void phaseAtItsBudget_isSampledButNeverStopped() {
    PooledEnvironment env = pool.create();
    allocatedOf = id -> BASELINE + BUDGET;
    env.arm(deadline(), THREAD, BASELINE, BUDGET);
    Await.until("three samples", () -> watchdog.allocationSamples() >= 3);
    assertThat(cancels).hasValue(0);
    assertThat(env.disarm()).isTrue();
    assertThat(env.stoppedOverBudget()).isFalse();
  }

  @Test
  void budgetedPhasesAreSampledTogether_inOneBatchCall() {
    PooledEnvironment a = pool.create();
    PooledEnvironment b = pool.create();
    a.arm(deadline(), THREAD, BASELINE, BUDGET);
    b.arm(deadline(), THREAD + 1, BASELINE, BUDGET);
    Await.until("a sample of both", () -> lastIds.get() == 2);
    assertThat(a.disarm()).isTrue();
    assertThat(b.disarm()).isTrue();
  }

  @Test
  void sampleOfAnEndedPhase_neverStopsTheNextOne() {
    PooledEnvironment env = pool.create();
    AtomicInteger calls = new AtomicInteger();
    allocatedOf = id -> {
      if (calls.getAndIncrement() == 0) {
        // Between the watchdog's read of the arming and its verdict, the phase ends and a new one starts.
        assertThat(env.disarm()).isTrue();
        env.arm(deadline(), THREAD, BASELINE + BUDGET + 100, BUDGET);
        return BASELINE + BUDGET + 1; // over the old arming's budget, under the new one's
      }
      return BASELINE + BUDGET + 100;
    };
    env.arm(deadline(), THREAD, BASELINE, BUDGET);
    Await.until("several samples", () -> calls.get() >= 3);
    assertThat(cancels).hasValue(0);
    assertThat(env.disarm()).isTrue();
  }

  @Test
  void expiredDeadlineWinsOverABudgetSeenInTheSameRound() {
    PooledEnvironment env = pool.create();
    allocatedOf = id -> Long.MAX_VALUE;
    env.arm(time.read() + Duration.ofSeconds(1).toNanos(), THREAD, BASELINE, Long.MAX_VALUE - BASELINE);
    time.advance(Duration.ofSeconds(2));
    Await.until("cancelled", () -> cancels.get() == 1);
    assertThat(env.disarm()).isFalse();
    assertThat(env.stoppedOverBudget()).isFalse();
  }

  @Test
  void failingProbe_doesNotKillTheWatchdog() {
    PooledEnvironment env = pool.create();
    allocatedOf = id -> {
      throw new IllegalStateException("probe failed");
    };
    env.arm(time.read() + Duration.ofSeconds(1).toNanos(), THREAD, BASELINE, BUDGET);
    awaitRounds(2);
    time.advance(Duration.ofSeconds(2));
    Await.until("deadline still enforced", () -> cancels.get() == 1);
    assertThat(env.disarm()).isFalse();
  }
}
