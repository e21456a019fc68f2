package dev.embla.faas.internal.async;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.CountDownLatch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.Destination;
import dev.embla.faas.EventInvokeConfig;
import dev.embla.faas.FaasException;
import dev.embla.faas.FunctionError;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.TooManyRequestsException;
import dev.embla.faas.internal.recursion.HopChain;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.LogCapture;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The queue on its own, against a scripted target: throttles, backoff arithmetic and the stored layout. */
class AsyncDeliveryTest {

  /** The concurrency gate's throttle error, which {@link AsyncInvocations#isThrottle} recognises. */
  static TooManyRequestsException throttle() {
    return new TooManyRequestsException(
        TooManyRequestsException.Reason.RESERVED_FUNCTION_CONCURRENT_INVOCATION_LIMIT_EXCEEDED, "reserved concurrency of 'f' (1) reached");
  }

  /** What a scripted target does when the queue invokes a function reference. */
  interface Script {
    InvocationResult invoke(String functionRef, byte[] payload, String requestId);
  }

  /** A target that runs {@code script}, names functions {@code arn:test:<ref>} and ignores recursion stops. */
  static AsyncTarget scripted(Script script) {
    return new AsyncTarget() {
      @Override
      public InvocationResult invoke(String functionRef, byte[] payload, String requestId) {
        return script.invoke(functionRef, payload, requestId);
      }

      @Override
      public String functionArn(String functionRef) {
        return "arn:test:" + functionRef;
      }

      @Override
      public void recursionStopped(String functionName) {}
    };
  }

  static InvocationResult success(String requestId, String executedVersion) {
    return new InvocationResult(requestId, executedVersion, "\"ok\"".getBytes(StandardCharsets.UTF_8), null, 1000, -1,
        1);
  }

  /** A handler error from the given version, as the engine reports it. */
  static InvocationResult handlerError(String requestId, String executedVersion) {
    FunctionError error = new FunctionError(FunctionError.Kind.HANDLER, "E", "boom", List.of());
    return new InvocationResult(requestId, executedVersion, error.toJson().getBytes(StandardCharsets.UTF_8), error,
        1000, -1, 1);
  }

  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;
  final FakeTicker time = new FakeTicker();
  AsyncInvocations queue;

  @AfterEach
  void tearDown() {
    if (queue != null) {
      queue.close(Duration.ofSeconds(2));
    }
  }

  @Test
  void anInvocationStoppedBecauseTheEngineCloses_isNotAFailure_evenWhenItsSharedEnvironmentWasCancelled()
      throws Exception {
    // Closing stops the lanes of a shared environment one after the other: a lane not yet reached fails with
    // Runtime.EnvironmentCancelled rather than Runtime.EngineClosed. Either is the engine's doing.
    for (String errorType : List.of("Runtime.EngineClosed", "Runtime.EnvironmentCancelled")) {
      CountDownLatch invoked = new CountDownLatch(1);
      CountDownLatch stopped = new CountDownLatch(1);
      List<String> failures = new CopyOnWriteArrayList<>();
      Path store = Files.createDirectories(dir.resolve(errorType));
      AsyncInvocations first = new AsyncInvocations(oneDispatcher(), store, true, time, scripted((ref, payload, id) -> {
        invoked.countDown();
        try {
          stopped.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        FunctionError error = new FunctionError(FunctionError.Kind.RUNTIME, errorType, "stopped", List.of());
        return new InvocationResult(id, "$LATEST", error.toJson().getBytes(StandardCharsets.UTF_8), error, 1000, -1,
            1);
      }));
      first.putConfig("f", EventInvokeConfig.builder().maximumRetryAttempts(0)
          .onFailure(Destination.sink("failed", (body, attrs) -> failures.add(new String(body, StandardCharsets.UTF_8))))
          .build());
      first.accept("f", "{}".getBytes(StandardCharsets.UTF_8));
      assertThat(invoked.await(10, TimeUnit.SECONDS)).isTrue();
      first.stopDispatching();
      stopped.countDown();
      first.close(Duration.ofSeconds(2));
      assertThat(failures).as(errorType).isEmpty();

      List<byte[]> delivered = new CopyOnWriteArrayList<>();
      // The restarted queue dispatches from its constructor on, before a configuration can be put, so its first
      // attempt finds the function not registered yet (as in an engine whose host registers it after the queue
      // started) and the next one, a recheck later, runs with the configuration.
      CountDownLatch firstAttempt = new CountDownLatch(1);
      queue = new AsyncInvocations(oneDispatcher(), store, true, time, scripted((ref, payload, id) -> {
        if (firstAttempt.getCount() > 0) {
          firstAttempt.countDown();
          throw new FunctionNotFoundException("function '" + ref + "' is not registered yet");
        }
        return success(id, "1");
      }));
      assertThat(firstAttempt.await(10, TimeUnit.SECONDS)).isTrue();
      queue.putConfig("f", EventInvokeConfig.builder()
          .onSuccess(Destination.sink("ok", (body, attrs) -> delivered.add(body))).build());
      Await.until("the recheck scheduled", () -> queue.delayedDueTimes().size() == 1);
      time.advance(AsyncInvocations.FUNCTION_RECHECK);
      Await.until("delivered after the restart", () -> delivered.size() == 1);
      assertThat(JSON.readTree(delivered.get(0)).get("requestContext").get("approximateInvokeCount").asInt())
          .as(errorType).isEqualTo(1);
      queue.close(Duration.ofSeconds(2));
      queue = null;
    }
  }

  @Test
  void throttle_isRetriedOnTheBackoffWithoutUsingUpRetries() {
    AtomicInteger calls = new AtomicInteger();
    queue = new AsyncInvocations(AsyncSettings.defaults(null), dir, true, time, new AsyncTarget() {
      @Override
      public InvocationResult invoke(String functionRef, byte[] payload, String requestId) {
        if (calls.incrementAndGet() <= 3) {
          throw throttle();
        }
        return new InvocationResult(requestId, "$LATEST", payload, null, 1000, -1, 1);
      }

      @Override
      public String functionArn(String functionRef) {
        return "arn:test:" + functionRef;
      }

      @Override
      public void recursionStopped(String functionName) {}
    });
    List<byte[]> records = new CopyOnWriteArrayList<>();
    queue.putConfig("f", EventInvokeConfig.builder().maximumRetryAttempts(0)
        .onSuccess(Destination.sink("ok", (body, attrs) -> records.add(body))).build());

    queue.accept("f", "{}".getBytes(StandardCharsets.UTF_8));
    for (int attempt = 1; attempt <= 3; attempt++) {
      int expected = attempt;
      Await.until("attempt " + attempt, () -> calls.get() == expected && queue.delayedDueTimes().size() == 1);
      time.advance(Duration.ofMinutes(1));
    }
    Await.until("delivered", () -> records.size() == 1);

    assertThat(calls.get()).isEqualTo(4);
    assertThat(new String(records.get(0), StandardCharsets.UTF_8)).contains("\"condition\":\"Success\"")
        .contains("\"approximateInvokeCount\":1");
    Await.until("finished", () -> queue.pendingCount() == 0);
  }

  @Test
  void missingAlias_holdsBackOnlyItsOwnEventsNotTheFunctionsOthers() {
    List<String> calls = new CopyOnWriteArrayList<>();
    queue = new AsyncInvocations(AsyncSettings.defaults(null), dir, true, time, scripted((ref, payload, id) -> {
      calls.add(ref);
      if (ref.equals("f:old")) {
        throw new FunctionNotFoundException("function 'f' has no version or alias 'old'");
      }
      return success(id, "$LATEST");
    }));

    queue.accept("f:old", "{}".getBytes(StandardCharsets.UTF_8));
    Await.until("f:old found missing", () -> queue.delayedDueTimes().size() == 1);
    long recheck = time.millis() + AsyncInvocations.FUNCTION_RECHECK.toMillis();
    queue.accept("f", "{}".getBytes(StandardCharsets.UTF_8));
    Await.until("the event for f handled", () -> calls.contains("f") || queue.delayedDueTimes().size() == 2);

    assertThat(calls).as("f itself exists: its event runs at once, the clock unmoved").containsExactly("f:old", "f");
    assertThat(queue.delayedDueTimes()).containsExactly(recheck);
    time.advance(AsyncInvocations.FUNCTION_RECHECK);
    Await.until("f:old checked again", () -> calls.size() == 3);
    assertThat(calls.get(2)).isEqualTo("f:old");
  }

  @Test
  void failureRecord_namesTheVersionThatRan() {
    queue = new AsyncInvocations(AsyncSettings.defaults(null), dir, true, time,
        scripted((ref, payload, id) -> handlerError(id, "7"))); // the alias points at version 7
    List<byte[]> records = new CopyOnWriteArrayList<>();
    queue.putConfig("g", EventInvokeConfig.builder().maximumRetryAttempts(0)
        .onFailure(Destination.sink("failures", (body, attrs) -> records.add(body))).build());

    queue.accept("g:live", "{}".getBytes(StandardCharsets.UTF_8));
    Await.until("failure record", () -> records.size() == 1);

    JsonNode record = JSON.readTree(records.get(0));
    assertThat(record.get("requestContext").get("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(record.get("responseContext").get("executedVersion").asString()).isEqualTo("7");
    assertThat(record.get("responseContext").get("functionError").asString()).isEqualTo("Unhandled");
  }

  @Test
  void eventAgeExceededAfterARestart_namesTheVersionThatRanLast() {
    AsyncTarget failing = scripted((ref, payload, id) -> handlerError(id, "7"));
    List<byte[]> records = new CopyOnWriteArrayList<>();
    EventInvokeConfig config = EventInvokeConfig.builder().maximumEventAge(Duration.ofSeconds(60))
        .onFailure(Destination.sink("failures", (body, attrs) -> records.add(body))).build();
    AsyncInvocations first = new AsyncInvocations(AsyncSettings.defaults(null), dir, true, time, failing);
    first.putConfig("g", config);
    first.accept("g:live", "{}".getBytes(StandardCharsets.UTF_8));
    Await.until("retry scheduled", () -> first.delayedDueTimes().size() == 1);
    first.close(Duration.ofSeconds(2));

    queue = new AsyncInvocations(AsyncSettings.defaults(null), dir, true, time, failing);
    queue.putConfig("g", config);
    time.advance(Duration.ofSeconds(61));
    Await.until("failure record", () -> records.size() == 1);

    JsonNode record = JSON.readTree(records.get(0));
    assertThat(record.get("requestContext").get("condition").asString()).isEqualTo("EventAgeExceeded");
    assertThat(record.get("requestContext").get("approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(record.get("responseContext").get("executedVersion").asString()).isEqualTo("7");
    assertThat(record.get("responsePayload").get("errorMessage").asString()).isEqualTo("boom");
  }

  /** One dispatcher, so that a dispatcher lost to a failure shows as a queue that stops delivering. */
  static AsyncSettings oneDispatcher() {
    AsyncSettings d = AsyncSettings.defaults(null);
    return new AsyncSettings(null, d.maxQueuedEvents(), 1, d.syncWrites(), d.maxPayloadBytes(), d.backoffBase(),
        d.backoffCap());
  }

  @Test
  void sinkThrowingAnError_isLoggedAndTheDispatcherGoesOn() {
    queue = new AsyncInvocations(oneDispatcher(), dir, true, time, scripted((ref, payload, id) -> success(id, "$LATEST")));
    List<byte[]> delivered = new CopyOnWriteArrayList<>();
    queue.putConfig("h", EventInvokeConfig.builder().onSuccess(Destination.sink("buggy", (body, attrs) -> {
      throw new AssertionError("sink bug");
    })).build());
    queue.putConfig("k", EventInvokeConfig.builder()
        .onSuccess(Destination.sink("ok", (body, attrs) -> delivered.add(body))).build());

    try (LogCapture log = LogCapture.of(AsyncInvocations.class.getName())) {
      queue.accept("h", "{}".getBytes(StandardCharsets.UTF_8));
      queue.accept("k", "{}".getBytes(StandardCharsets.UTF_8));
      Await.until("k's record, after h's failed", () -> delivered.size() == 1);

      assertThat(log.lines()).anyMatch(l -> l.message().contains("on-success record")
          && l.message().contains("java.lang.AssertionError: sink bug"));
    }
    Await.until("both finished, as after a sink's exception", () -> queue.pendingCount() == 0);
  }

  @Test
  void sinkThrowingOutOfMemoryError_leavesTheEventStoredAndTheDispatcherGoesOn() {
    AsyncTarget ok = scripted((ref, payload, id) -> success(id, "$LATEST"));
    List<byte[]> delivered = new CopyOnWriteArrayList<>();
    AsyncInvocations first = new AsyncInvocations(oneDispatcher(), dir, true, time, ok);
    first.putConfig("h", EventInvokeConfig.builder().onSuccess(Destination.sink("exhausted", (body, attrs) -> {
      throw new OutOfMemoryError("simulated");
    })).build());
    first.putConfig("k", EventInvokeConfig.builder()
        .onSuccess(Destination.sink("ok", (body, attrs) -> delivered.add(body))).build());

    String h;
    try (LogCapture log = LogCapture.of(AsyncInvocations.class.getName())) {
      h = first.accept("h", "{}".getBytes(StandardCharsets.UTF_8)).requestId();
      first.accept("k", "{}".getBytes(StandardCharsets.UTF_8));
      Await.until("k's record, after h's failed", () -> delivered.size() == 1);
      Await.until("k finished", () -> first.pendingCount() == 1);

      assertThat(log.lines()).anyMatch(l -> l.message().contains(h) && l.message().contains("stays stored"));
    }
    first.close(Duration.ofSeconds(2));

    // The record was not sent, so the event was not finished: the next start delivers it again.
    List<String> invokedAfterRestart = new CopyOnWriteArrayList<>();
    queue = new AsyncInvocations(oneDispatcher(), dir, true, time, scripted((ref, payload, id) -> {
      invokedAfterRestart.add(id);
      return success(id, "$LATEST");
    }));
    Await.until("h delivered again after the restart", () -> queue.pendingCount() == 0);
    assertThat(invokedAfterRestart).containsExactly(h);
  }

  /** An event as {@code accept} stores it now. */
  private QueuedEvent stored(long seq, String requestId) {
    return new QueuedEvent(seq, requestId, "f", "{}".getBytes(StandardCharsets.UTF_8), time.millis(), 0, 0,
        time.millis(), HopChain.EMPTY, false, null, null);
  }

  @Test
  void recovery_setsAsideAnEventThatDoesNotDecodeAndDeliversTheOthers() {
    byte[] newerLayout = {2, 0, 0};
    byte[] hugeLength = {1, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0}; // a request id of almost 2 GB, 4 bytes given
    EventStore s = EventStore.open(dir, false);
    s.put(0, stored(0, "first").encode());
    s.put(1, newerLayout);
    s.put(2, stored(2, "third").encode());
    s.put(5, hugeLength);
    s.close();
    List<String> delivered = new CopyOnWriteArrayList<>();
    AsyncTarget recording = scripted((ref, payload, id) -> {
      delivered.add(id);
      return success(id, "$LATEST");
    });

    try (LogCapture log = LogCapture.of(EventStore.class.getName())) {
      queue = new AsyncInvocations(oneDispatcher(), dir, true, time, recording);
      Await.until("the others delivered", () -> queue.pendingCount() == 0);

      assertThat(delivered).containsExactly("first", "third");
      assertThat(log.lines()).filteredOn(l -> l.message().contains("does not decode")).hasSize(2)
          .anyMatch(l -> l.message().contains("0000000000000001"))
          .anyMatch(l -> l.message().contains("0000000000000005"));
      assertThat(queue.nextSequence()).as("above the quarantined 5: a new event must not take its key").isEqualTo(6);
    }
    queue.close(Duration.ofSeconds(2));
    EventStore reopened = EventStore.open(dir, false);
    try {
      assertThat(reopened.quarantined(1)).isEqualTo(newerLayout);
      assertThat(reopened.quarantined(5)).isEqualTo(hugeLength);
      assertThat(reopened.get(1)).isNull();
    } finally {
      reopened.close();
    }

    try (LogCapture log = LogCapture.of(EventStore.class.getName())) {
      queue = new AsyncInvocations(oneDispatcher(), dir, true, time, recording);

      assertThat(queue.pendingCount()).isZero();
      assertThat(queue.nextSequence()).isEqualTo(6);
      assertThat(log.lines()).as("set aside once, not found again at every start").isEmpty();
    }
  }

  @Test
  void recovery_thatCannotReadTheStoreFailsLoudlyAndReleasesIt() throws Exception {
    EventStore s = EventStore.open(dir, false);
    for (int i = 0; i < 10; i++) {
      s.put(i, stored(i, "id-" + i).encode());
    }
    s.close();
    EventStore.open(dir, false).close(); // opening replays the write-ahead log into a table file
    Path table;
    try (var files = Files.list(dir)) {
      table = files.filter(f -> f.toString().endsWith(".sst")).findFirst().orElseThrow();
    }
    try (FileChannel ch = FileChannel.open(table, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}), 5); // first block
    }
    AsyncTarget unused = scripted((ref, payload, id) -> success(id, "$LATEST"));

    // The scan stops at the damaged block, before every event: new events would be given their sequence numbers.
    assertThatThrownBy(() -> new AsyncInvocations(oneDispatcher(), dir, true, time, unused))
        .isInstanceOf(FaasException.class)
        .hasMessageContaining("cannot read the asynchronous event store in " + dir)
        .hasMessageContaining("checksum mismatch");
    EventStore.open(dir, false).close(); // not held by the failed start
  }

  @Test
  void isThrottle_recognisesOnlyTheThrottleError() {
    assertThat(AsyncInvocations.isThrottle(throttle())).isTrue();
    assertThat(AsyncInvocations.isThrottle(new FunctionNotFoundException("no f"))).isFalse();
    assertThat(AsyncInvocations.isThrottle(new FaasException("other"))).isFalse();
  }

  @Test
  void backoff_doublesFromTheBaseToTheCapWithJitterInTheUpperHalf() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(10));
    for (int i = 0; i < 200; i++) {
      String id = "request-" + i;
      assertThat(backoff.delayMillis(id, 1)).isBetween(500L, 1000L);
      assertThat(backoff.delayMillis(id, 2)).isBetween(1000L, 2000L);
      assertThat(backoff.delayMillis(id, 3)).isBetween(2000L, 4000L);
      assertThat(backoff.delayMillis(id, 4)).isBetween(4000L, 8000L);
      assertThat(backoff.delayMillis(id, 5)).isBetween(5000L, 10_000L);
      assertThat(backoff.delayMillis(id, 60)).isBetween(5000L, 10_000L);
      assertThat(backoff.delayMillis(id, 2)).isEqualTo(backoff.delayMillis(id, 2)); // reproducible
    }
    long distinct = java.util.stream.IntStream.range(0, 200)
        .mapToLong(i -> backoff.delayMillis("request-" + i, 1)).distinct().count();
    assertThat(distinct).as("jitter spreads events that failed together").isGreaterThan(100);
  }

  @Test
  void queuedEvent_roundTripsThroughItsStoredLayout() {
    QueuedEvent e = new QueuedEvent(42, "id-1", "f:$LATEST", "{\"a\":1}".getBytes(StandardCharsets.UTF_8), 1000, 2,
        1, 5000, HopChain.EMPTY.plus("f").plus("g").plus("f"), true,
        "{\"errorType\":\"E\"}".getBytes(StandardCharsets.UTF_8), "7");

    QueuedEvent back = QueuedEvent.decode(42, e.encode());

    assertThat(back.requestId()).isEqualTo("id-1");
    assertThat(back.functionRef()).isEqualTo("f:$LATEST");
    assertThat(back.functionName()).isEqualTo("f");
    assertThat(back.payload()).isEqualTo(e.payload());
    assertThat(back.acceptedAtMillis()).isEqualTo(1000);
    assertThat(back.invocations()).isEqualTo(2);
    assertThat(back.throttles()).isEqualTo(1);
    assertThat(back.nextAttemptAtMillis()).isEqualTo(5000);
    assertThat(back.chain()).isEqualTo(e.chain());
    assertThat(back.chain().count("f")).isEqualTo(2);
    assertThat(back.afterRecursionStop()).isTrue();
    assertThat(back.lastError()).isEqualTo(e.lastError());
    assertThat(back.lastExecutedVersion()).isEqualTo("7");
    assertThat(back.seq()).isEqualTo(42);
  }

  /** An event as written by the release before the executed version was stored, base64. */
  private static final String EARLIER_LAYOUT =
      "AQAAAARpZC0xAAAABmY6bGl2ZQAAAAAAAAPoAAAAAgAAAAEAAAAAAAATiAAAAQAAAAFmAAAAAQAAABF7ImVycm9yVHlwZSI6IkUifQAAAAd7ImEiOjF9";

  @Test
  void queuedEvent_readsTheEarlierLayoutAndWritesOneAnEarlierReleaseCanRead() {
    byte[] earlier = Base64.getDecoder().decode(EARLIER_LAYOUT);

    QueuedEvent old = QueuedEvent.decode(42, earlier);

    assertThat(old.requestId()).isEqualTo("id-1");
    assertThat(old.functionRef()).isEqualTo("f:live");
    assertThat(old.invocations()).isEqualTo(2);
    assertThat(new String(old.lastError(), StandardCharsets.UTF_8)).isEqualTo("{\"errorType\":\"E\"}");
    assertThat(new String(old.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
    assertThat(old.lastExecutedVersion()).isNull();
    QueuedEvent ran = new QueuedEvent(old.seq(), old.requestId(), old.functionRef(), old.payload(),
        old.acceptedAtMillis(), old.invocations(), old.throttles(), old.nextAttemptAtMillis(), old.chain(),
        old.afterRecursionStop(), old.lastError(), "7");
    // the earlier release reads up to the payload and stops there, so it reads this value as it wrote the old one
    assertThat(ran.encode()).startsWith(earlier);
    assertThat(QueuedEvent.decode(42, old.encode()).lastExecutedVersion()).isNull();
  }
}
