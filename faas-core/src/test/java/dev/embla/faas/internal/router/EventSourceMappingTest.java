package dev.embla.faas.internal.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.BatchOptions;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InMemoryQueue;
import dev.embla.faas.internal.recursion.HopChain;
import dev.embla.faas.internal.source.queue.LocalQueue;
import dev.embla.faas.spi.source.PullEventSource;
import dev.embla.faas.spi.source.SourceRecord;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class EventSourceMappingTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Duration VISIBILITY = Duration.ofSeconds(30);

  private final FakeTicker clock = new FakeTicker();
  private final FakeInvoker invoker = new FakeInvoker();
  private final TimerService timers = new TimerService(clock, Runnable::run);
  private final LocalQueue queue = new LocalQueue("orders", VISIBILITY, 1_000);
  private final List<EventSourceMapping> started = new ArrayList<>();

  @AfterEach
  void closeMappings() {
    started.forEach(EventSourceMapping::close);
  }

  /** A mapping with no poller thread, polled by the test; receives do not wait. */
  private EventSourceMapping mapping(PullEventSource source, BatchOptions options) {
    return mapping(source, options, Duration.ZERO);
  }

  private EventSourceMapping mapping(PullEventSource source, BatchOptions options, Duration receiveWait) {
    RouterSourceContext context = new RouterSourceContext("handler", source.describe(), clock, timers, invoker);
    source.start(context);
    EventSourceMapping m = new EventSourceMapping("esm-1", source, context, options, receiveWait, c -> {});
    started.add(m);
    return m;
  }

  private static JsonNode records(FakeInvoker.Call call) {
    return JSON.readTree(call.payload()).get("Records");
  }

  @Test
  void pollOnce_emptyQueue_doesNotInvoke() throws Exception {
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());
    assertThat(m.pollOnce()).isZero();
    assertThat(invoker.count()).isZero();
    assertThat(m.succeeded() + m.failed()).isZero();
  }

  @Test
  void pollOnce_honoursBatchSize() throws Exception {
    for (int i = 0; i < 25; i++) {
      queue.send("{\"n\":" + i + "}");
    }
    EventSourceMapping m = mapping(queue, new BatchOptions(10, Duration.ZERO));
    assertThat(m.pollOnce()).isEqualTo(10);
    assertThat(records(invoker.calls().getFirst())).hasSize(10);
    assertThat(queue.approximateNumberOfMessages()).isEqualTo(15);

    assertThat(m.pollOnce()).isEqualTo(10);
    assertThat(m.pollOnce()).isEqualTo(5);
    assertThat(m.pollOnce()).isZero();
    assertThat(invoker.count()).isEqualTo(3);
  }

  @Test
  void pollOnce_success_deletesBatchAndCountsSuccess() throws Exception {
    queue.send("a");
    queue.send("b");
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());
    m.pollOnce();
    assertThat(invoker.calls()).singleElement().extracting(FakeInvoker.Call::functionRef).isEqualTo("handler");
    assertThat(queue.approximateNumberOfMessages()).isZero();
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isZero();
    clock.advance(VISIBILITY.multipliedBy(10));
    assertThat(queue.approximateNumberOfMessages()).isZero();
    assertThat(m.succeeded()).isEqualTo(1);
    assertThat(m.failed()).isZero();
  }

  @Test
  void pollOnce_functionError_redeliversOnlyAfterVisibilityTimeout() throws Exception {
    queue.send("poison");
    invoker.answer((ref, payload) -> FakeInvoker.failure("java.lang.IllegalStateException", "bad order"));
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());

    assertThat(m.pollOnce()).isEqualTo(1);
    assertThat(m.failed()).isEqualTo(1);
    // Not deleted, and not back yet: SQS returns a failed message after its visibility timeout, not at once.
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isEqualTo(1);
    assertThat(m.pollOnce()).isZero();
    clock.advance(VISIBILITY.minusSeconds(1));
    assertThat(m.pollOnce()).isZero();
    assertThat(invoker.count()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(1));
    invoker.answer((ref, payload) -> FakeInvoker.success("null"));
    assertThat(m.pollOnce()).isEqualTo(1);
    JsonNode record = records(invoker.calls().get(1)).get(0);
    assertThat(record.get("body").stringValue()).isEqualTo("poison");
    assertThat(record.get("attributes").get("ApproximateReceiveCount").stringValue()).isEqualTo("2");
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible()).isZero();
  }

  @Test
  void pollOnce_invokerThrows_countsFailureAndKeepsMessages() throws Exception {
    queue.send("x");
    invoker.answer((ref, payload) -> {
      throw new FunctionNotFoundException("function not found: handler");
    });
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());
    assertThat(m.pollOnce()).isEqualTo(1);
    assertThat(m.failed()).isEqualTo(1);
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isEqualTo(1);
    clock.advance(VISIBILITY);
    assertThat(queue.approximateNumberOfMessages()).isEqualTo(1);
  }

  @Test
  void pollOnce_partialBatchFailure_releasesOnlyReportedRecords() throws Exception {
    String keep = queue.send("ok-1");
    String bad = queue.send("bad");
    queue.send("ok-2");
    invoker.answer((ref, payload) -> FakeInvoker.success(
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"" + bad + "\"}]}"));
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());

    assertThat(m.pollOnce()).isEqualTo(3);
    assertThat(m.succeeded()).isEqualTo(1);
    assertThat(queue.approximateNumberOfMessagesNotVisible()).as("only the reported record is left").isEqualTo(1);
    clock.advance(VISIBILITY);
    invoker.answer((ref, payload) -> FakeInvoker.success("{}"));
    assertThat(m.pollOnce()).isEqualTo(1);
    JsonNode redelivered = records(invoker.calls().get(1));
    assertThat(redelivered).hasSize(1);
    assertThat(redelivered.get(0).get("messageId").stringValue()).isEqualTo(bad).isNotEqualTo(keep);
  }

  @Test
  void pollOnce_partialBatchResponseNamingUnknownRecord_releasesWholeBatch() throws Exception {
    queue.send("a");
    queue.send("b");
    invoker.answer((ref, payload) -> FakeInvoker.success(
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"no-such-id\"}]}"));
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());
    m.pollOnce();
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isEqualTo(2);
  }

  @Test
  void pollOnce_emptyBatchItemFailures_acknowledgesWholeBatch() throws Exception {
    queue.send("a");
    invoker.answer((ref, payload) -> FakeInvoker.success("{\"batchItemFailures\":[]}"));
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());
    m.pollOnce();
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isZero();
  }

  @Test
  void pollOnce_batchingWindow_returnsAtOnceWhenBatchIsFull() throws Exception {
    queue.send("a");
    queue.send("b");
    queue.send("c");
    EventSourceMapping m = mapping(queue, new BatchOptions(3, Duration.ofSeconds(300)));
    long start = System.nanoTime();
    assertThat(m.pollOnce()).isEqualTo(3);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void pollOnce_batchingWindow_accumulatesRecordsSentDuringTheWindow() throws Exception {
    queue.send("first");
    EventSourceMapping m = mapping(queue, new BatchOptions(2, Duration.ofSeconds(60)));
    CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(() -> {
      try {
        return m.pollOnce();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Await.until("first record received", () -> queue.approximateNumberOfMessagesNotVisible() == 1);
    assertThat(polled).isNotDone();
    queue.send("second");
    assertThat(polled.get(10, TimeUnit.SECONDS)).isEqualTo(2);
    assertThat(records(invoker.calls().getFirst())).hasSize(2);
  }

  @Test
  void pollOnce_batchingWindowElapses_invokesWithPartialBatch() throws Exception {
    queue.send("alone");
    EventSourceMapping m = mapping(queue, new BatchOptions(10, Duration.ofMillis(50)));
    long start = System.nanoTime();
    assertThat(m.pollOnce()).isEqualTo(1);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(50)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void pollOnce_visibilityTimeoutShorterThanBatchingWindow_batchHoldsEachMessageOnceWithItsNewestReceipt()
      throws Exception {
    // Visibility 0: every receive in the window gets the messages already in the batch again, as SQS would.
    LocalQueue redelivering = new LocalQueue("redelivering", Duration.ZERO, 100);
    String a = redelivering.send("a");
    String b = redelivering.send("b");
    EventSourceMapping m = mapping(redelivering, new BatchOptions(10, Duration.ofMillis(50)));

    assertThat(m.pollOnce()).isEqualTo(2);

    JsonNode records = records(invoker.calls().getFirst());
    assertThat(records).extracting(r -> r.get("messageId").stringValue()).containsExactly(a, b);
    assertThat(records).allSatisfy(r -> assertThat(
        Integer.parseInt(r.get("attributes").get("ApproximateReceiveCount").stringValue()))
        .as("the newest copy, and the window was not spent receiving in a busy loop").isGreaterThan(1).isLessThan(50));
    // Only the newest copy's receipt handle is still valid; the acknowledge deleted both messages with it.
    assertThat(redelivering.approximateNumberOfMessages() + redelivering.approximateNumberOfMessagesNotVisible())
        .isZero();
  }

  @Test
  void pollOnce_toEventThrows_releasesBatchWithoutInvoking() throws Exception {
    FlakySource source = new FlakySource();
    source.failToEvent = true;
    EventSourceMapping m = mapping(source, BatchOptions.defaults());
    assertThat(m.pollOnce()).isEqualTo(1);
    assertThat(invoker.count()).isZero();
    assertThat(source.released).hasSize(1);
    assertThat(source.acknowledged).isEmpty();
  }

  @Test
  void poller_survivesReceiveFailureAndInvokerException() {
    FlakySource source = new FlakySource();
    source.failReceives.set(1);
    AtomicInteger calls = new AtomicInteger();
    invoker.answer((ref, payload) -> {
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("engine bug");
      }
      return FakeInvoker.success("null");
    });
    EventSourceMapping m = mapping(source, BatchOptions.defaults(), Duration.ofMillis(5));
    m.start();
    Await.until("second invocation succeeds", () -> m.succeeded() >= 1);
    assertThat(m.failed()).isEqualTo(1);
    assertThat(source.released).hasSize(1);
    assertThat(source.acknowledged).isNotEmpty();
  }

  @Test
  void poller_survivesAnErrorFromTheSource() {
    FlakySource source = new FlakySource();
    source.failReceives.set(1);
    source.receiveFailure = () -> new NoClassDefFoundError("com/example/driver/Connection");
    EventSourceMapping m = mapping(source, BatchOptions.defaults(), Duration.ofMillis(5));
    m.start();
    Await.until("the poller goes on after the Error", () -> m.succeeded() >= 1);
    assertThat(m.context.sourceFailures()).as("the Error is reported").isEqualTo(1);
    assertThat(source.acknowledged).isNotEmpty();
  }

  @Test
  void pollOnce_errorDuringBatchingWindow_releasesTheRecordsInHand() {
    FlakySource source = new FlakySource();
    source.failReceivesAfter = 1;
    source.failReceives.set(1);
    source.receiveFailure = () -> new NoClassDefFoundError("com/example/driver/Connection");
    EventSourceMapping m = mapping(source, new BatchOptions(10, Duration.ofSeconds(60)));
    assertThatThrownBy(m::pollOnce).isInstanceOf(NoClassDefFoundError.class);
    assertThat(source.released).as("given back, not left to time out").hasSize(1);
    assertThat(invoker.count()).isZero();
    // Still marked as waiting, a close would interrupt the poller inside the function of its next batch.
    assertThat(m.waitingOnSource()).isFalse();
  }

  @Test
  void pollOnce_toEventThrowsAnError_releasesBatchWithoutInvoking() throws Exception {
    FlakySource source = new FlakySource();
    source.toEventFailure = () -> new StackOverflowError();
    EventSourceMapping m = mapping(source, BatchOptions.defaults());
    assertThat(m.pollOnce()).isEqualTo(1);
    assertThat(invoker.count()).isZero();
    assertThat(source.released).hasSize(1);
    assertThat(m.context.sourceFailures()).isEqualTo(1);
  }

  @Test
  void pollOnce_jvmErrorInToEvent_releasesBatchThenRethrows() {
    FlakySource source = new FlakySource();
    source.toEventFailure = () -> new OutOfMemoryError("Java heap space");
    EventSourceMapping m = mapping(source, BatchOptions.defaults());
    assertThatThrownBy(m::pollOnce).isInstanceOf(OutOfMemoryError.class);
    assertThat(source.released).hasSize(1);
    assertThat(source.acknowledged).isEmpty();
  }

  @Test
  void pollOnce_invokerThrowsAnError_releasesBatchAndCountsFailure() throws Exception {
    FlakySource source = new FlakySource();
    invoker.answer((ref, payload) -> {
      throw new NoClassDefFoundError("dev/embla/faas/internal/Missing");
    });
    EventSourceMapping m = mapping(source, BatchOptions.defaults());
    assertThat(m.pollOnce()).isEqualTo(1);
    assertThat(m.failed()).isEqualTo(1);
    assertThat(source.released).hasSize(1);
    assertThat(source.acknowledged).isEmpty();
  }

  @Test
  void close_whileWaitingOnSource_stopsPollerPromptly() throws Exception {
    EventSourceMapping m = mapping(queue, BatchOptions.defaults(), Duration.ofSeconds(20));
    m.start();
    Await.until("poller waits on the queue", m::waitingOnSource);
    long start = System.nanoTime();
    m.close();
    assertThat(m.awaitStopped(Duration.ofSeconds(2))).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    queue.send("after close");
    assertThat(queue.approximateNumberOfMessages()).as("nothing polls a closed mapping").isEqualTo(1);
  }

  @Test
  void close_midFlight_keepsUnacknowledgedMessages() throws Exception {
    queue.send("one");
    queue.send("two");
    CountDownLatch inFunction = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    invoker.answer((ref, payload) -> {
      inFunction.countDown();
      finish.await();
      return FakeInvoker.failure("Crash", "failed after the disconnect");
    });
    EventSourceMapping m = mapping(queue, new BatchOptions(1, Duration.ZERO), Duration.ofSeconds(20));
    m.start();
    assertThat(inFunction.await(10, TimeUnit.SECONDS)).isTrue();

    m.close();
    finish.countDown();
    assertThat(m.awaitStopped(Duration.ofSeconds(10))).isTrue();

    assertThat(invoker.count()).as("no batch is received after close").isEqualTo(1);
    assertThat(queue.approximateNumberOfMessages()).as("the second message was never taken").isEqualTo(1);
    assertThat(queue.approximateNumberOfMessagesNotVisible()).as("the failed one is kept").isEqualTo(1);
    clock.advance(VISIBILITY);
    assertThat(queue.approximateNumberOfMessages()).isEqualTo(2);
  }

  @Test
  void close_midFlight_functionThatSucceedsStillHasItsBatchDeleted() throws Exception {
    queue.send("one");
    CountDownLatch inFunction = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    invoker.answer((ref, payload) -> {
      inFunction.countDown();
      finish.await();
      return FakeInvoker.success("null");
    });
    EventSourceMapping m = mapping(queue, BatchOptions.defaults(), Duration.ofSeconds(20));
    m.start();
    assertThat(inFunction.await(10, TimeUnit.SECONDS)).isTrue();
    m.close();
    finish.countDown();
    assertThat(m.awaitStopped(Duration.ofSeconds(10))).isTrue();
    // The function was not interrupted by the close and did its work: deleting it avoids a duplicate delivery.
    assertThat(m.succeeded()).isEqualTo(1);
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible()).isZero();
  }

  // ---- recursion guard ----

  /** Sends as a function's own code would, on a thread that runs an invocation of chain {@code chain}. */
  private String sendFrom(HopChain chain, String body) {
    HopChain previous = HopChain.enter(chain);
    try {
      return queue.send(body);
    } finally {
      HopChain.restore(previous);
    }
  }

  private static HopChain times(String function, int n, HopChain chain) {
    for (int i = 0; i < n; i++) {
      chain = chain.plus(function);
    }
    return chain;
  }

  /** Makes the invoker remember the chain each invocation ran with, as code inside the function would see it. */
  private List<HopChain> recordChains() {
    List<HopChain> seen = new CopyOnWriteArrayList<>();
    invoker.answer((ref, payload) -> {
      seen.add(HopChain.current());
      return FakeInvoker.success("null");
    });
    return seen;
  }

  @Test
  void pollOnce_messageWithNoChain_isProcessedAsTheFunctionsFirstHop() throws Exception {
    List<HopChain> seen = recordChains();
    queue.send("{\"fresh\":true}");
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());

    assertThat(m.pollOnce()).isEqualTo(1);

    assertThat(records(invoker.calls().getFirst())).singleElement()
        .satisfies(r -> assertThat(r.get("body").stringValue()).isEqualTo("{\"fresh\":true}"));
    assertThat(seen).containsExactly(HopChain.EMPTY.plus("handler"));
    assertThat(HopChain.current()).as("poller thread's chain restored").isSameAs(HopChain.EMPTY);
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible()).isZero();
    assertThat(m.succeeded()).isEqualTo(1);
  }

  @Test
  void pollOnce_messageWhoseChainRanTheFunction15Times_runsItASixteenthTime() throws Exception {
    List<HopChain> seen = recordChains();
    sendFrom(times("handler", 15, HopChain.EMPTY.plus("other")), "{}");
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());

    m.pollOnce();

    assertThat(seen).singleElement().satisfies(c -> {
      assertThat(c.count("handler")).isEqualTo(HopChain.MAX_HOPS_PER_FUNCTION);
      assertThat(c.count("other")).isEqualTo(1);
    });
    assertThat(m.succeeded()).isEqualTo(1);
  }

  @Test
  void pollOnce_messageStoppedByTheRecursionGuard_goesToTheQueuesDeadLetterQueueWhenItHasOne() throws Exception {
    LocalQueue dlq = new LocalQueue("orders-dlq", VISIBILITY, 10);
    LocalQueue redriving = new LocalQueue("jobs", VISIBILITY, 10, new InMemoryQueue.RedrivePolicy(dlq, 5));
    EventSourceMapping m = mapping(redriving, BatchOptions.defaults());
    HopChain looping = times("handler", HopChain.MAX_HOPS_PER_FUNCTION, HopChain.EMPTY);
    HopChain previous = HopChain.enter(looping);
    String id;
    try {
      id = redriving.send("{}");
    } finally {
      HopChain.restore(previous);
    }

    try (LogCapture log = LogCapture.of(EventSourceMapping.class.getName())) {
      assertThat(m.pollOnce()).isEqualTo(1);
      assertThat(log.lines()).singleElement().satisfies(l -> assertThat(l.message())
          .contains("moved to its dead-letter queue", id));
    }
    assertThat(invoker.count()).isZero();
    assertThat(redriving.approximateNumberOfMessages() + redriving.approximateNumberOfMessagesNotVisible()).isZero();
    assertThat(dlq.receive(10, Duration.ZERO)).singleElement().satisfies(r -> {
      assertThat(r.id()).isEqualTo(id);
      assertThat(HopChain.decode(r.attributes().get(HopChain.RECORD_ATTRIBUTE))).isEqualTo(looping);
    });
  }

  @Test
  void pollOnce_messageWhoseChainRanTheFunction16Times_isDeletedUnprocessedWithAWarning() throws Exception {
    String id = sendFrom(times("handler", HopChain.MAX_HOPS_PER_FUNCTION, HopChain.EMPTY), "{}");
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());

    try (LogCapture log = LogCapture.of(EventSourceMapping.class.getName())) {
      assertThat(m.pollOnce()).isEqualTo(1);

      assertThat(log.lines()).singleElement().satisfies(l -> assertThat(l.message())
          .contains("function 'handler'", "queue orders", "recursive loop detection", "17th time", id,
              "{handler=16}"));
    }
    assertThat(invoker.count()).isZero();
    clock.advance(VISIBILITY.multipliedBy(2));
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible())
        .as("deleted, not left to come back").isZero();
    assertThat(m.succeeded() + m.failed()).isZero();
    assertThat(invoker.recursionStops()).containsExactly(java.util.Map.entry("handler", 1));
  }

  @Test
  void pollOnce_batchMixingLoopingAndFreshMessages_invokesOnlyTheOthersWithTheLargestCountOfEach() throws Exception {
    List<HopChain> seen = recordChains();
    String fresh = queue.send("fresh");
    String looping = sendFrom(times("handler", 16, HopChain.EMPTY), "looping");
    String third = sendFrom(times("other", 2, times("handler", 3, HopChain.EMPTY)), "third");
    // Sixteen runs of another function do not stop this one: the guard counts per function.
    String otherLoop = sendFrom(times("other", 16, HopChain.EMPTY), "otherLoop");
    EventSourceMapping m = mapping(queue, BatchOptions.defaults());

    try (LogCapture log = LogCapture.of(EventSourceMapping.class.getName())) {
      assertThat(m.pollOnce()).isEqualTo(4);

      assertThat(log.lines()).singleElement().satisfies(l -> assertThat(l.message())
          .contains("1 message(s)", looping).doesNotContain(fresh, third, otherLoop));
    }
    assertThat(records(invoker.calls().getFirst())).extracting(r -> r.get("messageId").stringValue())
        .containsExactly(fresh, third, otherLoop);
    assertThat(seen).singleElement().satisfies(c -> {
      assertThat(c.count("handler")).isEqualTo(4);
      assertThat(c.count("other")).isEqualTo(16);
    });
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible()).isZero();
    assertThat(m.succeeded()).isEqualTo(1);
    assertThat(invoker.recursionStops()).containsExactly(java.util.Map.entry("handler", 1));
  }

  @Test
  void pollOnce_qualifiedFunctionRef_countsTheFunction() throws Exception {
    RouterSourceContext context = new RouterSourceContext("handler:live", queue.describe(), clock, timers, invoker);
    queue.start(context);
    EventSourceMapping m = new EventSourceMapping("esm-2", queue, context, BatchOptions.defaults(), Duration.ZERO,
        c -> {});
    started.add(m);
    sendFrom(times("handler", 16, HopChain.EMPTY), "looping");

    m.pollOnce();

    assertThat(invoker.count()).isZero();
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible()).isZero();
    assertThat(invoker.recursionStops()).as("counted for the function, not the alias")
        .containsExactly(java.util.Map.entry("handler", 1));
  }

  /** A pull source with one record, whose failures a test switches on. */
  private static final class FlakySource implements PullEventSource {
    final AtomicInteger failReceives = new AtomicInteger();
    volatile int failReceivesAfter; // receives that succeed before failReceives starts counting
    volatile Supplier<Throwable> receiveFailure = () -> new IllegalStateException("connection reset");
    volatile boolean failToEvent;
    volatile Supplier<Throwable> toEventFailure;
    final List<SourceRecord> released = new CopyOnWriteArrayList<>();
    final List<SourceRecord> acknowledged = new CopyOnWriteArrayList<>();
    private final AtomicInteger sequence = new AtomicInteger();
    private final AtomicInteger receives = new AtomicInteger();

    private static RuntimeException unchecked(Throwable t) {
      if (t instanceof Error e) {
        throw e;
      }
      return (RuntimeException) t;
    }

    @Override
    public String describe() {
      return "flaky";
    }

    @Override
    public List<SourceRecord> receive(int maxRecords, Duration maxWait) throws InterruptedException {
      boolean failing = receives.getAndIncrement() >= failReceivesAfter;
      if (failing && failReceives.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw unchecked(receiveFailure.get());
      }
      if (!acknowledged.isEmpty()) {
        Thread.sleep(maxWait); // drained: behave like a long poll
        return List.of();
      }
      return List.of(new SourceRecord("r" + sequence.incrementAndGet(), "{}".getBytes(StandardCharsets.UTF_8),
          java.util.Map.of(), java.time.Instant.EPOCH));
    }

    @Override
    public byte[] toEvent(List<SourceRecord> batch) {
      if (failToEvent) {
        throw new IllegalArgumentException("malformed record");
      }
      if (toEventFailure != null) {
        throw unchecked(toEventFailure.get());
      }
      return "{\"Records\":[]}".getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void acknowledge(List<SourceRecord> records) {
      acknowledged.addAll(records);
    }

    @Override
    public void release(List<SourceRecord> records, String reason) {
      released.addAll(records);
    }
  }
}
