package dev.embla.faas.internal.async;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.AsyncInvocation;
import dev.embla.faas.AsyncQueueFullException;
import dev.embla.faas.BatchOptions;
import dev.embla.faas.Destination;
import dev.embla.faas.EngineClosedException;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.EventInvokeConfig;
import dev.embla.faas.EventSources;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InMemoryQueue;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvalidRequestContentException;
import dev.embla.faas.RequestTooLargeException;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.internal.recursion.HopChain;
import dev.embla.faas.spi.source.SourceRecord;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeRuntime;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Asynchronous invocations end to end through a {@link LocalEngine} on a fake runtime and the injected clock. */
class AsyncInvocationsTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ARN = "arn:embla:lambda:local:000000000000:function:";

  @TempDir Path dir;
  FakeTicker time;
  FakeRuntime runtime;
  LocalEngine engine;
  Path code;
  final List<LocalEngine> engines = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    time = new FakeTicker();
    runtime = new FakeRuntime();
    code = Files.createDirectories(dir.resolve("code"));
    Files.writeString(code.resolve("index.txt"), "v1");
    engine = newEngine(FaasEngine.builder());
  }

  private LocalEngine newEngine(FaasEngine.Builder builder) {
    return newEngine(builder, Duration.ofSeconds(5));
  }

  private LocalEngine newEngine(FaasEngine.Builder builder, Duration grace) {
    LocalEngine e = (LocalEngine) builder.ticker(time).clock(time).addRuntime(runtime)
        .shutdownGracePeriod(grace).workDirectory(dir.resolve("work")).build();
    engines.add(e);
    return e;
  }

  @AfterEach
  void tearDown() {
    engines.forEach(LocalEngine::close);
  }

  private void create(FaasEngine e, String name, String handler) {
    e.createFunction(FunctionConfig.builder(name).runtime("fake").handler(handler).build(),
        FunctionCode.fromDirectory(code));
  }

  private int invocations(String function) {
    return runtime.environments.stream().filter(env -> env.definition.functionName().equals(function))
        .mapToInt(env -> env.invokes.get()).sum();
  }

  /** Receives every message of a queue (acknowledging it) and returns the bodies parsed. */
  private static List<JsonNode> drain(InMemoryQueue queue) {
    List<JsonNode> out = new ArrayList<>();
    try {
      List<SourceRecord> batch;
      while (!(batch = queue.receive(10, Duration.ZERO)).isEmpty()) {
        for (SourceRecord r : batch) {
          out.add(JSON.readTree(r.body()));
        }
        queue.acknowledge(batch);
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    return out;
  }

  private static JsonNode awaitOne(InMemoryQueue queue) {
    List<JsonNode> got = new ArrayList<>();
    Await.until("a record on " + queue.name(), () -> {
      got.addAll(drain(queue));
      return !got.isEmpty();
    });
    assertThat(got).hasSize(1);
    return got.get(0);
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.propertyNames().forEach(names::add);
    return names;
  }

  // ---- accepting ----

  @Test
  void invokeAsync_returnsRequestIdAtOnceAndDeliversUnderThatId() {
    create(engine, "who", "mdc"); // answers the request id it ran under
    InMemoryQueue ok = EventSources.queue("ok");
    engine.putFunctionEventInvokeConfig("who",
        EventInvokeConfig.builder().onSuccess(Destination.queue(ok)).build());

    AsyncInvocation accepted = engine.invokeAsync("who", "{\"a\":1}");

    assertThat(accepted.functionRef()).isEqualTo("who");
    assertThat(accepted.requestId()).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    JsonNode record = awaitOne(ok);
    assertThat(record.get("responsePayload").asString()).isEqualTo(accepted.requestId());
    assertThat(invocations("who")).isEqualTo(1);
    Await.until("event deleted", () -> engine.asyncQueue().pendingCount() == 0);
  }

  @Test
  void successRecord_hasLambdasShapeExactly() {
    create(engine, "echo", "echo");
    InMemoryQueue ok = EventSources.queue("ok");
    engine.putFunctionEventInvokeConfig("echo",
        EventInvokeConfig.builder().onSuccess(Destination.queue(ok)).build());

    AsyncInvocation accepted = engine.invokeAsync("echo:$LATEST", "{\"order\":7}");
    JsonNode record = awaitOne(ok);

    assertThat(fieldNames(record)).containsExactlyInAnyOrder("version", "timestamp", "requestContext",
        "requestPayload", "responseContext", "responsePayload");
    assertThat(record.get("version").asString()).isEqualTo("1.0");
    assertThat(record.get("timestamp").asString()).isEqualTo("2026-01-01T00:00:00.000Z");
    JsonNode request = record.get("requestContext");
    assertThat(fieldNames(request)).containsExactlyInAnyOrder("requestId", "functionArn", "condition",
        "approximateInvokeCount");
    assertThat(request.get("requestId").asString()).isEqualTo(accepted.requestId());
    assertThat(request.get("functionArn").asString()).isEqualTo(ARN + "echo:$LATEST");
    assertThat(request.get("condition").asString()).isEqualTo("Success");
    assertThat(request.get("approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(record.get("requestPayload").get("order").asInt()).isEqualTo(7);
    JsonNode response = record.get("responseContext");
    assertThat(fieldNames(response)).containsExactlyInAnyOrder("statusCode", "executedVersion");
    assertThat(response.get("statusCode").asInt()).isEqualTo(200);
    assertThat(response.get("executedVersion").asString()).isEqualTo("$LATEST");
    assertThat(record.get("responsePayload").get("order").asInt()).isEqualTo(7);
  }

  @Test
  void largePayload_waitsOnDiskAndIsDeliveredWhole() {
    create(engine, "echo", "echo");
    InMemoryQueue ok = EventSources.queue("ok");
    engine.putFunctionEventInvokeConfig("echo",
        EventInvokeConfig.builder().onSuccess(Destination.queue(ok)).build());
    String big = "y".repeat(100_000); // over the 1 KB kept in memory: read back from the store at dispatch

    engine.invokeAsync("echo", "{\"big\":\"" + big + "\"}");
    JsonNode record = awaitOne(ok);

    assertThat(record.get("requestPayload").get("big").asString()).isEqualTo(big);
    assertThat(record.get("responsePayload").get("big").asString()).isEqualTo(big);
  }

  @Test
  void builder_validatesAsynchronousSettings() {
    assertThatThrownBy(() -> FaasEngine.builder().maxQueuedAsyncEvents(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxQueuedAsyncEvents must be positive, was 0");
    assertThatThrownBy(() -> FaasEngine.builder().asyncDispatchers(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("asyncDispatchers must be positive, was -1");
    assertThatThrownBy(() -> FaasEngine.builder().asyncSyncWrites(true).asyncSyncWrites(false))
        .isInstanceOf(IllegalStateException.class).hasMessage("asyncSyncWrites was already set to true");
    assertThatThrownBy(() -> FaasEngine.builder().asyncRetryBackoffCap(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void syncWrites_deliverAsWell() {
    LocalEngine synced = newEngine(FaasEngine.builder().asyncSyncWrites(true)
        .asyncStoreDirectory(dir.resolve("synced")));
    create(synced, "echo", "echo");
    InMemoryQueue ok = EventSources.queue("ok");
    synced.putFunctionEventInvokeConfig("echo", EventInvokeConfig.builder().onSuccess(Destination.queue(ok)).build());

    AsyncInvocation accepted = synced.invokeAsync("echo", "{}");

    assertThat(awaitOne(ok).get("requestContext").get("requestId").asString()).isEqualTo(accepted.requestId());
  }

  @Test
  void invokeAsync_rejectsBadRequestsSynchronously() {
    create(engine, "echo", "echo");
    byte[] big = ("\"" + "x".repeat(256 * 1024) + "\"").getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> engine.invokeAsync("echo", big)).isInstanceOf(RequestTooLargeException.class)
        .hasMessageContaining("262146 bytes, over the limit of 262144 bytes");
    assertThatThrownBy(() -> engine.invokeAsync("echo", "{not json")).isInstanceOf(
        InvalidRequestContentException.class);
    assertThatThrownBy(() -> engine.invokeAsync("nope", "{}")).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> engine.invokeAsync("echo:7", "{}")).isInstanceOf(FunctionNotFoundException.class);
    assertThat(engine.asyncQueue().pendingCount()).isZero();
    assertThat(invocations("echo")).isZero();
  }

  @Test
  void invokeAsync_failsLoudlyWhenTheQueueIsFullAndAcceptsAgainOnceItDrains() throws Exception {
    LocalEngine small = newEngine(FaasEngine.builder().maxQueuedAsyncEvents(2)
        .asyncStoreDirectory(dir.resolve("small")));
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(2);
    create(small, "slow", "block");
    small.invokeAsync("slow", "1");
    small.invokeAsync("slow", "2");
    runtime.started.await();

    assertThatThrownBy(() -> small.invokeAsync("slow", "3")).isInstanceOf(AsyncQueueFullException.class)
        .hasMessageContaining("asynchronous queue is full: 2 events are waiting");
    assertThat(small.asyncQueue().pendingCount()).isEqualTo(2);

    runtime.gate.countDown();
    Await.until("both delivered", () -> small.asyncQueue().pendingCount() == 0);
    small.invokeAsync("slow", "4");
    Await.until("third delivered", () -> invocations("slow") == 3);
  }

  // ---- retries, backoff and event age ----

  @Test
  void functionError_isRetriedExactlyTwiceOnTheBackoffThenSentToTheFailureDestination() {
    create(engine, "bad", "throw");
    InMemoryQueue failures = EventSources.queue("failures");
    engine.putFunctionEventInvokeConfig("bad",
        EventInvokeConfig.builder().onFailure(Destination.queue(failures)).build());
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5));

    AsyncInvocation accepted = engine.invokeAsync("bad", "{\"n\":1}");
    Await.until("first attempt", () -> invocations("bad") == 1);
    long first = backoff.delayMillis(accepted.requestId(), 1);
    assertThat(first).isBetween(500L, 1000L);
    Await.until("retry scheduled", () -> engine.asyncQueue().delayedDueTimes().size() == 1);
    assertThat(engine.asyncQueue().delayedDueTimes()).containsExactly(time.millis() + first);

    time.advance(Duration.ofMillis(first - 1));
    assertThat(engine.asyncQueue().delayedDueTimes()).hasSize(1); // not due a millisecond early
    time.advance(Duration.ofMillis(1));
    Await.until("second attempt", () -> invocations("bad") == 2);
    long second = backoff.delayMillis(accepted.requestId(), 2);
    assertThat(second).isBetween(1000L, 2000L);
    Await.until("second retry scheduled", () -> engine.asyncQueue().delayedDueTimes().size() == 1);
    assertThat(engine.asyncQueue().delayedDueTimes()).containsExactly(time.millis() + second);

    time.advance(Duration.ofMillis(second));
    JsonNode record = awaitOne(failures);

    assertThat(invocations("bad")).isEqualTo(3);
    assertThat(record.get("requestContext").get("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(record.get("requestContext").get("approximateInvokeCount").asInt()).isEqualTo(3);
    assertThat(record.get("requestContext").get("requestId").asString()).isEqualTo(accepted.requestId());
    assertThat(record.get("responseContext").get("functionError").asString()).isEqualTo("Unhandled");
    assertThat(record.get("responseContext").get("statusCode").asInt()).isEqualTo(200);
    assertThat(record.get("responsePayload").get("errorType").asString())
        .isEqualTo("java.lang.IllegalArgumentException");
    assertThat(record.get("responsePayload").get("errorMessage").asString()).isEqualTo("bad input");
    assertThat(record.get("requestPayload").get("n").asInt()).isEqualTo(1);
    Await.until("event deleted", () -> engine.asyncQueue().pendingCount() == 0);
    assertThat(engine.asyncQueue().delayedDueTimes()).isEmpty();
  }

  @Test
  void zeroRetries_invokesOnce() {
    create(engine, "bad", "throw");
    InMemoryQueue failures = EventSources.queue("failures");
    engine.putFunctionEventInvokeConfig("bad", EventInvokeConfig.builder().maximumRetryAttempts(0)
        .onFailure(Destination.queue(failures)).build());

    engine.invokeAsync("bad", "{}");
    JsonNode record = awaitOne(failures);

    assertThat(record.get("requestContext").get("approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(invocations("bad")).isEqualTo(1);
  }

  @Test
  void timeout_isRetriedLikeAFunctionError() {
    engine.createFunction(FunctionConfig.builder("slow").runtime("fake").handler("spin")
        .timeout(Duration.ofSeconds(1)).build(), FunctionCode.fromDirectory(code));
    InMemoryQueue failures = EventSources.queue("failures");
    engine.putFunctionEventInvokeConfig("slow", EventInvokeConfig.builder().maximumRetryAttempts(0)
        .onFailure(Destination.queue(failures)).build());

    engine.invokeAsync("slow", "{}");
    Await.until("running", () -> invocations("slow") == 1);
    time.advance(Duration.ofSeconds(2)); // past the deadline: the watchdog stops it
    JsonNode record = awaitOne(failures);

    assertThat(record.get("responsePayload").get("errorType").asString()).isEqualTo("Sandbox.Timedout");
    assertThat(record.get("responsePayload").get("errorMessage").asString())
        .isEqualTo("Task timed out after 1.00 seconds");
  }

  @Test
  void responseTooLarge_isAFunctionErrorLikeAnyOther() {
    create(engine, "big", "sized");
    InMemoryQueue failures = EventSources.queue("failures");
    engine.putFunctionEventInvokeConfig("big", EventInvokeConfig.builder().maximumRetryAttempts(1)
        .onFailure(Destination.queue(failures)).build());

    engine.invokeAsync("big", "6291457");
    Await.until("first attempt", () -> invocations("big") == 1);
    Await.until("retry scheduled", () -> engine.asyncQueue().delayedDueTimes().size() == 1);
    time.advance(Duration.ofSeconds(1));
    JsonNode record = awaitOne(failures);

    assertThat(invocations("big")).isEqualTo(2);
    assertThat(record.get("requestContext").get("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(record.get("responseContext").get("functionError").asString()).isEqualTo("Unhandled");
    assertThat(record.get("responsePayload").get("errorType").asString())
        .isEqualTo("Function.ResponseSizeTooLarge");
    assertThat(runtime.environments).hasSize(1);
  }

  @Test
  void eventOlderThanMaximumAge_isNotInvokedAgainAndGoesToTheFailureDestination() {
    create(engine, "bad", "throw");
    InMemoryQueue failures = EventSources.queue("failures");
    engine.putFunctionEventInvokeConfig("bad", EventInvokeConfig.builder().maximumEventAge(Duration.ofSeconds(60))
        .onFailure(Destination.queue(failures)).build());

    engine.invokeAsync("bad", "{}");
    Await.until("first attempt", () -> invocations("bad") == 1);
    Await.until("retry scheduled", () -> engine.asyncQueue().delayedDueTimes().size() == 1);
    time.advance(Duration.ofSeconds(61));
    JsonNode record = awaitOne(failures);

    assertThat(invocations("bad")).isEqualTo(1);
    assertThat(record.get("requestContext").get("condition").asString()).isEqualTo("EventAgeExceeded");
    assertThat(record.get("requestContext").get("approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(record.get("responseContext").get("functionError").asString()).isEqualTo("Unhandled");
    assertThat(record.get("responsePayload").get("errorMessage").asString()).isEqualTo("bad input");
  }

  @Test
  void failureRecord_ofAnEventForAnAlias_namesTheVersionItRan() {
    create(engine, "bad", "throw");
    engine.publishVersion("bad"); // version 1
    engine.createAlias("bad", "live", "1");
    InMemoryQueue failures = EventSources.queue("failures");
    engine.putFunctionEventInvokeConfig("bad", EventInvokeConfig.builder().maximumRetryAttempts(0)
        .onFailure(Destination.queue(failures)).build());

    engine.invokeAsync("bad:live", "{}");
    JsonNode record = awaitOne(failures);

    assertThat(record.get("requestContext").get("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(record.get("responseContext").get("executedVersion").asString()).isEqualTo("1");
  }

  @Test
  void eventInvokeConfig_validatesAsLambda() {
    assertThatThrownBy(() -> EventInvokeConfig.builder().maximumRetryAttempts(3))
        .isInstanceOf(InvalidConfigurationException.class).hasMessage("maximumRetryAttempts must be 0..2, was 3");
    assertThatThrownBy(() -> EventInvokeConfig.builder().maximumEventAge(Duration.ofSeconds(59)))
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("maximumEventAge must be 60..21600 whole seconds, was PT59S");
    assertThatThrownBy(() -> EventInvokeConfig.builder().maximumEventAge(Duration.ofSeconds(21_601)))
        .isInstanceOf(InvalidConfigurationException.class);
    assertThatThrownBy(() -> EventInvokeConfig.builder().maximumRetryAttempts(1).maximumRetryAttempts(2))
        .isInstanceOf(IllegalStateException.class).hasMessage("maximumRetryAttempts was already set to 1");
    EventInvokeConfig d = EventInvokeConfig.defaults();
    assertThat(d.maximumRetryAttempts()).isEqualTo(2);
    assertThat(d.maximumEventAge()).isEqualTo(Duration.ofHours(6));
    assertThat(d.onSuccess()).isEmpty();
  }

  // ---- destinations ----

  @Test
  void deadLetterTarget_getsTheOriginalEventWithLambdasAttributes() {
    create(engine, "bad", "throw");
    List<byte[]> bodies = new CopyOnWriteArrayList<>();
    List<Map<String, String>> attributes = new CopyOnWriteArrayList<>();
    engine.putFunctionEventInvokeConfig("bad", EventInvokeConfig.builder().maximumRetryAttempts(0)
        .deadLetter(Destination.sink("dlq", (body, attrs) -> {
          bodies.add(body);
          attributes.add(attrs);
        })).build());

    AsyncInvocation accepted = engine.invokeAsync("bad", "{\"id\":42}");
    Await.until("dead letter", () -> bodies.size() == 1);

    assertThat(new String(bodies.get(0), StandardCharsets.UTF_8)).isEqualTo("{\"id\":42}");
    assertThat(attributes.get(0)).containsOnlyKeys("RequestID", "ErrorCode", "ErrorMessage")
        .containsEntry("RequestID", accepted.requestId()).containsEntry("ErrorCode", "200");
    assertThat(attributes.get(0).get("ErrorMessage")).contains("\"errorMessage\":\"bad input\"");
  }

  @Test
  void functionDestination_invokesTheOtherFunctionAsynchronouslyWithTheRecord() {
    create(engine, "first", "echo");
    create(engine, "second", "echo");
    InMemoryQueue end = EventSources.queue("end");
    engine.putFunctionEventInvokeConfig("first",
        EventInvokeConfig.builder().onSuccess(Destination.function("second")).build());
    engine.putFunctionEventInvokeConfig("second",
        EventInvokeConfig.builder().onSuccess(Destination.queue(end)).build());

    AsyncInvocation accepted = engine.invokeAsync("first", "{\"step\":1}");
    JsonNode record = awaitOne(end);

    assertThat(record.get("requestContext").get("functionArn").asString()).isEqualTo(ARN + "second:$LATEST");
    JsonNode firstRecord = record.get("requestPayload");
    assertThat(firstRecord.get("requestContext").get("requestId").asString()).isEqualTo(accepted.requestId());
    assertThat(firstRecord.get("requestPayload").get("step").asInt()).isEqualTo(1);
    assertThat(invocations("second")).isEqualTo(1);
  }

  @Test
  void failingSink_isLoggedWithTheRecordAndTheEventIsStillFinished() {
    create(engine, "echo", "echo");
    engine.putFunctionEventInvokeConfig("echo", EventInvokeConfig.builder()
        .onSuccess(Destination.sink("broken", (b, a) -> {
          throw new IllegalStateException("sink down");
        })).build());
    try (LogCapture log = LogCapture.of(AsyncInvocations.class.getName())) {
      engine.invokeAsync("echo", "{\"k\":1}");
      Await.until("logged", () -> log.lines().stream().anyMatch(l -> l.message().contains("sink down")));
      assertThat(log.lines()).anyMatch(l -> l.message().contains("on-success record")
          && l.message().contains("\"requestPayload\":{\"k\":1}"));
    }
    Await.until("event finished", () -> engine.asyncQueue().pendingCount() == 0);
  }

  // ---- recursion guard ----

  @Test
  void recursionGuard_stopsALoopThroughDestinationsAtTheSeventeenthInvocation() {
    create(engine, "ping", "ok"); // answers "ok": records nest the event, not the event twice
    create(engine, "pong", "ok");
    InMemoryQueue stopped = EventSources.queue("stopped");
    engine.putFunctionEventInvokeConfig("ping", EventInvokeConfig.builder()
        .onSuccess(Destination.function("pong")).onFailure(Destination.queue(stopped)).build());
    engine.putFunctionEventInvokeConfig("pong",
        EventInvokeConfig.builder().onSuccess(Destination.function("ping")).build());

    try (LogCapture log = LogCapture.of(AsyncInvocations.class.getName())) {
      engine.invokeAsync("ping", "{\"start\":true}");
      JsonNode record = awaitOne(stopped);

      assertThat(invocations("ping")).isEqualTo(16);
      assertThat(invocations("pong")).isEqualTo(16);
      assertThat(record.get("requestContext").get("condition").asString()).isEqualTo("RecursiveInvocationDetected");
      assertThat(record.get("requestContext").get("approximateInvokeCount").asInt()).isZero();
      assertThat(record.has("responseContext")).isFalse();
      assertThat(record.get("requestPayload").get("requestContext").get("functionArn").asString())
          .isEqualTo(ARN + "pong:$LATEST");
      assertThat(log.lines()).anyMatch(l -> l.message().contains("recursive loop detection")
          && l.message().contains("17th time"));
    }
    Await.until("nothing left", () -> engine.asyncQueue().pendingCount() == 0);
    assertThat(engine.getFunctionMetrics("ping").recursiveInvocationsDropped()).isEqualTo(1);
    assertThat(engine.getFunctionMetrics("pong").recursiveInvocationsDropped()).isZero();
  }

  @Test
  void recursionGuard_failureDestinationInsideTheLoopDoesNotLoop() {
    create(engine, "self", "ok");
    engine.putFunctionEventInvokeConfig("self", EventInvokeConfig.builder()
        .onSuccess(Destination.function("self")).onFailure(Destination.function("self")).build());
    try (LogCapture log = LogCapture.of(AsyncInvocations.class.getName())) {
      engine.invokeAsync("self", "{}");
      Await.until("dropped", () -> log.lines().stream().anyMatch(l -> l.message().contains("dropped")));
    }
    Await.until("nothing left", () -> engine.asyncQueue().pendingCount() == 0);
    assertThat(invocations("self")).isEqualTo(16);
    // the 17th event, then its failure record sent back to the function: both stopped before they reached it
    assertThat(engine.getFunctionMetrics("self").recursiveInvocationsDropped()).isEqualTo(2);
  }

  private static final String MAPPING_LOGGER = "dev.embla.faas.internal.router.EventSourceMapping";

  private static boolean loopStopped(LogCapture log) {
    return log.lines().stream().anyMatch(l -> l.message().contains("recursive loop detection"));
  }

  @Test
  void recursionGuard_stopsALoopThroughAQueueDestinationAndItsMappingAfterSixteenRuns() {
    HostCallRuntime host = new HostCallRuntime();
    LocalEngine e = newEngine(FaasEngine.builder().addRuntime(host));
    InMemoryQueue loop = EventSources.queue("loop");
    e.createFunction(FunctionConfig.builder("looper").runtime("host").handler("h").build(),
        FunctionCode.fromDirectory(code));
    e.putFunctionEventInvokeConfig("looper", EventInvokeConfig.builder().onSuccess(Destination.queue(loop)).build());
    // Run by the queue's mapping, the function has the host invoke it asynchronously, and the on-success record of
    // that run goes back to the queue: looper -> invokeAsync -> looper -> on-success -> queue -> mapping -> looper.
    host.code = (function, payload) -> {
      if (payload.contains("\"Records\"")) {
        e.invokeAsync("looper", "{}");
      }
    };

    EventSourceConnection mapping;
    try (LogCapture mappingLog = LogCapture.of(MAPPING_LOGGER);
        LogCapture asyncLog = LogCapture.of(AsyncInvocations.class.getName())) {
      mapping = e.connect(loop, "looper", new BatchOptions(1, Duration.ZERO));
      loop.send("{\"start\":true}"); // from the test's thread: no chain, so a first hop like any other message
      Await.until("the loop stopped", () -> loopStopped(mappingLog));

      // Runs 1, 3, ..., 15 by the mapping, 2, 4, ..., 16 asynchronous; the 17th would be the mapping's.
      assertThat(host.runs("looper")).isEqualTo(16);
      assertThat(mappingLog.lines()).filteredOn(l -> l.message().contains("recursive loop detection"))
          .singleElement().satisfies(l -> assertThat(l.message())
              .contains("function 'looper'", "queue loop", "17th time", "{looper=16}"));
      assertThat(loopStopped(asyncLog)).as("stopped by the mapping, not the asynchronous guard").isFalse();
    }
    Await.until("nothing left", () -> e.asyncQueue().pendingCount() == 0
        && loop.approximateNumberOfMessages() + loop.approximateNumberOfMessagesNotVisible() == 0);
    assertThat(mapping.succeeded()).isEqualTo(8);
    assertThat(host.runs("looper")).isEqualTo(16);
    assertThat(e.getFunctionMetrics("looper").recursiveInvocationsDropped()).isEqualTo(1);
  }

  @Test
  void recursionGuard_stopsAFunctionSendingToItsOwnQueueFromHostCodeAfterSixteenRuns() {
    HostCallRuntime host = new HostCallRuntime();
    LocalEngine e = newEngine(FaasEngine.builder().addRuntime(host));
    InMemoryQueue loop = EventSources.queue("echo-chamber");
    e.createFunction(FunctionConfig.builder("sender").runtime("host").handler("h").build(),
        FunctionCode.fromDirectory(code));
    host.code = (function, payload) -> loop.send("{\"again\":true}"); // on the invocation's thread

    try (LogCapture log = LogCapture.of(MAPPING_LOGGER)) {
      EventSourceConnection mapping = e.connect(loop, "sender", new BatchOptions(1, Duration.ZERO));
      loop.send("{\"start\":true}");
      Await.until("the loop stopped", () -> loopStopped(log));

      assertThat(host.runs("sender")).isEqualTo(16);
      assertThat(mapping.succeeded()).isEqualTo(16);
      assertThat(log.lines()).singleElement().satisfies(l -> assertThat(l.message())
          .contains("function 'sender'", "queue echo-chamber", "{sender=16}"));
    }
    Await.until("queue empty",
        () -> loop.approximateNumberOfMessages() + loop.approximateNumberOfMessagesNotVisible() == 0);
    assertThat(host.runs("sender")).isEqualTo(16);
    assertThat(e.getFunctionMetrics("sender").recursiveInvocationsDropped()).isEqualTo(1);
  }

  @Test
  void hopChain_ofTheRunningInvocationIsPassedToEventsItProduces() {
    HopChain chain = HopChain.EMPTY.plus("a").plus("b").plus("a");
    assertThat(chain.count("a")).isEqualTo(2);
    assertThat(chain.count("b")).isEqualTo(1);
    assertThat(chain.count("c")).isZero();
    HopChain previous = HopChain.enter(chain);
    try {
      assertThat(HopChain.current()).isEqualTo(chain);
    } finally {
      HopChain.restore(previous);
    }
    assertThat(HopChain.current()).isSameAs(HopChain.EMPTY);
  }

  // ---- restart and shutdown ----

  @Test
  void closeAndReopen_deliversWhatWasLeftWithItsState() {
    Path store = dir.resolve("store");
    LocalEngine first = newEngine(FaasEngine.builder().asyncStoreDirectory(store));
    create(first, "job", "throw");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ids.add(first.invokeAsync("job", "{\"i\":" + i + "}").requestId());
    }
    Await.until("each tried once", () -> first.asyncQueue().delayedDueTimes().size() == 50);
    first.close();

    FakeRuntime other = new FakeRuntime();
    LocalEngine second = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(other)
        .asyncStoreDirectory(store).workDirectory(dir.resolve("work2")).build();
    engines.add(second);
    InMemoryQueue ok = EventSources.queue("ok", Duration.ofSeconds(30), 1000);
    second.putFunctionEventInvokeConfig("job", EventInvokeConfig.builder().onSuccess(Destination.queue(ok)).build());
    second.createFunction(FunctionConfig.builder("job").runtime("fake").handler("echo").build(),
        FunctionCode.fromDirectory(code));
    assertThat(second.asyncQueue().pendingCount()).isEqualTo(50);
    time.advance(Duration.ofSeconds(2)); // past every first backoff (at most 1 s)

    List<JsonNode> records = new ArrayList<>();
    Await.until("all delivered", () -> {
      records.addAll(drain(ok));
      return records.size() >= 50;
    });
    assertThat(records).extracting(r -> r.get("requestContext").get("requestId").asString())
        .containsExactlyInAnyOrderElementsOf(ids);
    assertThat(records).allMatch(r -> r.get("requestContext").get("approximateInvokeCount").asInt() == 2);
  }

  @Test
  void recoveredEvents_waitForTheirFunctionToBeRegistered() {
    Path store = dir.resolve("store");
    LocalEngine first = newEngine(FaasEngine.builder().asyncStoreDirectory(store).asyncDispatchers(1),
        Duration.ofMillis(50));
    create(first, "later", "spin"); // holds the only dispatcher until close stops it
    first.invokeAsync("later", "{\"x\":1}");
    first.invokeAsync("later", "{\"x\":2}");
    first.invokeAsync("later", "{\"x\":3}");
    Await.until("one running", () -> invocations("later") == 1);
    first.close();

    FakeRuntime other = new FakeRuntime();
    LocalEngine second = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(other)
        .asyncStoreDirectory(store).workDirectory(dir.resolve("work2")).build();
    engines.add(second);
    int left = second.asyncQueue().pendingCount();
    assertThat(left).isEqualTo(3);
    Await.until("found no function", () -> second.asyncQueue().delayedDueTimes().size() == left);

    second.createFunction(FunctionConfig.builder("later").runtime("fake").handler("echo").build(),
        FunctionCode.fromDirectory(code));
    time.advance(AsyncInvocations.FUNCTION_RECHECK);
    Await.until("delivered", () -> second.asyncQueue().pendingCount() == 0);
    assertThat(other.environments.stream().mapToInt(env -> env.invokes.get()).sum()).isEqualTo(left);
  }

  @Test
  void close_letsInFlightDeliveryFinishWithinTheGracePeriod() throws Exception {
    runtime.gate = new CountDownLatch(1);
    runtime.started = new CountDownLatch(1);
    create(engine, "slow", "block");
    InMemoryQueue ok = EventSources.queue("ok");
    engine.putFunctionEventInvokeConfig("slow", EventInvokeConfig.builder().onSuccess(Destination.queue(ok)).build());
    engine.invokeAsync("slow", "{}");
    runtime.started.await();

    Thread closer = Thread.ofPlatform().start(engine::close);
    Await.until("closing", () -> {
      try {
        engine.invokeAsync("no-such-function", "{}");
        throw new AssertionError("accepted an event for a function that does not exist");
      } catch (FunctionNotFoundException e) {
        return false; // still open
      } catch (EngineClosedException e) {
        return true;
      }
    });
    runtime.gate.countDown();
    closer.join(Duration.ofSeconds(10));

    assertThat(closer.isAlive()).isFalse();
    assertThat(drain(ok)).hasSize(1);
    assertThat(engine.asyncQueue().pendingCount()).isZero();
  }

  /**
   * Starts a second engine on {@code store} where "stuck" now echoes and sends its on-success records to a new queue,
   * and lets its recheck of the not-yet-registered function come due; returns the queue.
   */
  private InMemoryQueue restartWithStuckEchoing(Path store, String queueName) {
    LocalEngine second = (LocalEngine) FaasEngine.builder().ticker(time).clock(time).addRuntime(new FakeRuntime())
        .asyncStoreDirectory(store).workDirectory(dir.resolve("work2")).build();
    engines.add(second);
    InMemoryQueue ok = EventSources.queue(queueName);
    second.putFunctionEventInvokeConfig("stuck", EventInvokeConfig.builder().onSuccess(Destination.queue(ok)).build());
    second.createFunction(FunctionConfig.builder("stuck").runtime("fake").handler("echo").build(),
        FunctionCode.fromDirectory(code));
    time.advance(AsyncInvocations.FUNCTION_RECHECK);
    return ok;
  }

  @Test
  void close_afterTheGracePeriodLeavesTheStoppedEventStoredForTheNextStart() {
    Path store = dir.resolve("store");
    LocalEngine first = newEngine(FaasEngine.builder().asyncStoreDirectory(store), Duration.ofMillis(100));
    create(first, "stuck", "spin");
    AsyncInvocation accepted = first.invokeAsync("stuck", "{\"a\":1}");
    Await.until("running", () -> invocations("stuck") == 1);

    try (LogCapture log = LogCapture.of(AsyncInvocations.class.getName())) {
      first.close();
      assertThat(log.lines()).anyMatch(l -> l.message().contains("closed with 1 event(s) not yet delivered"));
    }
    assertThatThrownBy(() -> first.invokeAsync("stuck", "{}")).isInstanceOf(EngineClosedException.class);

    JsonNode record = awaitOne(restartWithStuckEchoing(store, "ok"));

    assertThat(record.get("requestContext").get("requestId").asString()).isEqualTo(accepted.requestId());
    // the stopped attempt was the engine's doing, not the function's: it is not counted
    assertThat(record.get("requestContext").get("approximateInvokeCount").asInt()).isEqualTo(1);
  }

  @Test
  void close_stoppingASharedEnvironment_leavesEveryEventInItStoredAndUncounted() {
    Path store = dir.resolve("store");
    LocalEngine first = newEngine(FaasEngine.builder().asyncStoreDirectory(store), Duration.ofMillis(100));
    first.createFunction(FunctionConfig.builder("stuck").runtime("fake").handler("spin")
        .maxConcurrencyPerEnvironment(2).build(), FunctionCode.fromDirectory(code));
    first.invokeAsync("stuck", "{\"a\":1}");
    first.invokeAsync("stuck", "{\"b\":2}");
    Await.until("both running in one environment", () -> invocations("stuck") == 2);
    assertThat(runtime.environments).hasSize(1);
    // Close stops the two lanes one after the other. Whichever way each ends (stopped by close, or failing because
    // the environment it shares was cancelled under it), that is the engine's doing, not the function's.
    first.close();

    InMemoryQueue ok = restartWithStuckEchoing(store, "ok-shared");
    List<JsonNode> records = new ArrayList<>();
    Await.until("two records", () -> {
      records.addAll(drain(ok));
      return records.size() == 2;
    });
    assertThat(records).allSatisfy(r ->
        assertThat(r.get("requestContext").get("approximateInvokeCount").asInt()).isEqualTo(1));
  }

  @Test
  void storeDirectory_isNotCreatedUntilTheFirstAsynchronousEvent() {
    create(engine, "echo", "echo");
    engine.invoke("echo", "{}");
    assertThat(dir.resolve("work").resolve("async-events")).doesNotExist();
    engine.invokeAsync("echo", "{}");
    assertThat(dir.resolve("work").resolve("async-events").resolve("CURRENT")).exists();
  }

  @Test
  void getFunctionEventInvokeConfig_returnsWhatWasPutAndIsForgottenWithTheFunction() {
    create(engine, "echo", "echo");
    assertThat(engine.getFunctionEventInvokeConfig("echo")).isEmpty();
    EventInvokeConfig config = EventInvokeConfig.builder().maximumRetryAttempts(1).build();
    engine.putFunctionEventInvokeConfig("echo", config);
    assertThat(engine.getFunctionEventInvokeConfig("echo")).containsSame(config);
    engine.deleteFunction("echo");
    assertThat(engine.getFunctionEventInvokeConfig("echo")).isEmpty();
  }
}
