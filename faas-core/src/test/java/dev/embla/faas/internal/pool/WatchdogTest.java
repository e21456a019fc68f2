package dev.embla.faas.internal.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Deadlines on the injected ticker: expired phases are cancelled exactly once, finished ones never. */
class WatchdogTest {

  @TempDir Path tmp;
  FakeTicker time;
  Watchdog watchdog;
  EnvironmentPool pool;
  AtomicInteger cancels;

  @BeforeEach
  void setUp() {
    time = new FakeTicker();
    watchdog = new Watchdog(time);
    cancels = new AtomicInteger();
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

  @Test
  void expiredPhaseIsCancelledOnce_andDisarmReportsTheTimeout() throws Exception {
    PooledEnvironment env = pool.create();
    env.arm(time.read() + Duration.ofSeconds(3).toNanos());
    time.advance(Duration.ofMillis(2999));
    Thread.sleep(60); // three watchdog rounds: nothing may happen before the deadline
    assertThat(cancels).hasValue(0);
    time.advance(Duration.ofMillis(1));
    Await.until("cancelled", () -> cancels.get() == 1);
    assertThat(env.disarm()).isFalse();
    assertThat(env.stoppedByClose()).isFalse();
    Thread.sleep(60);
    assertThat(cancels).hasValue(1);
    assertThat(watchdog.lastLatenessNanos()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void phaseFinishedInTimeIsNeverCancelled_evenAfterItsDeadlinePasses() throws Exception {
    PooledEnvironment env = pool.create();
    env.arm(time.read() + Duration.ofSeconds(1).toNanos());
    assertThat(env.disarm()).isTrue();
    time.advance(Duration.ofSeconds(5));
    Thread.sleep(60);
    assertThat(cancels).hasValue(0);
    // re-armed for a later phase: the old deadline does not apply to it
    env.arm(time.read() + Duration.ofSeconds(1).toNanos());
    Thread.sleep(60);
    assertThat(cancels).hasValue(0);
    assertThat(env.disarm()).isTrue();
  }

  @Test
  void engineCloseStopsARunningPhase_andSaysSo() {
    PooledEnvironment env = pool.create();
    env.arm(time.read() + Duration.ofMinutes(15).toNanos());
    assertThat(pool.cancelRunning()).isEqualTo(1);
    assertThat(cancels).hasValue(1);
    assertThat(env.disarm()).isFalse();
    assertThat(env.stoppedByClose()).isTrue();
  }
}
