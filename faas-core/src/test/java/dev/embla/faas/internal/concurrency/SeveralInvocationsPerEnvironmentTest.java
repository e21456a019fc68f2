package dev.embla.faas.internal.concurrency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.TooManyRequestsException.Reason;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeRuntime;
import dev.embla.faas.testing.FakeRuntime.FakeEnvironment;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.JavaFunctions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code maxConcurrencyPerEnvironment}: several invocations in one environment, counted by every limit. */
class SeveralInvocationsPerEnvironmentTest {

  @TempDir Path dir;
  final FakeTicker time = new FakeTicker();
  final FakeRuntime runtime = new FakeRuntime();
  final FakeRuntime singleThreaded = new FakeRuntime("single", 1);
  LocalEngine engine;

  private void engine(int limit, long memoryBudgetMb) throws Exception {
    Files.createDirectories(dir.resolve("code"));
    engine = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(runtime)
        .addRuntime(singleThreaded).shutdownGracePeriod(Duration.ofSeconds(5)).concurrencyLimit(limit)
        .environmentMemoryBudgetMb(memoryBudgetMb).workDirectory(dir.resolve("work")).build();
  }

  private void create(String name, String runtimeName, String handler, int perEnvironment) {
    engine.createFunction(FunctionConfig.builder(name).runtime(runtimeName).handler(handler)
        .maxConcurrencyPerEnvironment(perEnvironment).timeout(Duration.ofSeconds(1)).build(),
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
  void invocationsShareAnEnvironmentUpToItsWidth_andInitRunsOncePerEnvironment() throws Exception {
    engine(100, 1 << 20);
    create("wide", "fake", "block", 4);
    // Environments made up front: a burst that arrives as an Init ends can make one environment more than needed (see
    // docs/ARCHITECTURE.md, "lanes"), and these tests count environments exactly.
    assertThat(engine.prewarm("wide", 2)).isEqualTo(2);
    assertThat(engine.poolOf("wide").idleCount()).isEqualTo(8); // four lanes each
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(8);
    try (Load load = new Load().add(engine, "wide", 8).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(runtime.environments).hasSize(2).allSatisfy(e -> assertThat(e.inits).hasValue(1));
      assertThat(engine.getFunctionMetrics("wide").environments()).isEqualTo(2);
      assertThat(engine.getFunctionMetrics("wide").concurrentExecutions()).isEqualTo(8);
      runtime.gate.countDown();
      assertThat(load.results()).hasSize(8).allSatisfy(r -> assertThat(r.isError()).isFalse());
    }
    assertThat(runtime.maxConcurrentPerEnvironment).hasValue(4);
    assertThat(engine.invoke("wide", "1").isColdStart()).isFalse();
  }

  @Test
  void concurrencyLimitCountsInvocations_notEnvironments() throws Exception {
    engine(6, 1 << 20);
    create("wide", "fake", "block", 4);
    // Environments made up front: a burst that arrives as an Init ends can make one environment more than needed (see
    // docs/ARCHITECTURE.md, "lanes"), and these tests count environments exactly.
    assertThat(engine.prewarm("wide", 2)).isEqualTo(2);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(6);
    try (Load load = new Load().add(engine, "wide", 8).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      Await.until("two throttled", () -> load.finished() == 2);
      runtime.gate.countDown();
      assertThat(load.throttles()).hasSize(2)
          .allSatisfy(e -> assertThat(e.reason()).isEqualTo(Reason.CONCURRENT_INVOCATION_LIMIT_EXCEEDED));
      assertThat(load.results()).hasSize(6);
    }
    assertThat(runtime.maxActiveInvocations).hasValue(6);
    assertThat(runtime.environments).hasSize(2);
  }

  @Test
  void memoryBudgetCountsEnvironments_notInvocations() throws Exception {
    engine(100, 256);
    create("wide", "fake", "block", 4);
    // Environments made up front: a burst that arrives as an Init ends can make one environment more than needed (see
    // docs/ARCHITECTURE.md, "lanes"), and these tests count environments exactly.
    assertThat(engine.prewarm("wide", 2)).isEqualTo(2);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(8);
    try (Load load = new Load().add(engine, "wide", 8).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(engine.memoryBudget().usedMb()).isEqualTo(256); // two environments of 128 MB for 8 invocations
      try (Load ninth = new Load().add(engine, "wide", 1).go()) {
        assertThat(ninth.throttles()).singleElement()
            .satisfies(e -> assertThat(e.reason()).isEqualTo(Reason.ENVIRONMENT_MEMORY_BUDGET_EXCEEDED));
      }
      runtime.gate.countDown();
      assertThat(load.results()).hasSize(8);
    }
  }

  @Test
  void provisionedConcurrencyCountsEnvironments_eachOpeningAllItsLanes() throws Exception {
    engine(100, 1 << 20);
    create("wide", "fake", "block", 2);
    engine.putProvisionedConcurrency("wide", 2);
    Await.until("ready", () -> engine.getProvisionedConcurrency("wide").orElseThrow().status()
        == dev.embla.faas.ProvisionedConcurrencyConfig.Status.READY);
    assertThat(runtime.environments).hasSize(2);
    assertThat(engine.poolOf("wide").idleCount()).isEqualTo(4); // two environments, two lanes each
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(4);
    try (Load load = new Load().add(engine, "wide", 4).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(engine.getFunctionMetrics("wide").provisionedInUse()).isEqualTo(4);
      runtime.gate.countDown();
      assertThat(load.results()).hasSize(4).allSatisfy(r -> assertThat(r.isColdStart()).isFalse());
    }
    assertThat(runtime.environments).hasSize(2);
    assertThat(engine.getFunctionMetrics("wide").coldStarts()).isZero();
  }

  /** Runs each task on a thread of its own (the common pool has one thread on two cores). */
  private static final java.util.concurrent.Executor OWN_THREAD = task -> Thread.ofVirtual().start(task);

  /** Starts a call whose new environment stays in Init until the test counts {@code runtime.initGate} down. */
  private CompletableFuture<InvocationResult> callStuckInInit(String name) throws Exception {
    runtime.initGate = new CountDownLatch(1);
    runtime.initStarted = new CountDownLatch(1);
    CompletableFuture<InvocationResult> call = CompletableFuture.supplyAsync(() -> engine.invoke(name, "1"), OWN_THREAD);
    assertThat(runtime.initStarted.await(10, TimeUnit.SECONDS)).isTrue();
    return call;
  }

  @Test
  void provisioningAndPrewarm_neverJoinAnEnvironmentStillInInit_eachInitialisesItsOwn() throws Exception {
    engine(100, 1 << 20);
    create("wide", "fake", "slowinit", 4);
    CompletableFuture<InvocationResult> call = callStuckInInit("wide");
    engine.putProvisionedConcurrency("wide", 1);
    CompletableFuture<Integer> prewarmed = CompletableFuture.supplyAsync(() -> engine.prewarm("wide", 1), OWN_THREAD);
    // Joining the call's environment would wait for its Init and then run Init on it again; each makes its own.
    Await.until("three environments in Init", Duration.ofSeconds(5), () -> runtime.environments.size() == 3);
    runtime.initGate.countDown();
    assertThat(call.get(10, TimeUnit.SECONDS).isError()).isFalse();
    assertThat(prewarmed.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    Await.until("ready", () -> engine.getProvisionedConcurrency("wide").orElseThrow().status()
        == dev.embla.faas.ProvisionedConcurrencyConfig.Status.READY);
    assertThat(runtime.environments).hasSize(3).allSatisfy(e -> assertThat(e.inits).hasValue(1));
    assertThat(engine.poolOf("wide").idleCount()).isEqualTo(12); // three environments, four lanes each
    assertThat(engine.getProvisionedConcurrency("wide").orElseThrow().allocated()).isEqualTo(1);
  }

  @Test
  void singleThreadedRuntimeRefusesMoreThanOne_atCreateAndUpdate() throws Exception {
    engine(100, 1 << 20);
    assertThatThrownBy(() -> create("js", "single", "echo", 2)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("maxConcurrencyPerEnvironment of function 'js' must be at most 1 for runtime 'single' (it runs"
            + " one invocation per environment), was 2");
    create("js", "single", "echo", 1);
    assertThatThrownBy(() -> engine.updateFunctionConfiguration(FunctionConfig.builder("js").runtime("single")
        .handler("echo").maxConcurrencyPerEnvironment(4).build()))
        .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("must be at most 1");
    assertThat(engine.getFunction("js").config().maxConcurrencyPerEnvironment()).isEqualTo(1);
    assertThatThrownBy(() -> FunctionConfig.builder("x").maxConcurrencyPerEnvironment(65))
        .isInstanceOf(InvalidConfigurationException.class).hasMessage("maxConcurrencyPerEnvironment must be 1..64, was 65");
    assertThatThrownBy(() -> FunctionConfig.builder("x").maxConcurrencyPerEnvironment(0))
        .hasMessage("maxConcurrencyPerEnvironment must be 1..64, was 0");
  }

  @Test
  void aTimeoutInOneLane_discardsTheSharedEnvironment_andTellsTheOtherInvocationWhy() throws Exception {
    engine(100, 1 << 20);
    create("spin", "fake", "spin", 2);
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
    CompletableFuture<InvocationResult> first =
        CompletableFuture.supplyAsync(() -> engine.invoke("spin", "1"), threads);
    Await.until("first invocation running", () -> !runtime.environments.isEmpty()
        && runtime.environments.peek().invokes.get() == 1);
    time.advance(Duration.ofMillis(600));
    CompletableFuture<InvocationResult> second =
        CompletableFuture.supplyAsync(() -> engine.invoke("spin", "2"), threads);
    Await.until("second invocation in the same environment", () -> runtime.maxConcurrentPerEnvironment.get() == 2);
    time.advance(Duration.ofMillis(500)); // past the first one's deadline, not the second's

    FunctionError timedOut = first.get(10, TimeUnit.SECONDS).error().orElseThrow();
    assertThat(timedOut.kind()).isEqualTo(FunctionError.Kind.TIMEOUT);
    FunctionError sibling = second.get(10, TimeUnit.SECONDS).error().orElseThrow();
    assertThat(sibling.kind()).isEqualTo(FunctionError.Kind.RUNTIME);
    assertThat(sibling.errorType()).isEqualTo("Runtime.EnvironmentCancelled");
    assertThat(sibling.errorMessage()).contains("another invocation in it timed out");

    FakeEnvironment shared = runtime.environments.peek();
    Await.until("shared environment shut down once", () -> shared.shutdowns.get() == 1);
    assertThat(runtime.environments).hasSize(1);
    assertThat(shared.invokes).hasValue(2);
    assertThat(engine.memoryBudget().usedMb()).isZero();
    assertThat(engine.poolOf("spin").size()).isZero();
    // The next invocation starts cold in a new environment (and times out like the first, once time moves on).
    CompletableFuture<InvocationResult> third =
        CompletableFuture.supplyAsync(() -> engine.invoke("spin", "3"), threads);
    // Running, so its deadline is armed before time moves (else it would spin on a clock that never moves again).
    Await.until("a new environment running the third invocation", () -> runtime.environments.stream()
        .filter(e -> e != shared).anyMatch(e -> e.invokes.get() == 1));
    time.advance(Duration.ofSeconds(2));
    assertThat(third.get(10, TimeUnit.SECONDS).isColdStart()).isTrue();
    threads.shutdown();
  }

  @Test
  void idleLanesExpireOneByOne_andTheEnvironmentShutsDownWithItsLast() throws Exception {
    engine(100, 1 << 20);
    create("wide", "fake", "echo", 3);
    engine.invoke("wide", "1"); // Init, then two more lanes open idle
    assertThat(engine.poolOf("wide").idleCount()).isEqualTo(3);
    assertThat(engine.getFunctionMetrics("wide").environments()).isEqualTo(1);
    time.advance(Duration.ofMinutes(11));
    assertThat(engine.runMaintenance()).isEqualTo(3);
    FakeEnvironment env = runtime.environments.peek();
    Await.until("environment shut down", () -> env.shutdowns.get() == 1);
    assertThat(engine.memoryBudget().usedMb()).isZero();
  }

  @Test
  void javaFunction_runsConcurrentInvocationsInOneEnvironment() throws Exception {
    engine(100, 1 << 20);
    engine.createFunction(FunctionConfig.builder("meet").runtime("java21").handler("demo.Meet::handle")
        .maxConcurrencyPerEnvironment(4).build(), FunctionCode.fromBytes(JavaFunctions.zipOf("demo.Meet", """
            package demo;
            import java.util.concurrent.*;
            import java.util.concurrent.atomic.AtomicInteger;
            public class Meet {
              // Statics are per environment: four invocations meet here only if they share one.
              static final CountDownLatch ALL = new CountDownLatch(4);
              static final AtomicInteger INSIDE = new AtomicInteger();
              public String handle(String s) throws Exception {
                int now = INSIDE.incrementAndGet();
                ALL.countDown();
                boolean met = ALL.await(10, TimeUnit.SECONDS);
                INSIDE.decrementAndGet();
                return met + ":" + Thread.currentThread().getContextClassLoader().getClass().getSimpleName();
              }
            }""")));
    // Environments made up front: a burst that arrives as an Init ends can make one environment more than needed (see
    // docs/ARCHITECTURE.md, "lanes"), and these tests count environments exactly.
    assertThat(engine.prewarm("meet", 1)).isEqualTo(1);
    List<CompletableFuture<InvocationResult>> calls = java.util.stream.IntStream.range(0, 4)
        .mapToObj(i -> CompletableFuture.supplyAsync(() -> engine.invoke("meet", "\"x\""),
            java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()))
        .toList();
    for (CompletableFuture<InvocationResult> call : calls) {
      assertThat(call.get(20, TimeUnit.SECONDS).payloadAsString()).isEqualTo("\"true:FunctionClassLoader\"");
    }
    assertThat(engine.getFunctionMetrics("meet").environments()).isEqualTo(1);
    assertThat(engine.getFunctionMetrics("meet").coldStarts()).isZero(); // its one Init ran ahead of the calls
    // The callers' threads got their own context loaders back.
    assertThat(Thread.currentThread().getContextClassLoader().getClass().getSimpleName())
        .isNotEqualTo("FunctionClassLoader");
  }
}
