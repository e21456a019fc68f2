package dev.embla.faas.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.AliasConfig;
import dev.embla.faas.AliasInfo;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.EventSources;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionInfo;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InMemoryQueue;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.ResourceConflictException;
import dev.embla.faas.testing.FakeRuntime;
import dev.embla.faas.testing.FakeRuntime.FakeEnvironment;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.LogCapture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Published versions, aliases and qualified invocations, on a fake runtime. */
class VersionsAndAliasesTest {

  private static final String ARN = "arn:embla:lambda:local:000000000000:function:f";

  @TempDir Path dir;
  FakeTicker time;
  FakeRuntime runtime;
  LocalEngine engine;
  Path code;

  @BeforeEach
  void setUp() throws Exception {
    time = new FakeTicker();
    runtime = new FakeRuntime();
    engine = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(runtime)
        .keepAlive(Duration.ofMinutes(10)).shutdownGracePeriod(Duration.ofSeconds(5))
        .workDirectory(dir.resolve("work")).build();
    code = Files.createDirectories(dir.resolve("code"));
    writeCode("v1");
  }

  @AfterEach
  void tearDown() {
    engine.close();
  }

  private void writeCode(String text) throws IOException {
    Files.writeString(code.resolve("index.txt"), text);
  }

  private FunctionInfo create(String handler) {
    return engine.createFunction(FunctionConfig.builder("f").runtime("fake").handler(handler).build(),
        FunctionCode.fromDirectory(code));
  }

  private FunctionInfo setMemory(int mb) {
    return engine.updateFunctionConfiguration(engine.getFunction("f").config().toBuilder().memorySizeMb(mb).build());
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(1);
    }
  }

  private List<FakeEnvironment> environmentsOf(String version) {
    return runtime.environments.stream().filter(e -> e.definition.version().equals(version)).toList();
  }

  private Path codeDirectoryOf(String version) {
    return environmentsOf(version).get(0).definition.codeDirectory();
  }

  @Test
  void publish_snapshotsLatest_andLaterUpdatesLeaveTheVersionRunningItsOwnCodeAndConfig() throws Exception {
    create("whoami");
    FunctionInfo v1 = engine.publishVersion("f");
    assertThat(v1.version()).isEqualTo("1");
    assertThat(v1.codeSha256()).isEqualTo(engine.getFunction("f").codeSha256());

    writeCode("v2");
    engine.updateFunctionCode("f", FunctionCode.fromDirectory(code));
    setMemory(256);

    assertThat(engine.invoke("f:1", "{}").payloadAsString()).contains("\"code\":\"v1\"").contains("\"memory\":128");
    assertThat(engine.invoke("f", "{}").payloadAsString()).contains("\"code\":\"v2\"").contains("\"memory\":256");
    assertThat(engine.getFunction("f", "1").config().memorySizeMb()).isEqualTo(128);
    assertThat(engine.getFunction("f", "1").codeSha256()).isEqualTo(v1.codeSha256()).isNotEqualTo(
        engine.getFunction("f").codeSha256());
    // each version runs in environments of its own
    assertThat(environmentsOf("1")).hasSize(1);
    assertThat(environmentsOf("$LATEST")).hasSize(1);
    assertThat(engine.poolOf("f", "1")).isNotSameAs(engine.poolOf("f"));
  }

  @Test
  void publish_withoutChangesReturnsTheLastVersion_numbersAreNeverReused() {
    create("echo");
    assertThat(engine.publishVersion("f").version()).isEqualTo("1");
    assertThat(engine.publishVersion("f", "again").version()).isEqualTo("1");
    assertThat(runtime.prepared).hasValue(2); // $LATEST and version 1; the repeated publish made nothing

    setMemory(256);
    FunctionInfo v2 = engine.publishVersion("f", "bigger");
    assertThat(v2.version()).isEqualTo("2");
    assertThat(v2.config().description()).isEqualTo("bigger");
    assertThat(engine.getFunction("f").config().description()).isEmpty(); // $LATEST keeps its own

    engine.deleteFunction("f", "2");
    // $LATEST differs from the last remaining version (1), so a new one is published, under a new number
    assertThat(engine.publishVersion("f").version()).isEqualTo("3");
    assertThat(engine.listVersionsByFunction("f")).extracting(FunctionInfo::version)
        .containsExactly("$LATEST", "1", "3");
  }

  @Test
  void publish_aConfigurationUpdateToTheSameValuesIsNotAChange() {
    create("echo");
    engine.publishVersion("f");
    engine.updateFunctionConfiguration(engine.getFunction("f").config());
    assertThat(engine.publishVersion("f").version()).isEqualTo("1");
  }

  @Test
  void context_reflectsTheQualifierInvokedAndTheVersionExecuted() {
    create("whoami");
    engine.publishVersion("f");
    engine.createAlias("f", "live", "1");

    assertThat(engine.invoke("f", "{}").payloadAsString())
        .contains("\"version\":\"$LATEST\"", "\"arn\":\"" + ARN + "\"", "\"envVersion\":\"$LATEST\"");
    assertThat(engine.invoke("f:$LATEST", "{}").payloadAsString())
        .contains("\"version\":\"$LATEST\"", "\"arn\":\"" + ARN + ":$LATEST\"");
    assertThat(engine.invoke("f:1", "{}").payloadAsString())
        .contains("\"version\":\"1\"", "\"arn\":\"" + ARN + ":1\"", "\"envVersion\":\"1\"");
    InvocationResult viaAlias;
    List<LogCapture.Line> lines;
    try (LogCapture capture = LogCapture.of("embla.function.f")) {
      viaAlias = engine.invoke("f:live", "{}");
      lines = capture.lines();
    }
    assertThat(viaAlias.payloadAsString())
        .contains("\"version\":\"1\"", "\"arn\":\"" + ARN + ":live\"", "\"envVersion\":\"1\"");
    assertThat(viaAlias.executedVersion()).isEqualTo("1");
    assertThat(lines).extracting(LogCapture.Line::message)
        .contains("START RequestId: " + viaAlias.requestId() + " Version: 1");
  }

  @Test
  void alias_moveTakesEffectForNewInvocations_whileInFlightOnesFinishOnTheOldVersion() throws Exception {
    create("block");
    engine.publishVersion("f");
    setMemory(256);
    engine.publishVersion("f");
    AliasInfo live = engine.createAlias("f", "live", "1");
    assertThat(live.aliasArn()).isEqualTo(ARN + ":live");

    CountDownLatch gate = new CountDownLatch(1);
    runtime.gate = gate;
    runtime.started = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<InvocationResult> inFlight = pool.submit(() -> engine.invoke("f:live", "\"old\""));
    assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();

    engine.updateAlias("f", AliasConfig.builder("live").functionVersion("2").description("moved").build());
    runtime.gate = new CountDownLatch(0); // new invocations do not wait; the one in flight still holds 'gate'
    InvocationResult moved = engine.invoke("f:live", "\"new\"");
    assertThat(moved.executedVersion()).isEqualTo("2");
    assertThat(inFlight.isDone()).isFalse();

    gate.countDown();
    InvocationResult old = inFlight.get(10, TimeUnit.SECONDS);
    pool.shutdown();
    assertThat(old.executedVersion()).isEqualTo("1");
    assertThat(old.payloadAsString()).isEqualTo("\"old\"");
    assertThat(engine.getAlias("f", "live").config().description()).isEqualTo("moved");
    // version 1 still exists, so its environment stays warm rather than shutting down
    assertThat(environmentsOf("1")).singleElement().satisfies(e -> assertThat(e.shutdowns).hasValue(0));
    assertThat(engine.invoke("f:1", "1").isColdStart()).isFalse();
  }

  @Test
  void alias_movingUnderConcurrentInvocationsNeverFailsOne() throws Exception {
    // Three callers may each hold an environment of both versions (3 x 128 MB + 3 x 256 MB), more than the default
    // memory budget of a small test heap, and an eviction would make a call cold at random: give the budget room,
    // since what this test is about is routing, not the budget.
    engine.close();
    engine = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(runtime)
        .keepAlive(Duration.ofMinutes(10)).shutdownGracePeriod(Duration.ofSeconds(5))
        .environmentMemoryBudgetMb(8192).workDirectory(dir.resolve("work-concurrent")).build();
    create("brief");
    engine.publishVersion("f");
    setMemory(256);
    engine.publishVersion("f");
    engine.createAlias("f", "live", "1");
    int threads = 3;
    int calls = 500;
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<java.util.Set<String>>> results = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      results.add(pool.submit(() -> {
        go.await();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < calls; i++) {
          InvocationResult r = engine.invoke("f:live", "1");
          assertThat(r.isError()).isFalse();
          seen.add(r.executedVersion());
        }
        return seen;
      }));
    }
    go.countDown();
    for (int i = 0; i < 200; i++) {
      engine.updateAlias("f", AliasConfig.builder("live").functionVersion(i % 2 == 0 ? "2" : "1").build());
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Future<java.util.Set<String>> f : results) {
      seen.addAll(f.get(60, TimeUnit.SECONDS));
    }
    pool.shutdown();
    assertThat(seen).isSubsetOf("1", "2");
    assertThat(runtime.maxConcurrentPerEnvironment).hasValue(1);
    assertThat(environmentsOf("$LATEST")).isEmpty();
    assertThat(runtime.environments).allSatisfy(e -> assertThat(e.shutdowns).hasValue(0)); // no version was retired
  }

  @Test
  void alias_atLatestFollowsUpdates() throws Exception {
    create("whoami");
    engine.createAlias("f", "dev", "$LATEST");
    assertThat(engine.invoke("f:dev", "{}").payloadAsString()).contains("\"code\":\"v1\"", "\"version\":\"$LATEST\"");
    writeCode("v2");
    engine.updateFunctionCode("f", FunctionCode.fromDirectory(code));
    assertThat(engine.invoke("f:dev", "{}").payloadAsString()).contains("\"code\":\"v2\"",
        "\"arn\":\"" + ARN + ":dev\"");
    assertThat(engine.getFunction("f", "dev").codeSha256()).isEqualTo(engine.getFunction("f").codeSha256());
  }

  @Test
  void alias_weightedRoutingSplitsTrafficBetweenTwoVersions() {
    create("echo");
    engine.publishVersion("f");
    setMemory(256);
    engine.publishVersion("f");
    engine.createAlias("f", AliasConfig.builder("canary").functionVersion("1").additionalVersionWeight("2", 0.5)
        .build());
    int onTwo = 0;
    int n = 1000;
    for (int i = 0; i < n; i++) {
      if (engine.invoke("f:canary", "1").executedVersion().equals("2")) {
        onTwo++;
      }
    }
    // Binomial(1000, 0.5): outside 350..650 with probability below 1e-20.
    assertThat(onTwo).isBetween(350, 650);
    assertThat(engine.getAlias("f", "canary").config().additionalVersionWeights()).containsEntry("2", 0.5);
    // the primary is what a single-version view of the alias reports
    assertThat(engine.getFunction("f", "canary").version()).isEqualTo("1");

    engine.updateAlias("f", engine.getAlias("f", "canary").config().toBuilder().additionalVersionWeight("2", 1.0)
        .build());
    assertThat(engine.invoke("f:canary", "1").executedVersion()).isEqualTo("2");
    engine.updateAlias("f", engine.getAlias("f", "canary").config().toBuilder().clearAdditionalVersionWeights()
        .build());
    assertThat(engine.invoke("f:canary", "1").executedVersion()).isEqualTo("1");
  }

  @Test
  void alias_crudAndTypedErrors() {
    create("echo");
    engine.publishVersion("f");
    engine.createAlias("f", AliasConfig.builder("b").functionVersion("1").description("second").build());
    engine.createAlias("f", "a", "$LATEST");
    assertThat(engine.listAliases("f")).extracting(AliasInfo::name).containsExactly("a", "b");
    assertThat(engine.getAlias("f", "b").functionVersion()).isEqualTo("1");
    assertThat(engine.getAlias("f", "b").functionName()).isEqualTo("f");

    assertThatThrownBy(() -> engine.createAlias("f", "a", "1")).isInstanceOf(ResourceConflictException.class)
        .hasMessageContaining("alias 'a' of function 'f' already exists");
    assertThatThrownBy(() -> engine.createAlias("f", "c", "7")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("version 7, which does not exist");
    assertThatThrownBy(() -> engine.createAlias("f", "c", "99999999999999999999"))
        .isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.createAlias("g", "c", "1")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("'g'");
    assertThatThrownBy(() -> engine.createAlias("f", "12", "1")).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("was '12'");
    assertThatThrownBy(() -> engine.updateAlias("f", AliasConfig.builder("zzz").functionVersion("1").build()))
        .isInstanceOf(FunctionNotFoundException.class).hasMessageContaining("has no alias 'zzz'");
    assertThatThrownBy(() -> engine.getAlias("f", "zzz")).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.invoke("f:zzz", "1")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("function 'f' has no version or alias 'zzz'");
    assertThatThrownBy(() -> engine.getFunction("f", "zzz")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("'zzz'");
    // a failed update changes nothing
    assertThatThrownBy(() -> engine.updateAlias("f", AliasConfig.builder("b").functionVersion("5").build()))
        .isInstanceOf(FunctionNotFoundException.class);
    assertThat(engine.getAlias("f", "b").functionVersion()).isEqualTo("1");

    engine.deleteAlias("f", "b");
    assertThat(engine.listAliases("f")).extracting(AliasInfo::name).containsExactly("a");
    assertThatThrownBy(() -> engine.invoke("f:b", "1")).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.deleteAlias("f", "b")).isInstanceOf(FunctionNotFoundException.class);
  }

  @Test
  void deleteVersion_refusedWhileAnAliasPointsAtIt_andForLatestOrNonNumbers() throws Exception {
    create("echo");
    engine.publishVersion("f");
    setMemory(256);
    engine.publishVersion("f");
    engine.createAlias("f", "live", "1");
    engine.createAlias("f", AliasConfig.builder("canary").functionVersion("1").additionalVersionWeight("2", 0.1)
        .build());

    assertThatThrownBy(() -> engine.deleteFunction("f", "2")).isInstanceOf(ResourceConflictException.class)
        .hasMessageContaining("alias 'canary' points at it");
    assertThatThrownBy(() -> engine.deleteFunction("f", "1")).isInstanceOf(ResourceConflictException.class)
        .hasMessageContaining("[canary, live]");
    assertThatThrownBy(() -> engine.deleteFunction("f", "$LATEST")).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("cannot be deleted without deleting the function");
    assertThatThrownBy(() -> engine.deleteFunction("f", "live")).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("must be a version number, was 'live'");
    assertThatThrownBy(() -> engine.deleteFunction("f", "9")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("has no version '9'");
    assertThat(engine.invoke("f:2", "1").isError()).isFalse();

    engine.deleteAlias("f", "canary");
    engine.deleteFunction("f", "2");
    assertThatThrownBy(() -> engine.invoke("f:2", "1")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("no version or alias '2'");
    await(() -> environmentsOf("2").stream().allMatch(e -> e.shutdowns.get() == 1));
    assertThat(engine.listVersionsByFunction("f")).extracting(FunctionInfo::version).containsExactly("$LATEST", "1");
  }

  @Test
  void versionsAreNames_soALeadingZeroNamesNoVersion_andAnAliasCannotOutliveItsVersionThroughOne() {
    create("echo");
    engine.publishVersion("f"); // 1
    assertThatThrownBy(() -> engine.createAlias("f", "live", "01")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("points at version 01, which does not exist");
    assertThatThrownBy(() -> engine.createAlias("f", AliasConfig.builder("canary").functionVersion("1")
        .additionalVersionWeight("01", 0.5).build())).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.invoke("f:01", "1")).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.deleteFunction("f", "01")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("has no version '01'");

    engine.createAlias("f", "live", "1");
    assertThatThrownBy(() -> engine.deleteFunction("f", "1")).isInstanceOf(ResourceConflictException.class);
    assertThat(engine.invoke("f:live", "1").isError()).isFalse();
  }

  @Test
  void deleteFunction_removesEveryVersionAndAlias_andARecreatedFunctionStartsAfresh() throws Exception {
    create("echo");
    engine.publishVersion("f");
    engine.createAlias("f", "live", "1");
    engine.invoke("f:live", "1");
    engine.invoke("f", "1");

    engine.deleteFunction("f");
    for (String ref : List.of("f", "f:$LATEST", "f:1", "f:live")) {
      assertThatThrownBy(() -> engine.invoke(ref, "1")).isInstanceOf(FunctionNotFoundException.class)
          .hasMessageContaining("function not found: 'f'");
    }
    assertThatThrownBy(() -> engine.listVersionsByFunction("f")).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.listAliases("f")).isInstanceOf(FunctionNotFoundException.class);
    await(() -> runtime.environments.stream().allMatch(e -> e.shutdowns.get() == 1));

    create("echo");
    assertThat(engine.listAliases("f")).isEmpty();
    assertThat(engine.publishVersion("f").version()).isEqualTo("1");
    assertThatThrownBy(() -> engine.invoke("f:live", "1")).isInstanceOf(FunctionNotFoundException.class);
  }

  @Test
  void code_isDeletedOnlyWhenNoVersionUsesIt() throws Exception {
    create("echo");
    engine.publishVersion("f");
    engine.invoke("f:1", "1");
    Path v1Code = codeDirectoryOf("1");

    writeCode("v2");
    engine.updateFunctionCode("f", FunctionCode.fromDirectory(code));
    await(() -> engine.retiredPools().isEmpty()); // the old $LATEST drained and gave its reference back
    assertThat(v1Code).exists(); // version 1 still runs it
    assertThat(engine.invoke("f:1", "1").payloadAsString()).isEqualTo("1");

    engine.publishVersion("f");
    engine.invoke("f:2", "1");
    Path v2Code = codeDirectoryOf("2");
    engine.deleteFunction("f", "1");
    await(() -> !Files.exists(v1Code));
    assertThat(v2Code).exists();

    engine.deleteFunction("f");
    await(() -> !Files.exists(v2Code));
  }

  @Test
  void keepAlive_shutsDownIdleEnvironmentsOfPublishedVersionsToo() throws Exception {
    create("echo");
    engine.publishVersion("f");
    engine.invoke("f:1", "1");
    FakeEnvironment env = environmentsOf("1").get(0);
    time.advance(Duration.ofMinutes(10));
    engine.runMaintenance();
    await(() -> env.shutdowns.get() == 1);
    assertThat(engine.invoke("f:1", "1").isColdStart()).isTrue();
  }

  @Test
  void connect_qualifiedReferenceInvokesThatAlias_andUnknownQualifiersFailAtOnce() throws Exception {
    create("echo");
    engine.publishVersion("f");
    engine.createAlias("f", "live", "1");
    InMemoryQueue queue = EventSources.queue("orders");
    try (EventSourceConnection c = engine.connect(queue, "f:live")) {
      queue.send("{\"id\":1}");
      await(() -> c.succeeded() >= 1);
      assertThat(c.functionRef()).isEqualTo("f:live");
    }
    assertThat(environmentsOf("1")).isNotEmpty().allSatisfy(e -> assertThat(e.invokes.get()).isPositive());
    assertThat(environmentsOf("$LATEST")).isEmpty();
    assertThatThrownBy(() -> engine.connect(EventSources.queue("q"), "f:nope"))
        .isInstanceOf(FunctionNotFoundException.class).hasMessageContaining("'nope'");
  }

  @Test
  void close_shutsDownEnvironmentsOfEveryVersion() throws Exception {
    create("echo");
    engine.publishVersion("f");
    engine.invoke("f:1", "1");
    engine.invoke("f", "1");
    engine.close();
    assertThat(runtime.environments).hasSize(2).allSatisfy(e -> assertThat(e.shutdowns).hasValue(1));
  }
}
