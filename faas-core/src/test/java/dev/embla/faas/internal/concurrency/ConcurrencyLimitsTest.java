package dev.embla.faas.internal.concurrency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionMetrics;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.TooManyRequestsException;
import dev.embla.faas.TooManyRequestsException.Reason;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeRuntime;
import dev.embla.faas.testing.FakeRuntime.FakeEnvironment;
import dev.embla.faas.testing.FakeTicker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine-wide limit, reserved concurrency, the unreserved floor, the memory budget and throttling. */
class ConcurrencyLimitsTest {

  @TempDir Path dir;
  final FakeTicker time = new FakeTicker();
  final FakeRuntime runtime = new FakeRuntime();
  LocalEngine engine;

  /** An engine with a memory budget that never binds, unless the test is about it. */
  private LocalEngine engine(UnaryOperator<FaasEngine.Builder> settings) throws Exception {
    return engine(1 << 20, settings);
  }

  private LocalEngine engine(long memoryBudgetMb, UnaryOperator<FaasEngine.Builder> settings) throws Exception {
    Files.createDirectories(dir.resolve("code"));
    engine = (LocalEngine) settings.apply(FaasEngine.builder().environmentMemoryBudgetMb(memoryBudgetMb).ticker(time).clock(time).addRuntime(runtime)
        .shutdownGracePeriod(Duration.ofSeconds(5)).workDirectory(dir.resolve("work"))).build();
    return engine;
  }

  private void create(String name, String handler, int memoryMb) {
    engine.createFunction(FunctionConfig.builder(name).runtime("fake").handler(handler).memorySizeMb(memoryMb).build(),
        FunctionCode.fromDirectory(dir.resolve("code")));
  }

  @AfterEach
  void tearDown() {
    runtime.gate.countDown();
    if (engine != null) {
      engine.close();
    }
  }

  @Test
  void engineLimit_throttlesAtOnceNamingTheLimit_andNeverRunsMoreThanIt() throws Exception {
    engine(b -> b.concurrencyLimit(4));
    create("block", "block", 128);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(4);
    try (Load load = new Load().add(engine, "block", 16).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      // The twelve over the limit return while the four admitted ones still hold their environments.
      Await.until("12 throttled", () -> load.finished() == 12);
      assertThat(runtime.activeInvocations).hasValue(4);
      runtime.gate.countDown();
      List<TooManyRequestsException> throttles = load.throttles();
      assertThat(throttles).hasSize(12).allSatisfy(e -> {
        assertThat(e.reason()).isEqualTo(Reason.CONCURRENT_INVOCATION_LIMIT_EXCEEDED);
        assertThat(e.reason().code()).isEqualTo("ConcurrentInvocationLimitExceeded");
        assertThat(e.getMessage()).contains("'block'", "unreserved concurrency of 4", "concurrency limit 4",
            "ConcurrentInvocationLimitExceeded");
      });
      assertThat(load.results()).hasSize(4).allSatisfy(r -> assertThat(r.isError()).isFalse());
    }
    assertThat(runtime.maxActiveInvocations).hasValue(4);
    assertThat(runtime.environments).hasSize(4); // throttled calls never created an environment
    assertThat(engine.getFunctionMetrics("block").throttles()).isEqualTo(12);
  }

  @Test
  void engineLimit_holdsUnderSustainedContention_recordedMaximum() throws Exception {
    engine(b -> b.concurrencyLimit(3));
    create("a", "brief", 128);
    create("b", "brief", 128);
    int threads = 8;
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger throttled = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      String fn = t % 2 == 0 ? "a" : "b";
      done.add(pool.submit(() -> {
        go.await();
        for (int i = 0; i < 2_000; i++) {
          try {
            engine.invoke(fn, "1");
            ok.incrementAndGet();
          } catch (TooManyRequestsException e) {
            throttled.incrementAndGet();
          }
        }
        return null;
      }));
    }
    go.countDown();
    for (Future<?> f : done) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(runtime.maxActiveInvocations.get()).isBetween(1, 3);
    assertThat(ok.get() + throttled.get()).isEqualTo(threads * 2_000);
    assertThat(ok.get()).isPositive();
    // Every permit came back: the full limit is available again.
    runtime.gate = new CountDownLatch(1);
    create("c", "block", 128);
    runtime.started = new CountDownLatch(3);
    try (Load load = new Load().add(engine, "c", 3).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      runtime.gate.countDown();
      assertThat(load.results()).hasSize(3);
    }
  }

  @Test
  void reserved_guaranteesItsSlotsWhileOthersSaturateTheRest_andCapsTheFunction() throws Exception {
    engine(b -> b.concurrencyLimit(10).unreservedConcurrencyFloor(2));
    create("busy", "block", 128);
    create("vip", "block", 128);
    engine.putFunctionConcurrency("vip", 3);
    assertThat(engine.getFunctionConcurrency("vip")).isEqualTo(OptionalInt.of(3));
    assertThat(engine.getFunctionConcurrency("busy")).isEmpty();
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(7 + 3);
    try (Load others = new Load().add(engine, "busy", 9).go();
        Load vip = new Load()) {
      Await.until("busy saturated the unreserved pool", () -> others.finished() == 2);
      vip.add(engine, "vip", 5).go();
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      Await.until("vip's two over its reservation throttled", () -> vip.finished() == 2);
      runtime.gate.countDown();
      assertThat(others.throttles()).hasSize(2)
          .allSatisfy(e -> assertThat(e.reason()).isEqualTo(Reason.CONCURRENT_INVOCATION_LIMIT_EXCEEDED))
          .allSatisfy(e -> assertThat(e.getMessage()).contains("unreserved concurrency of 7", "3 set aside"));
      assertThat(vip.throttles()).hasSize(2).allSatisfy(e -> {
        assertThat(e.reason()).isEqualTo(Reason.RESERVED_FUNCTION_CONCURRENT_INVOCATION_LIMIT_EXCEEDED);
        assertThat(e.getMessage()).contains("'vip'", "reserved concurrency of 3",
            "ReservedFunctionConcurrentInvocationLimitExceeded");
      });
      assertThat(vip.results()).hasSize(3);
      assertThat(others.results()).hasSize(7);
    }
    assertThat(runtime.maxActiveInvocations).hasValue(10);
  }

  @Test
  void reserved_zeroStopsTheFunction_andDeletingTheReservationRestoresIt() throws Exception {
    engine(b -> b);
    create("off", "echo", 128);
    engine.putFunctionConcurrency("off", 0);
    assertThatThrownBy(() -> engine.invoke("off", "1")).isInstanceOf(TooManyRequestsException.class)
        .hasMessageContaining("reserved concurrency of 0");
    engine.deleteFunctionConcurrency("off");
    assertThat(engine.getFunctionConcurrency("off")).isEmpty();
    assertThat(engine.invoke("off", "1").payloadAsString()).isEqualTo("1");
  }

  @Test
  void reserved_validatedAgainstTheFloor_withTheFiguresInTheMessage() throws Exception {
    engine(b -> b.concurrencyLimit(10).unreservedConcurrencyFloor(2));
    create("a", "echo", 128);
    create("b", "echo", 128);
    assertThatThrownBy(() -> engine.putFunctionConcurrency("a", 9)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("reserved concurrency 9 for function 'a' would leave 1 of the engine's concurrency limit 10"
            + " unreserved, below its floor of 2 (other functions set aside 0); at most 8 can be set aside for it");
    engine.putFunctionConcurrency("a", 8);
    assertThatThrownBy(() -> engine.putFunctionConcurrency("b", 1)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("other functions set aside 8").hasMessageContaining("at most 0");
    engine.putFunctionConcurrency("a", 5); // lowering is always allowed
    engine.putFunctionConcurrency("b", 3);
    assertThatThrownBy(() -> engine.putFunctionConcurrency("a", -1)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("reservedConcurrentExecutions must be 0 or more, was -1");
    assertThatThrownBy(() -> engine.putFunctionConcurrency("nope", 1)).isInstanceOf(FunctionNotFoundException.class);
    // Deleting a function gives its reservation back.
    engine.deleteFunction("a");
    create("a", "echo", 128);
    assertThat(engine.getFunctionConcurrency("a")).isEmpty();
    engine.putFunctionConcurrency("a", 5);
  }

  @Test
  void floor_defaultsToLambdas100_clampedToATenthOfSmallLimits_andMayNotExceedTheLimit() throws Exception {
    assertThat(ConcurrencySettings.of(null, null, 1L, null)).extracting(ConcurrencySettings::limit,
        ConcurrencySettings::unreservedFloor).containsExactly(1000, 100);
    assertThat(ConcurrencySettings.of(10, null, 1L, null).unreservedFloor()).isEqualTo(1);
    assertThat(ConcurrencySettings.of(3, null, 1L, null).unreservedFloor()).isEqualTo(1);
    assertThat(ConcurrencySettings.of(5000, null, 1L, null).unreservedFloor()).isEqualTo(100);
    assertThat(ConcurrencySettings.of(null, null, null, 0.25).memoryBudgetMb())
        .isEqualTo((long) (Runtime.getRuntime().maxMemory() * 0.25 / (1024 * 1024)));
    assertThatThrownBy(() -> FaasEngine.builder().concurrencyLimit(10).unreservedConcurrencyFloor(11).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unreservedConcurrencyFloor must be at most concurrencyLimit 10, was 11");
    assertThatThrownBy(() -> FaasEngine.builder().concurrencyLimit(0))
        .hasMessage("concurrencyLimit must be positive, was 0");
    assertThatThrownBy(() -> FaasEngine.builder().environmentMemoryBudgetMb(100).environmentMemoryBudgetShare(0.5))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("environmentMemoryBudget was already set");
    assertThatThrownBy(() -> FaasEngine.builder().environmentMemoryBudgetShare(1.5))
        .hasMessage("environmentMemoryBudgetShare must be in (0, 1], was 1.5");
    engine(b -> b.concurrencyLimit(10));
    create("a", "echo", 128);
    engine.putFunctionConcurrency("a", 9);
    assertThatThrownBy(() -> engine.putFunctionConcurrency("a", 10))
        .hasMessageContaining("below its floor of 1");
  }

  @Test
  void memoryBudget_evictsLeastRecentlyUsedIdleEnvironmentOfAnotherFunction_thenThrottles() throws Exception {
    engine(512, b -> b);
    create("a", "block", 256);
    create("b", "echo", 256);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(2);
    try (Load load = new Load().add(engine, "a", 2).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      // Both of a's environments are busy: b's cold start does not fit and nothing idle can go.
      assertThatThrownBy(() -> engine.invoke("b", "1")).isInstanceOfSatisfying(TooManyRequestsException.class, e -> {
        assertThat(e.reason()).isEqualTo(Reason.ENVIRONMENT_MEMORY_BUDGET_EXCEEDED);
        assertThat(e.getMessage()).contains("'b' needs 256 MB", "512 MB of the engine's environment memory budget"
            + " of 512 MB", "EnvironmentMemoryBudgetExceeded");
      });
      runtime.gate.countDown();
      assertThat(load.results()).hasSize(2);
    }
    List<FakeEnvironment> aEnvs = List.copyOf(runtime.environments);
    assertThat(engine.memoryBudget().usedMb()).isEqualTo(512);
    // Use one of a's environments again, so that the other is the least recently used.
    time.advance(Duration.ofSeconds(1));
    engine.invoke("a", "1");
    FakeEnvironment warm = aEnvs.stream().filter(e -> e.invokes.get() == 2).findFirst().orElseThrow();
    FakeEnvironment cold = aEnvs.stream().filter(e -> e != warm).findFirst().orElseThrow();

    assertThat(engine.invoke("b", "\"b\"").payloadAsString()).isEqualTo("\"b\"");

    Await.until("a's least recently used environment shut down", () -> cold.shutdowns.get() == 1);
    assertThat(warm.shutdowns).hasValue(0);
    assertThat(engine.memoryBudget().usedMb()).isEqualTo(512);
    assertThat(engine.getFunctionMetrics("b").throttles()).isEqualTo(1);
    assertThat(engine.getFunctionMetrics("a").environments()).isEqualTo(1);
  }

  @Test
  void memoryBudget_neverEvictsProvisionedEnvironments() throws Exception {
    engine(384, b -> b);
    create("p", "echo", 128);
    create("a", "echo", 128);
    create("b", "echo", 128);
    create("c", "echo", 128);
    engine.putProvisionedConcurrency("p", 1);
    Await.until("provisioned", () -> engine.getProvisionedConcurrency("p").orElseThrow().status()
        == dev.embla.faas.ProvisionedConcurrencyConfig.Status.READY);
    engine.invoke("a", "1");
    time.advance(Duration.ofSeconds(1));
    engine.invoke("b", "1"); // the budget is full: p's provisioned environment and a's and b's idle ones
    assertThat(engine.memoryBudget().usedMb()).isEqualTo(384);
    time.advance(Duration.ofSeconds(1));
    engine.invoke("c", "1"); // evicts a's (least recently used), never p's even though p's is older
    Await.until("a's environment shut down", () -> engine.getFunctionMetrics("a").environments() == 0);
    assertThat(engine.getFunctionMetrics("p").environments()).isEqualTo(1);
    assertThat(engine.getFunctionMetrics("b").environments()).isEqualTo(1);
    assertThat(engine.getProvisionedConcurrency("p").orElseThrow().allocated()).isEqualTo(1);
  }

  @Test
  void memoryBudget_evictsAnIdleEnvironmentOfAnotherVersionOfTheSameFunction() throws Exception {
    engine(128, b -> b);
    create("a", "echo", 128);
    engine.publishVersion("a");
    assertThat(engine.invoke("a:1", "1").isColdStart()).isTrue();
    FakeEnvironment versionOne = runtime.environments.peek();
    assertThat(engine.memoryBudget().usedMb()).isEqualTo(128);

    // $LATEST has its own pool: version 1's idle environment cannot serve it, so it makes room rather than throttle
    InvocationResult latest = engine.invoke("a", "\"latest\"");

    assertThat(latest.payloadAsString()).isEqualTo("\"latest\"");
    assertThat(latest.executedVersion()).isEqualTo("$LATEST");
    Await.until("version 1's environment shut down", () -> versionOne.shutdowns.get() == 1);
    assertThat(engine.memoryBudget().usedMb()).isEqualTo(128);
    assertThat(engine.getFunctionMetrics("a").throttles()).isZero();
  }

  @Test
  void memoryBudget_releasedWhenEnvironmentsShutDown() throws Exception {
    engine(1024, b -> b.keepAlive(Duration.ofMinutes(1)));
    create("a", "echo", 512);
    engine.invoke("a", "1");
    assertThat(engine.memoryBudget().usedMb()).isEqualTo(512);
    time.advance(Duration.ofMinutes(2));
    assertThat(engine.runMaintenance()).isEqualTo(1);
    assertThat(engine.memoryBudget().usedMb()).isZero();
    engine.putFunctionConcurrency("a", 1);
    engine.updateFunctionConfiguration(FunctionConfig.builder("a").runtime("fake").handler("echo")
        .memorySizeMb(1024).build());
    engine.invoke("a", "1"); // the new revision's environment reserves the new size
    assertThat(engine.memoryBudget().usedMb()).isEqualTo(1024);
    assertThat(engine.getFunctionConcurrency("a")).isEqualTo(OptionalInt.of(1)); // kept across revisions
  }

  @Test
  void metrics_countColdStartsThrottlesAndWhatRunsNow() throws Exception {
    engine(b -> b.concurrencyLimit(2));
    create("m", "block", 128);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(2);
    try (Load load = new Load().add(engine, "m", 3).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      Await.until("one throttled", () -> load.finished() == 1);
      FunctionMetrics busy = engine.getFunctionMetrics("m");
      assertThat(busy.concurrentExecutions()).isEqualTo(2);
      assertThat(busy.environments()).isEqualTo(2);
      assertThat(busy.throttles()).isEqualTo(1);
      assertThat(busy.coldStarts()).isEqualTo(2);
      assertThat(busy.provisionedUtilization()).isZero();
      runtime.gate.countDown();
      load.outcomes();
    }
    engine.invoke("m", "1");
    FunctionMetrics after = engine.getFunctionMetrics("m");
    assertThat(after.concurrentExecutions()).isZero();
    assertThat(after.coldStarts()).isEqualTo(2);
    InvocationResult warm = engine.invoke("m", "1");
    assertThat(warm.isColdStart()).isFalse();
  }
}
