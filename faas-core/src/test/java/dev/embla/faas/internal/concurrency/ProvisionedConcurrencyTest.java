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
import dev.embla.faas.ProvisionedConcurrencyConfig;
import dev.embla.faas.ProvisionedConcurrencyConfig.Status;
import dev.embla.faas.ResourceConflictException;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeRuntime;
import dev.embla.faas.testing.FakeRuntime.FakeEnvironment;
import dev.embla.faas.testing.FakeTicker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provisioned concurrency: environments ready before traffic, kept warm, scaled without dropping work. */
class ProvisionedConcurrencyTest {

  @TempDir Path dir;
  final FakeTicker time = new FakeTicker();
  final FakeRuntime runtime = new FakeRuntime();
  LocalEngine engine;

  @BeforeEach
  void setUp() throws Exception {
    Files.createDirectories(dir.resolve("code"));
    engine = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(runtime)
        .keepAlive(Duration.ofMinutes(10)).shutdownGracePeriod(Duration.ofSeconds(5)).concurrencyLimit(20)
        .unreservedConcurrencyFloor(5).environmentMemoryBudgetMb(1 << 20).workDirectory(dir.resolve("work")).build();
  }

  @AfterEach
  void tearDown() {
    runtime.gate.countDown();
    engine.close();
  }

  private void create(String name, String handler) {
    engine.createFunction(FunctionConfig.builder(name).runtime("fake").handler(handler).build(),
        FunctionCode.fromDirectory(dir.resolve("code")));
  }

  private ProvisionedConcurrencyConfig awaitStatus(String name, Status status) {
    Await.until(name + " " + status, () -> engine.getProvisionedConcurrency(name).orElseThrow().status() == status);
    return engine.getProvisionedConcurrency(name).orElseThrow();
  }

  private List<FakeEnvironment> live() {
    return runtime.environments.stream().filter(e -> e.shutdowns.get() == 0).toList();
  }

  /** Function "p" with versions 1 and 2 (different configurations) and an alias "live" at version 1. */
  private void twoVersionsAndAliasLiveAtOne() {
    create("p", "echo");
    engine.publishVersion("p"); // 1
    engine.updateFunctionConfiguration(FunctionConfig.builder("p").runtime("fake").handler("echo")
        .description("second").build());
    engine.publishVersion("p"); // 2
    engine.createAlias("p", "live", "1");
  }

  @Test
  void provisioned_environmentsInitialisedBeforeTheFirstCall_andCallsUpToNNeverStartCold() throws Exception {
    create("p", "block");
    ProvisionedConcurrencyConfig put = engine.putProvisionedConcurrency("p", 3);
    assertThat(put.requested()).isEqualTo(3);
    assertThat(put.qualifier()).isEqualTo("$LATEST");
    ProvisionedConcurrencyConfig ready = awaitStatus("p", Status.READY);
    assertThat(ready.allocated()).isEqualTo(3);
    assertThat(ready.statusReason()).isEmpty();
    assertThat(runtime.environments).hasSize(3).allSatisfy(e -> {
      assertThat(e.inits).hasValue(1);
      assertThat(e.invokes).hasValue(0);
    });

    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(3);
    try (Load load = new Load().add(engine, "p", 3).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      FunctionMetrics busy = engine.getFunctionMetrics("p");
      assertThat(busy.provisionedConcurrency()).isEqualTo(3);
      assertThat(busy.provisionedInUse()).isEqualTo(3);
      assertThat(busy.provisionedUtilization()).isEqualTo(1.0);
      runtime.gate.countDown();
      assertThat(load.results()).hasSize(3).allSatisfy(r -> assertThat(r.isColdStart()).isFalse());
    }
    assertThat(runtime.environments).hasSize(3); // no fourth Init
    assertThat(engine.getFunctionMetrics("p").coldStarts()).isZero();
    assertThat(engine.getFunctionMetrics("p").provisionedUtilization()).isZero();
  }

  @Test
  void provisioned_exemptFromKeepAlive_whileOnDemandEnvironmentsExpire() throws Exception {
    create("p", "block");
    engine.putProvisionedConcurrency("p", 2);
    awaitStatus("p", Status.READY);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(3);
    try (Load load = new Load().add(engine, "p", 3).go()) { // one over: an on-demand environment
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      runtime.gate.countDown();
      assertThat(load.results()).filteredOn(InvocationResult::isColdStart).hasSize(1);
    }
    time.advance(Duration.ofHours(1));
    assertThat(engine.runMaintenance()).isEqualTo(1);
    Await.until("the on-demand environment shut down", () -> live().size() == 2);
    assertThat(live()).allSatisfy(e -> assertThat(e.invokes.get()).isLessThanOrEqualTo(1));
    assertThat(engine.getProvisionedConcurrency("p").orElseThrow().allocated()).isEqualTo(2);
    assertThat(engine.invoke("p", "1").isColdStart()).isFalse();
  }

  @Test
  void scaleDown_midFlight_retiresIdleAtOnceAndBusyAfterTheyFinish_droppingNothing() throws Exception {
    create("p", "block");
    engine.putProvisionedConcurrency("p", 3);
    awaitStatus("p", Status.READY);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(2);
    try (Load load = new Load().add(engine, "p", 2).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      engine.putProvisionedConcurrency("p", 1);
      // The idle one goes now; of the two busy ones, one is retired when its invocation ends.
      Await.until("idle provisioned environment shut down", () -> live().size() == 2);
      assertThat(runtime.environments.stream().filter(e -> e.shutdowns.get() == 1).findFirst().orElseThrow().invokes)
          .hasValue(0);
      runtime.gate.countDown();
      assertThat(load.results()).hasSize(2).allSatisfy(r -> {
        assertThat(r.isError()).isFalse();
        assertThat(r.payloadAsString()).isEqualTo("1");
      });
    }
    Await.until("busy surplus retired after its invocation", () -> live().size() == 1);
    ProvisionedConcurrencyConfig config = awaitStatus("p", Status.READY);
    assertThat(config.requested()).isEqualTo(1);
    assertThat(config.allocated()).isEqualTo(1);
    assertThat(engine.invoke("p", "1").isColdStart()).isFalse();
  }

  @Test
  void scaleUp_midFlight_addsEnvironmentsWhileInvocationsRun() throws Exception {
    create("p", "block");
    engine.putProvisionedConcurrency("p", 1);
    awaitStatus("p", Status.READY);
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(1);
    try (Load load = new Load().add(engine, "p", 1).go()) {
      assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
      engine.putProvisionedConcurrency("p", 3);
      assertThat(awaitStatus("p", Status.READY).allocated()).isEqualTo(3);
      assertThat(load.finished()).isZero(); // still running, untouched
      runtime.gate.countDown();
      assertThat(load.results()).singleElement().satisfies(r -> assertThat(r.isError()).isFalse());
    }
    assertThat(runtime.environments).hasSize(3).allSatisfy(e -> assertThat(e.inits).hasValue(1));
  }

  @Test
  void deleteProvisioned_makesEnvironmentsOrdinary_soKeepAliveShutsThemDown() throws Exception {
    create("p", "echo");
    engine.putProvisionedConcurrency("p", 2);
    awaitStatus("p", Status.READY);
    engine.deleteProvisionedConcurrency("p");
    assertThat(engine.getProvisionedConcurrency("p")).isEmpty();
    Await.until("environments unmarked", () -> engine.poolOf("p").provisionedCount() == 0);
    time.advance(Duration.ofHours(1));
    assertThat(engine.runMaintenance()).isEqualTo(2);
  }

  @Test
  void provisioned_reinitialisedForTheNewRevisionAfterAnUpdate() throws Exception {
    create("p", "echo");
    engine.putProvisionedConcurrency("p", 2);
    awaitStatus("p", Status.READY);
    engine.updateFunctionConfiguration(FunctionConfig.builder("p").runtime("fake").handler("echo")
        .environment("V", "2").build());
    Await.until("new revision provisioned", () -> runtime.environments.stream()
        .filter(e -> "2".equals(e.definition.environment().get("V")) && e.inits.get() == 1).count() == 2);
    assertThat(awaitStatus("p", Status.READY).allocated()).isEqualTo(2);
    assertThat(engine.invoke("p", "1").isColdStart()).isFalse();
  }

  @Test
  void provisioned_lostEnvironmentIsReplacedByMaintenance() throws Exception {
    create("p", "exit"); // every invocation discards its environment
    engine.putProvisionedConcurrency("p", 1);
    awaitStatus("p", Status.READY);
    engine.invoke("p", "1");
    Await.until("discarded", () -> live().isEmpty());
    engine.runMaintenance();
    Await.until("replaced", () -> live().size() == 1 && live().get(0).inits.get() == 1);
    assertThat(awaitStatus("p", Status.READY).allocated()).isEqualTo(1);
  }

  @Test
  void provisioned_initFailureIsReportedAsFailedWithTheReason() throws Exception {
    create("p", "initfail");
    engine.putProvisionedConcurrency("p", 2);
    ProvisionedConcurrencyConfig failed = awaitStatus("p", Status.FAILED);
    assertThat(failed.statusReason()).contains("Init failed", "java.lang.IllegalStateException", "init failed");
    assertThat(failed.allocated()).isZero();
  }

  @Test
  void provisioned_validated_countsAgainstReservedAndTheFloor_andUnknownQualifiersAreNamed() throws Exception {
    create("p", "echo");
    create("q", "echo");
    assertThatThrownBy(() -> engine.putProvisionedConcurrency("p", "1", 1))
        .isInstanceOf(FunctionNotFoundException.class).hasMessageContaining("'1'");
    assertThatThrownBy(() -> engine.putProvisionedConcurrency("p", 0)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("provisionedConcurrentExecutions must be at least 1, was 0");
    assertThatThrownBy(() -> engine.putProvisionedConcurrency("nope", 1)).isInstanceOf(FunctionNotFoundException.class);
    engine.putFunctionConcurrency("p", 2);
    assertThatThrownBy(() -> engine.putProvisionedConcurrency("p", 3)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("provisioned concurrency of function 'p' must be at most its reserved concurrency 2, was 3");
    engine.putProvisionedConcurrency("p", 2);
    assertThatThrownBy(() -> engine.putFunctionConcurrency("p", 1)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("must be at least its provisioned concurrency 2");
    // Without a reservation, provisioned concurrency is set aside from the unreserved pool: 20 - 5 - 2 = 13 left.
    assertThatThrownBy(() -> engine.putProvisionedConcurrency("q", 14))
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("provisioned concurrency 14 for function 'q'").hasMessageContaining("at most 13");
    engine.putProvisionedConcurrency("q", 13);
    assertThat(engine.getProvisionedConcurrency("q", "$LATEST").orElseThrow().requested()).isEqualTo(13);
    assertThat(engine.getProvisionedConcurrency("p")).isPresent();
  }

  @Test
  void provisioned_onAnAlias_provisionsItsVersion_andFollowsTheAliasWhenItMoves() throws Exception {
    twoVersionsAndAliasLiveAtOne();

    engine.putProvisionedConcurrency("p", "live", 2);
    Await.until("live READY", () -> engine.getProvisionedConcurrency("p", "live").orElseThrow().status() == Status.READY);
    assertThat(engine.poolOf("p", "1").provisionedCount()).isEqualTo(2);
    assertThat(engine.poolOf("p", "2").provisionedCount()).isZero();
    assertThat(engine.getProvisionedConcurrency("p", "live").orElseThrow().qualifier()).isEqualTo("live");
    assertThat(engine.getProvisionedConcurrency("p")).isEmpty(); // $LATEST has none of its own
    assertThat(engine.invoke("p:live", "{}").isColdStart()).isFalse();

    // Two qualifiers' figures add up against the engine's limit (20 - floor 5 = 15 to set aside): 2 + 14 = 16.
    assertThatThrownBy(() -> engine.putProvisionedConcurrency("p", "2", 14))
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("provisioned concurrency 16 for function 'p'").hasMessageContaining("at most 15");

    engine.updateAlias("p", dev.embla.faas.AliasConfig.builder("live").functionVersion("2").build());
    engine.runMaintenance();
    Await.until("version 2 provisioned", () -> engine.poolOf("p", "2").provisionedCount() == 2);
    Await.until("version 1 released", () -> engine.poolOf("p", "1").provisionedCount() == 0);
    assertThat(engine.invoke("p:live", "{}").isColdStart()).isFalse();
    assertThat(engine.getFunctionMetrics("p").provisionedConcurrency()).isEqualTo(2);

    engine.deleteProvisionedConcurrency("p", "live");
    Await.until("unmarked", () -> engine.poolOf("p", "2").provisionedCount() == 0);
  }

  @Test
  void deletingAnAliasOrVersion_deletesItsProvisionedConcurrency_andGivesBackWhatItSetAside() throws Exception {
    twoVersionsAndAliasLiveAtOne();
    // The engine's limit is 20 with a floor of 5: 15 can be set aside, and these two take all of it.
    engine.putProvisionedConcurrency("p", "live", 10);
    engine.putProvisionedConcurrency("p", "2", 5);
    Await.until("live READY", () -> engine.getProvisionedConcurrency("p", "live").orElseThrow().status()
        == Status.READY);

    engine.deleteAlias("p", "live");
    Await.until("version 1's environments unmarked", () -> engine.poolOf("p", "1").provisionedCount() == 0);
    time.advance(Duration.ofHours(1));
    assertThat(engine.runMaintenance()).isEqualTo(10); // keep-alive retires what the alias had kept
    Await.until("version 1's environments shut down", () -> engine.poolOf("p", "1").size() == 0);
    engine.putProvisionedConcurrency("p", "2", 15); // the alias's 10 are no longer set aside
    engine.createAlias("p", "live", "1");
    assertThat(engine.getProvisionedConcurrency("p", "live")).isEmpty(); // a new alias starts with none

    engine.deleteFunction("p", "2");
    assertThat(engine.getFunctionMetrics("p").provisionedConcurrency()).isZero();
    engine.putProvisionedConcurrency("p", "live", 15); // nor are version 2's 15
  }

  @Test
  void anAliasAndTheVersionItPointsTo_cannotBothHaveProvisionedConcurrency() throws Exception {
    twoVersionsAndAliasLiveAtOne();
    engine.putProvisionedConcurrency("p", "1", 3);

    assertThatThrownBy(() -> engine.putProvisionedConcurrency("p", "live", 1))
        .isInstanceOf(ResourceConflictException.class)
        .hasMessageContaining("'live' would run version 1").hasMessageContaining("'1' already provisions");
    engine.putProvisionedConcurrency("p", "1", 2); // the same qualifier may change its own figure

    engine.createAlias("p", "next", "2");
    engine.putProvisionedConcurrency("p", "next", 1);
    assertThatThrownBy(() -> engine.updateAlias("p", dev.embla.faas.AliasConfig.builder("next")
        .functionVersion("1").build()))
        .isInstanceOf(ResourceConflictException.class).hasMessageContaining("'next' would run version 1");
    assertThat(engine.getAlias("p", "next").config().functionVersion()).isEqualTo("2");

    engine.runMaintenance();
    Await.until("both READY", () -> engine.getProvisionedConcurrency("p", "1").orElseThrow().status()
        == Status.READY && engine.getProvisionedConcurrency("p", "next").orElseThrow().status() == Status.READY);
    assertThat(engine.poolOf("p", "1").provisionedCount()).isEqualTo(2);
    assertThat(engine.poolOf("p", "2").provisionedCount()).isEqualTo(1);
  }
}
