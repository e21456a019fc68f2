package dev.embla.faas.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.EngineClosedException;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.FunctionInfo;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvalidRequestContentException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.RequestTooLargeException;
import dev.embla.faas.ResourceConflictException;
import dev.embla.faas.testing.FakeRuntime;
import dev.embla.faas.testing.FakeRuntime.FakeEnvironment;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's pool, invocation path and lifecycle, on a fake runtime so that no language runtime is involved. */
class LocalEngineTest {

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
        .maxPayloadBytes(1024).workDirectory(dir.resolve("work")).build();
    code = Files.createDirectories(dir.resolve("code"));
    Files.writeString(code.resolve("index.txt"), "v1");
  }

  @AfterEach
  void tearDown() {
    engine.close();
  }

  private FunctionInfo create(String name, String handler) {
    return engine.createFunction(FunctionConfig.builder(name).runtime("fake").handler(handler).build(),
        FunctionCode.fromDirectory(code));
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

  @Test
  void invoke_coldThenWarmReusesEnvironmentAndSkipsInit() {
    create("echo", "echo");
    InvocationResult cold = engine.invoke("echo", "{\"a\":1}");
    InvocationResult warm = engine.invoke("echo", "{\"a\":2}");

    assertThat(cold.payloadAsString()).isEqualTo("{\"a\":1}");
    assertThat(cold.isColdStart()).isTrue();
    assertThat(cold.initDuration()).isPresent();
    assertThat(warm.isColdStart()).isFalse();
    assertThat(warm.payloadAsString()).isEqualTo("{\"a\":2}");
    assertThat(runtime.environments).hasSize(1);
    FakeEnvironment env = runtime.environments.peek();
    assertThat(env.inits).hasValue(1);
    assertThat(env.invokes).hasValue(2);
    assertThat(cold.requestId()).isNotEqualTo(warm.requestId()).matches("[0-9a-f-]{36}");
    assertThat(cold.billedDuration()).isGreaterThanOrEqualTo(Duration.ofMillis(1));
  }

  @Test
  void invoke_concurrentCallsGetOneEnvironmentEachAndNeverShareOne() throws Exception {
    create("block", "block");
    int n = 8;
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(n);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<InvocationResult>> results = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      results.add(pool.submit(() -> {
        go.await();
        return engine.invoke("block", "1");
      }));
    }
    go.countDown();
    assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(runtime.environments).hasSize(n);
    runtime.gate.countDown();
    for (Future<InvocationResult> f : results) {
      assertThat(f.get(10, TimeUnit.SECONDS).isError()).isFalse();
    }
    pool.shutdown();
    assertThat(engine.poolOf("block").idleCount()).isEqualTo(n);
    assertThat(runtime.maxConcurrentPerEnvironment).hasValue(1);
  }

  @Test
  void invoke_underContentionNeverRunsTwoInvocationsInOneEnvironment() throws Exception {
    create("echo", "brief");
    int threads = 4;
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> fs = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      fs.add(pool.submit(() -> {
        go.await();
        for (int i = 0; i < 2000; i++) {
          assertThat(engine.invoke("echo", "1").payloadAsString()).isEqualTo("1");
        }
        return null;
      }));
    }
    go.countDown();
    for (Future<?> f : fs) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(runtime.maxConcurrentPerEnvironment).hasValue(1);
    assertThat(runtime.environments.size()).isBetween(1, threads);
    assertThat(runtime.environments.stream().mapToInt(e -> e.invokes.get()).sum()).isEqualTo(threads * 2000);
  }

  @Test
  void keepAlive_shutsIdleEnvironmentDownOnlyAfterExpiry() throws Exception {
    create("echo", "echo");
    engine.invoke("echo", "1");
    FakeEnvironment env = runtime.environments.peek();

    time.advance(Duration.ofMinutes(9));
    assertThat(engine.runMaintenance()).isZero();
    assertThat(engine.invoke("echo", "2").isColdStart()).isFalse(); // use resets the idle clock

    time.advance(Duration.ofMinutes(9).plusSeconds(59));
    assertThat(engine.runMaintenance()).isZero();
    assertThat(engine.poolOf("echo").idleCount()).isEqualTo(1);
    time.advance(Duration.ofSeconds(1));
    engine.runMaintenance(); // the background maintenance thread may have been first; either way it goes
    await(() -> env.shutdowns.get() == 1);
    assertThat(engine.poolOf("echo").idleCount()).isZero();

    assertThat(engine.invoke("echo", "3").isColdStart()).isTrue();
    assertThat(runtime.environments).hasSize(2);
  }

  @Test
  void keepAlive_evictsLeastRecentlyUsedFirst() throws Exception {
    create("block", "block");
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    Future<?> a = pool.submit(() -> engine.invoke("block", "1"));
    Future<?> b = pool.submit(() -> engine.invoke("block", "1"));
    runtime.started.await(10, TimeUnit.SECONDS);
    runtime.gate.countDown();
    a.get();
    b.get();
    pool.shutdown();
    time.advance(Duration.ofMinutes(5));
    runtime.gate = new CountDownLatch(0);
    engine.invoke("block", "1"); // takes the most recently used environment
    time.advance(Duration.ofMinutes(6));
    engine.runMaintenance();
    await(() -> runtime.environments.stream().filter(e -> e.shutdowns.get() == 1).count() == 1);
    assertThat(engine.poolOf("block").idleCount()).isEqualTo(1);
    // the survivor is the one used 6 minutes ago, not 11
    assertThat(runtime.environments.stream().filter(e -> e.invokes.get() == 2)).allSatisfy(
        e -> assertThat(e.shutdowns).hasValue(0));
  }

  @Test
  void invoke_handlerErrorKeepsEnvironmentAndReturnsLambdaShape() {
    create("throw", "throw");
    InvocationResult r = engine.invoke("throw", "{}");
    assertThat(r.isError()).isTrue();
    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.HANDLER);
    assertThat(r.payloadAsString()).isEqualTo(
        "{\"errorType\":\"java.lang.IllegalArgumentException\",\"errorMessage\":\"bad input\","
            + "\"stackTrace\":[\"demo.Fn.handle(Fn.java:7)\"]}");
    engine.invoke("throw", "{}");
    assertThat(runtime.environments).hasSize(1);
  }

  @Test
  void invoke_initFailureIsTypedAndEnvironmentDiscarded() throws Exception {
    create("initfail", "initfail");
    InvocationResult r = engine.invoke("initfail", "{}");
    assertThat(r.error().orElseThrow().kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(r.error().get().errorMessage()).isEqualTo("init failed");
    assertThat(r.isColdStart()).isTrue();
    engine.invoke("initfail", "{}");
    assertThat(runtime.environments).hasSize(2);
    await(() -> runtime.environments.stream().allMatch(e -> e.shutdowns.get() == 1));
  }

  @Test
  void invoke_distinctOutcomesForEachFailure() {
    create("bad", "badpayload");
    create("exit", "exit");
    create("broken", "broken");
    assertThat(engine.invoke("bad", "{}").error().orElseThrow().kind()).isEqualTo(FunctionError.Kind.BAD_PAYLOAD);
    assertThat(engine.invoke("exit", "{}").error().orElseThrow().kind()).isEqualTo(FunctionError.Kind.EXIT);
    FunctionError broken = engine.invoke("broken", "{}").error().orElseThrow();
    assertThat(broken.kind()).isEqualTo(FunctionError.Kind.RUNTIME);
    assertThat(broken.errorType()).isEqualTo("java.lang.IllegalStateException");
    engine.invoke("exit", "{}");
    engine.invoke("bad", "{}");
    // exit and runtime failures discard the environment; a bad payload does not
    assertThat(runtime.environments.stream().filter(e -> e.definition.handler().equals("exit"))).hasSize(2);
    assertThat(runtime.environments.stream().filter(e -> e.definition.handler().equals("badpayload"))).hasSize(1);

    assertThatThrownBy(() -> engine.invoke("nope", "{}")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("'nope'");
    assertThatThrownBy(() -> engine.invoke("bad:7", "{}")).isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining("no version or alias '7'");
    assertThatThrownBy(() -> engine.invoke("bad", "x".repeat(1025)))
        .isInstanceOf(RequestTooLargeException.class).hasMessageContaining("1025 bytes, over the limit of 1024");
    assertThatThrownBy(() -> engine.invoke("bad", "{not json")).isInstanceOf(InvalidRequestContentException.class);
    assertThatThrownBy(() -> engine.invoke("bad", "{} {}")).isInstanceOf(InvalidRequestContentException.class);
    assertThat(engine.invoke("bad:$LATEST", "{}").isError()).isTrue();
  }

  @Test
  void invoke_responseOverSixMegabytesIsLambdasResponseSizeTooLarge_andTheEnvironmentIsKept() {
    create("big", "sized");
    InvocationResult over = engine.invoke("big", "6291457");
    FunctionError e = over.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.RUNTIME);
    assertThat(e.errorType()).isEqualTo("Function.ResponseSizeTooLarge");
    assertThat(e.errorMessage()).isEqualTo(
        "Response payload size (6291457 bytes) exceeded maximum allowed payload size (6291456 bytes).");
    assertThat(over.payloadAsString()).isEqualTo(e.toJson());

    InvocationResult atLimit = engine.invoke("big", "6291456");
    assertThat(atLimit.isError()).isFalse();
    assertThat(atLimit.payload()).hasSize(6_291_456);
    assertThat(runtime.environments).hasSize(1); // the function did nothing wrong to its environment
    assertThat(runtime.environments.peek().invokes).hasValue(2);
  }

  @Test
  void invoke_responseLimitIsTheBuildersMaxResponseBytes() {
    try (FaasEngine small = FaasEngine.builder().addRuntime(runtime).maxResponseBytes(100)
        .workDirectory(dir.resolve("small")).build()) {
      small.createFunction(FunctionConfig.builder("big").runtime("fake").handler("sized").build(),
          FunctionCode.fromDirectory(code));
      assertThat(small.invoke("big", "100").isError()).isFalse();
      assertThat(small.invoke("big", "101").error().orElseThrow().errorMessage())
          .isEqualTo("Response payload size (101 bytes) exceeded maximum allowed payload size (100 bytes).");
    }
    assertThatThrownBy(() -> FaasEngine.builder().maxResponseBytes(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxResponseBytes must be positive, was 0");
    assertThatThrownBy(() -> FaasEngine.builder().maxResponseBytes(10).maxResponseBytes(20))
        .isInstanceOf(IllegalStateException.class).hasMessage("maxResponseBytes was already set to 10");
  }

  @Test
  void invoke_timeoutCancelsDiscardsAndNextCallColdStarts() throws Exception {
    engine.createFunction(FunctionConfig.builder("spin").runtime("fake").handler("spin")
        .timeout(Duration.ofSeconds(1)).build(), FunctionCode.fromDirectory(code));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<InvocationResult> f = pool.submit(() -> engine.invoke("spin", "{}"));
    await(() -> !runtime.environments.isEmpty() && runtime.environments.peek().invokes.get() == 1);
    time.advance(Duration.ofMillis(999));
    Thread.sleep(50);
    assertThat(f.isDone()).isFalse();
    time.advance(Duration.ofMillis(1));
    InvocationResult r = f.get(5, TimeUnit.SECONDS);
    pool.shutdown();
    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.TIMEOUT);
    assertThat(e.errorType()).isEqualTo("Sandbox.Timedout");
    assertThat(e.errorMessage()).isEqualTo("Task timed out after 1.00 seconds");
    FakeEnvironment first = runtime.environments.peek();
    assertThat(first.cancels).hasValue(1);
    await(() -> first.shutdowns.get() == 1);
    assertThat(engine.poolOf("spin").size()).isZero();
  }

  @Test
  void registry_createGetListUpdateDelete() {
    FunctionInfo info = create("b", "echo");
    create("a", "echo");
    assertThat(info.version()).isEqualTo("$LATEST");
    assertThat(info.codeSha256()).hasSize(64);
    assertThat(engine.listFunctions()).extracting(FunctionInfo::name).containsExactly("a", "b");
    assertThatThrownBy(() -> create("a", "echo")).isInstanceOf(ResourceConflictException.class);

    FunctionInfo updated = engine.updateFunctionConfiguration(
        engine.getFunction("a").config().toBuilder().handler("other").memorySizeMb(256).build());
    assertThat(updated.config().memorySizeMb()).isEqualTo(256);
    assertThat(engine.invoke("a", "{}").payloadAsString()).isEqualTo("\"other\"");

    engine.deleteFunction("a");
    assertThatThrownBy(() -> engine.getFunction("a")).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.deleteFunction("a")).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.createFunction(
        FunctionConfig.builder("r").runtime("cobol").handler("x").build(), FunctionCode.fromDirectory(code)))
        .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("was 'cobol'");
    assertThatThrownBy(() -> create("m", "missing")).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("handler 'missing'").hasMessageContaining("no handler named 'missing'");
  }

  @Test
  void updateCode_inFlightFinishesOnOldCodeThenOldEnvironmentShutsDown() throws Exception {
    create("f", "block");
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<InvocationResult> inFlight = pool.submit(() -> engine.invoke("f", "\"old\""));
    assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
    FakeEnvironment old = runtime.environments.peek();

    Files.writeString(code.resolve("index.txt"), "v2");
    FunctionInfo v2 = engine.updateFunctionCode("f", FunctionCode.fromDirectory(code));
    assertThat(v2.codeSha256()).isNotEqualTo(old.definition.codeSha256());
    assertThat(old.shutdowns).hasValue(0); // still busy

    runtime.gate.countDown();
    assertThat(inFlight.get(10, TimeUnit.SECONDS).payloadAsString()).isEqualTo("\"old\"");
    pool.shutdown();
    await(() -> old.shutdowns.get() == 1);

    InvocationResult next = engine.invoke("f", "\"new\"");
    assertThat(next.isColdStart()).isTrue();
    assertThat(runtime.environments).hasSize(2);
    assertThat(runtime.environments.stream().skip(1).findFirst().orElseThrow().definition.codeSha256())
        .isEqualTo(v2.codeSha256());
  }

  @Test
  void close_waitsForInFlightThenShutsEverythingDownAndRefusesWork() throws Exception {
    create("f", "block");
    create("g", "echo");
    engine.invoke("g", "1");
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    Future<InvocationResult> inFlight = pool.submit(() -> engine.invoke("f", "\"x\""));
    assertThat(runtime.started.await(10, TimeUnit.SECONDS)).isTrue();
    Future<?> closing = pool.submit(engine::close);
    await(() -> {
      try {
        engine.invoke("g", "1");
        return false;
      } catch (EngineClosedException e) {
        return true;
      }
    });
    assertThat(closing.isDone()).isFalse();
    runtime.gate.countDown();
    assertThat(inFlight.get(10, TimeUnit.SECONDS).payloadAsString()).isEqualTo("\"x\"");
    closing.get(10, TimeUnit.SECONDS);
    pool.shutdown();
    assertThat(runtime.environments).allSatisfy(e -> assertThat(e.shutdowns).hasValue(1));
    assertThat(dir.resolve("work/tmp")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
        p -> assertThat(p).isEmptyDirectory());
  }

  /**
   * Closes, on another thread, an engine that made its own work directory and holds one idle environment, with the
   * revision's close held on {@code runtime.closeGate}; checks that close() waits for that before deleting anything.
   * The last environment's shutdown task closes the revision after the pool has already counted it gone, so close()
   * must wait for that task too, or it deletes the work directory while the code is released under it.
   *
   * @return what {@code closing} returned
   */
  private <T> T closeWaitsForTheRevision(Function<LocalEngine, Callable<T>> closing) throws Exception {
    LocalEngine owned = (LocalEngine) FaasEngine.builder().addRuntime(runtime).build();
    Path work = owned.workDirectory();
    owned.createFunction(FunctionConfig.builder("f").runtime("fake").handler("echo").build(),
        FunctionCode.fromDirectory(code));
    owned.invoke("f", "1");
    runtime.closeGate = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    T result;
    try {
      Future<T> closed = pool.submit(closing.apply(owned));
      await(() -> runtime.environments.peek().shutdowns.get() == 1);
      assertThatThrownBy(() -> closed.get(200, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      assertThat(work).exists();
      runtime.closeGate.countDown();
      result = closed.get(10, TimeUnit.SECONDS);
    } finally {
      runtime.closeGate.countDown();
      pool.shutdown();
    }
    assertThat(runtime.closed).hasValue(1);
    assertThat(work).doesNotExist();
    return result;
  }

  @Test
  void close_returnsOnlyOnceRevisionsAreClosed_thenDeletesTheWorkDirectoryItMade() throws Exception {
    closeWaitsForTheRevision(owned -> () -> {
      owned.close();
      return null;
    });
  }

  @Test
  void close_onAnInterruptedThread_stillWaitsForShutdownsBeforeDeleting_andKeepsTheInterrupt() throws Exception {
    boolean interruptKept = closeWaitsForTheRevision(owned -> () -> {
      Thread.currentThread().interrupt();
      owned.close();
      return Thread.currentThread().isInterrupted();
    });
    assertThat(interruptKept).as("interrupt kept for the caller").isTrue();
  }

  @Test
  void close_stopsInvocationsStillRunningAfterGracePeriod() throws Exception {
    LocalEngine quick = (LocalEngine) FaasEngine.builder().addRuntime(runtime)
        .shutdownGracePeriod(Duration.ofMillis(100)).build();
    quick.createFunction(FunctionConfig.builder("spin").runtime("fake").handler("spin").timeout(Duration.ofSeconds(60))
        .build(), FunctionCode.fromDirectory(code));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<InvocationResult> f = pool.submit(() -> quick.invoke("spin", "{}"));
    await(() -> !runtime.environments.isEmpty() && runtime.environments.peek().invokes.get() == 1);
    long start = System.nanoTime();
    quick.close();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    FunctionError stopped = f.get(5, TimeUnit.SECONDS).error().orElseThrow();
    assertThat(stopped.kind()).isEqualTo(FunctionError.Kind.RUNTIME);
    assertThat(stopped.errorType()).isEqualTo("Runtime.EngineClosed");
    pool.shutdown();
  }

  @Test
  void logs_startOutputEndReportInOrderTaggedWithRequestId() {
    create("p", "print");
    InvocationResult cold;
    InvocationResult warm;
    List<LogCapture.Line> lines;
    try (LogCapture capture = LogCapture.of("embla.function.p")) {
      cold = engine.invoke("p", "{}");
      warm = engine.invoke("p", "{}");
      lines = capture.lines();
    }
    String rid = cold.requestId();
    List<String> coldLines = lines.stream().filter(l -> rid.equals(l.requestId())).map(LogCapture.Line::message)
        .toList();
    assertThat(coldLines).hasSize(4);
    assertThat(coldLines.get(0)).isEqualTo("START RequestId: " + rid + " Version: $LATEST");
    assertThat(coldLines.get(1)).isEqualTo("hello from " + rid);
    assertThat(coldLines.get(2)).isEqualTo("END RequestId: " + rid);
    assertThat(coldLines.get(3)).matches("REPORT RequestId: " + rid + "\tDuration: \\d+\\.\\d{2} ms"
        + "\tBilled Duration: \\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \\d+ MB\tInit Duration: \\d+\\.\\d{2} ms");
    assertThat(lines).allSatisfy(l -> assertThat(l.logger()).isEqualTo("embla.function.p"));
    assertThat(lines.stream().filter(l -> warm.requestId().equals(l.requestId())).map(LogCapture.Line::message)
        .filter(m -> m.startsWith("REPORT")).findFirst().orElseThrow()).doesNotContain("Init Duration");
    assertThat(org.slf4j.MDC.get("AWSRequestId")).isNull();
  }

  @Test
  void connect_queueDeliversThroughTheEngineAndDeletesOnSuccess() throws Exception {
    create("echo", "echo");
    dev.embla.faas.InMemoryQueue queue = dev.embla.faas.EventSources.queue("orders");
    try (dev.embla.faas.EventSourceConnection c = engine.connect(queue, "echo")) {
      queue.send("{\"id\":1}");
      queue.send("{\"id\":2}");
      await(() -> c.succeeded() >= 1 && queue.approximateNumberOfMessages() == 0
          && queue.approximateNumberOfMessagesNotVisible() == 0);
      assertThat(c.failed()).isZero();
      assertThat(c.functionRef()).isEqualTo("echo");
    }
    assertThatThrownBy(() -> engine.connect(dev.embla.faas.EventSources.queue("q"), "missing"))
        .isInstanceOf(FunctionNotFoundException.class);
  }

  @Test
  void connect_scheduleFiresOnTheEnginesClock() throws Exception {
    create("echo", "echo");
    try (dev.embla.faas.EventSourceConnection c =
        engine.connect(dev.embla.faas.EventSources.schedule("rate(5 minutes)"), "echo")) {
      time.advance(Duration.ofMinutes(4));
      Thread.sleep(100);
      assertThat(c.succeeded()).isZero();
      time.advance(Duration.ofMinutes(1));
      await(() -> c.succeeded() == 1);
    }
  }

  @Test
  void updateCode_deletesTheOldUnpackedCodeOnceDrained_butKeepsCodeStillInUse() throws Exception {
    create("f", "echo");
    create("twin", "echo"); // same bytes: shares the unpacked directory
    engine.invoke("f", "1");
    Path v1 = runtime.environments.peek().definition.codeDirectory();
    Files.writeString(code.resolve("index.txt"), "v2");
    engine.updateFunctionCode("f", FunctionCode.fromDirectory(code));
    await(() -> engine.retiredPools().isEmpty());
    assertThat(v1).exists(); // "twin" still runs it
    engine.deleteFunction("twin");
    await(() -> !Files.exists(v1));
    assertThat(engine.invoke("f", "2").payloadAsString()).isEqualTo("2");
  }

  @Test
  void updateCode_aDirectoryTreeThatOnceHashedLikeTheOldOne_runsTheNewCode() throws Exception {
    Path a = Files.createDirectories(dir.resolve("a"));
    Files.writeString(a.resolve("index.txt"), "x");
    Files.writeString(a.resolve("zz"), "y");
    Path b = Files.createDirectories(dir.resolve("b"));
    Files.writeString(b.resolve("index.txt"), "xzz\0y");
    FunctionInfo v1 = engine.createFunction(FunctionConfig.builder("f").runtime("fake").handler("whoami").build(),
        FunctionCode.fromDirectory(a));
    assertThat(engine.publishVersion("f").version()).isEqualTo("1");
    FunctionInfo v2 = engine.updateFunctionCode("f", FunctionCode.fromDirectory(b));
    assertThat(v2.codeSha256()).isNotEqualTo(v1.codeSha256());
    assertThat(engine.invoke("f", "{}").payloadAsString()).contains("\"code\":\"xzz\u0000y\"");
    assertThat(engine.publishVersion("f").version()).isEqualTo("2"); // not "nothing changed since version 1"
  }

  @Test
  void updateConfiguration_keepsTheCodeOfTheNewRevision() throws Exception {
    create("f", "echo");
    engine.invoke("f", "1");
    Path v1 = runtime.environments.peek().definition.codeDirectory();
    engine.updateFunctionConfiguration(engine.getFunction("f").config().toBuilder().memorySizeMb(512).build());
    await(() -> runtime.environments.peek().shutdowns.get() == 1);
    assertThat(v1).exists();
    assertThat(engine.invoke("f", "3").payloadAsString()).isEqualTo("3");
  }

  @Test
  void output_floodIsCutAtTheLimitPerInvocation_withOneWarning() {
    try (LocalEngine small = (LocalEngine) FaasEngine.builder().addRuntime(runtime).maxLogBytesPerInvocation(1000)
        .build();
        LogCapture capture = LogCapture.of("embla.function.flood")) {
      small.createFunction(FunctionConfig.builder("flood").runtime("fake").handler("flood").build(),
          FunctionCode.fromDirectory(code));
      InvocationResult first = small.invoke("flood", "1");
      InvocationResult second = small.invoke("flood", "2");
      for (InvocationResult r : List.of(first, second)) {
        List<String> lines = capture.lines().stream().filter(l -> r.requestId().equals(l.requestId()))
            .map(LogCapture.Line::message).toList();
        assertThat(lines.stream().filter(m -> m.startsWith("xxx"))).hasSize(10); // 10 x 100 bytes fit in 1000
        assertThat(lines.stream().filter(m -> m.startsWith("function output truncated"))).hasSize(1);
        assertThat(lines).anyMatch(m -> m.startsWith("REPORT")); // the engine's own lines are never cut
      }
    }
  }
}
