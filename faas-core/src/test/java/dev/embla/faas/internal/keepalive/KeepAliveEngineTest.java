package dev.embla.faas.internal.keepalive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.KeepAlivePolicies;
import dev.embla.faas.KeepAlivePolicy;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.internal.pool.EnvironmentPool;
import dev.embla.faas.testing.FakeRuntime;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keep-alive policies applied by the engine's maintenance on a fake clock: the background maintenance thread is
 * paused, so every pass runs at a simulated time the test chose.
 */
class KeepAliveEngineTest {

  private static final Duration STEP = Duration.ofSeconds(30);

  @TempDir Path dir;
  final FakeTicker time = new FakeTicker();
  final FakeRuntime runtime = new FakeRuntime();
  LocalEngine engine;

  private void start(KeepAlivePolicy policy) throws Exception {
    engine = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(runtime)
        .keepAlivePolicy(policy).workDirectory(dir.resolve("work")).build();
    engine.pauseBackgroundMaintenance();
    Path code = Files.createDirectories(dir.resolve("code"));
    Files.writeString(code.resolve("index.txt"), "v1");
    engine.createFunction(FunctionConfig.builder("timer").runtime("fake").handler("echo").build(),
        FunctionCode.fromDirectory(code));
  }

  @AfterEach
  void close() {
    if (engine != null) {
      engine.close();
    }
  }

  private EnvironmentPool pool() {
    return engine.poolOf("timer");
  }

  /** Moves the clock in steps, running a maintenance pass at each. */
  private void idleFor(Duration d) {
    for (Duration left = d; !left.isZero(); left = left.minus(STEP)) {
      time.advance(STEP);
      engine.runMaintenance();
    }
  }

  @Test
  void fixedPolicy_keepsIdleEnvironmentForItsKeepAliveOnly() throws Exception {
    start(KeepAlivePolicies.fixed(Duration.ofMinutes(5)));
    assertThat(engine.invoke("timer", "1").isColdStart()).isTrue();
    time.advance(Duration.ofMinutes(5).minusNanos(1));
    assertThat(engine.runMaintenance()).isZero();
    assertThat(pool().idleCount()).isEqualTo(1);
    assertThat(engine.invoke("timer", "2").isColdStart()).isFalse();
    time.advance(Duration.ofMinutes(5));
    assertThat(engine.runMaintenance()).isEqualTo(1);
    assertThat(pool().idleCount()).isZero();
    assertThat(engine.invoke("timer", "3").isColdStart()).isTrue();
  }

  @Test
  void adaptive_periodicFunctionIsPreWarmedBeforeEachArrivalOnceLearned() throws Exception {
    start(KeepAlivePolicies.adaptive());
    Duration period = Duration.ofMinutes(20); // longer than Lambda's 10 minutes: every call would be cold
    List<Boolean> cold = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      cold.add(engine.invoke("timer", "{}").isColdStart());
      idleFor(period);
    }
    // Learning: the first 10 idle times are seen at arrivals 2..11, and until then it is a 10-minute keep-alive.
    assertThat(cold.subList(0, 11)).containsOnly(true);
    assertThat(cold.subList(11, 24)).containsOnly(false);

    // After an arrival the environment is let go; it comes back at 18 min (20 less 10%) and waits for the call.
    assertThat(engine.invoke("timer", "{}").isColdStart()).isFalse();
    int created = runtime.environments.size();
    idleFor(Duration.ofMinutes(1));
    assertThat(pool().idleCount()).isZero();
    idleFor(Duration.ofMinutes(17));
    assertThat(pool().idleCount()).isZero();
    assertThat(runtime.environments).hasSize(created);
    idleFor(STEP); // the first pass 18 minutes after the pass that saw the call
    assertThat(pool().idleCount()).isEqualTo(1);
    assertThat(runtime.environments).hasSize(created + 1);
    assertThat(runtime.environments.stream().skip(created).findFirst().orElseThrow().inits).hasValue(1);
  }

  @Test
  void adaptive_preWarmedEnvironmentIsLetGoAfterItsWindowWhenNoCallCame() throws Exception {
    start(KeepAlivePolicies.adaptive());
    for (int i = 0; i < 12; i++) {
      engine.invoke("timer", "{}");
      idleFor(Duration.ofMinutes(20));
    }
    engine.invoke("timer", "{}");
    idleFor(Duration.ofMinutes(18).plusSeconds(30));
    assertThat(pool().idleCount()).isEqualTo(1);
    // the window ends at the upper edge of bin 20 plus 10%, 23.1 minutes after the pass that saw the call: the pass
    // at 23 minutes keeps the environment, the one at 23.5 lets it go
    idleFor(Duration.ofMinutes(5));
    assertThat(pool().idleCount()).isEqualTo(1);
    idleFor(STEP);
    assertThat(pool().idleCount()).isZero();
    assertThat(engine.invoke("timer", "{}").isColdStart()).isTrue();
  }

  @Test
  void adaptive_beforeEnoughSamplesBehavesAsTenMinuteKeepAlive() throws Exception {
    start(KeepAlivePolicies.adaptive());
    for (int i = 0; i < 5; i++) {
      engine.invoke("timer", "{}");
      idleFor(Duration.ofMinutes(20));
    }
    engine.invoke("timer", "{}");
    int created = runtime.environments.size();
    time.advance(Duration.ofMinutes(10).minusNanos(1));
    engine.runMaintenance();
    assertThat(pool().idleCount()).isEqualTo(1);
    time.advance(Duration.ofNanos(1));
    engine.runMaintenance();
    assertThat(pool().idleCount()).isZero();
    idleFor(Duration.ofMinutes(30));
    assertThat(runtime.environments).hasSize(created); // no pre-warm without a representative histogram
  }

  @Test
  void adaptive_learningSurvivesACodeUpdate() throws Exception {
    start(KeepAlivePolicies.adaptive());
    for (int i = 0; i < 12; i++) {
      engine.invoke("timer", "{}");
      idleFor(Duration.ofMinutes(20));
    }
    Path v2 = Files.createDirectories(dir.resolve("code2"));
    Files.writeString(v2.resolve("index.txt"), "v2");
    engine.updateFunctionCode("timer", FunctionCode.fromDirectory(v2));
    engine.invoke("timer", "{}"); // cold: a new revision has no environment
    idleFor(Duration.ofMinutes(20));
    assertThat(engine.invoke("timer", "{}").isColdStart()).isFalse();
  }

  @Test
  void builder_keepAliveAndPolicyAreExclusive() {
    assertThatThrownBy(() -> FaasEngine.builder().keepAlive(Duration.ofMinutes(1))
        .keepAlivePolicy(KeepAlivePolicies.adaptive()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("keepAlive was already set to PT1M");
    assertThatThrownBy(() -> FaasEngine.builder().keepAlivePolicy(KeepAlivePolicies.adaptive())
        .keepAlive(Duration.ofMinutes(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("keepAlivePolicy was already set to adaptive");
  }

  @Test
  void policyFailure_fallsBackToTenMinutesAndIsLoggedOnce() throws Exception {
    KeepAlivePolicy broken = name -> new KeepAlivePolicy.Estimator() {
      @Override
      public void recordIdleTime(Duration idleTime) {}

      @Override
      public KeepAlivePolicy.Window window() {
        throw new IllegalStateException("policy bug");
      }
    };
    start(broken);
    try (LogCapture log = LogCapture.of(KeepAliveController.class.getName())) {
      engine.invoke("timer", "{}");
      idleFor(Duration.ofMinutes(9).plusSeconds(30));
      assertThat(pool().idleCount()).isEqualTo(1);
      idleFor(STEP);
      assertThat(pool().idleCount()).isZero();
      assertThat(log.lines()).singleElement().satisfies(l -> assertThat(l.message())
          .startsWith("function timer: keep-alive policy").contains("failed; keeping idle environments for PT10M"));
    }
  }
}
