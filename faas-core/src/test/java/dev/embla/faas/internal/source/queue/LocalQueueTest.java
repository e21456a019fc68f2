package dev.embla.faas.internal.source.queue;

import dev.embla.faas.InMemoryQueue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.InMemoryQueue.QueueFullException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.internal.recursion.HopChain;
import dev.embla.faas.spi.source.InvocationOutcome;
import dev.embla.faas.spi.source.SourceContext;
import dev.embla.faas.spi.source.SourceRecord;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class LocalQueueTest {

  private static final Duration VISIBILITY = Duration.ofSeconds(30);

  private final FakeTicker clock = new FakeTicker();
  private final LocalQueue queue = new LocalQueue("orders", VISIBILITY, 3);

  @BeforeEach
  void start() {
    queue.start(new ClockOnlyContext(clock));
  }

  private List<SourceRecord> receiveNow(int max) throws InterruptedException {
    return queue.receive(max, Duration.ZERO);
  }

  /** A queue whose messages get {@code maxReceiveCount} receives, then go to {@code dlq}; on the test's clock. */
  private LocalQueue redriving(LocalQueue dlq, int maxReceiveCount) {
    dlq.start(new ClockOnlyContext(clock));
    LocalQueue q = new LocalQueue("jobs", VISIBILITY, 10, new InMemoryQueue.RedrivePolicy(dlq, maxReceiveCount));
    q.start(new ClockOnlyContext(clock));
    return q;
  }

  @Test
  void redrive_movesAMessageToTheDeadLetterQueueAfterItsLastReceive_keepingItsIdAndBody() throws Exception {
    LocalQueue dlq = new LocalQueue("jobs-dlq", VISIBILITY, 10);
    LocalQueue jobs = redriving(dlq, 2);
    String poison = jobs.send("{\"poison\":true}");
    String fine = jobs.send("{\"fine\":true}");
    for (int receive = 1; receive <= 2; receive++) {
      List<SourceRecord> got = jobs.receive(10, Duration.ZERO);
      assertThat(got).extracting(SourceRecord::id).contains(poison);
      assertThat(got.stream().filter(r -> r.id().equals(poison)).findFirst().orElseThrow().attributes())
          .containsEntry(LocalQueue.RECEIVE_COUNT, Integer.toString(receive));
      jobs.acknowledge(got.stream().filter(r -> r.id().equals(fine)).toList());
      jobs.release(got, "handler failed");
      clock.advance(VISIBILITY);
    }
    // The third receive would be one too many: the message goes to the dead-letter queue instead.
    assertThat(jobs.receive(10, Duration.ZERO)).isEmpty();
    assertThat(jobs.approximateNumberOfMessages() + jobs.approximateNumberOfMessagesNotVisible()).isZero();
    List<SourceRecord> dead = dlq.receive(10, Duration.ZERO);
    assertThat(dead).singleElement().satisfies(r -> {
      assertThat(r.id()).isEqualTo(poison);
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{\"poison\":true}");
      assertThat(r.attributes()).containsEntry(LocalQueue.RECEIVE_COUNT, "1");
    });
  }

  @Test
  void redrive_toAFullDeadLetterQueue_keepsTheMessage_andMovesItOnceThereIsRoom() throws Exception {
    LocalQueue dlq = new LocalQueue("jobs-dlq", VISIBILITY, 1);
    LocalQueue jobs = redriving(dlq, 1);
    String filler = dlq.send("filler");
    String poison = jobs.send("poison");
    jobs.release(jobs.receive(10, Duration.ZERO), "handler failed");
    clock.advance(VISIBILITY);

    assertThat(jobs.receive(10, Duration.ZERO)).isEmpty(); // due to move, but the dead-letter queue is full
    assertThat(jobs.approximateNumberOfMessagesNotVisible()).isEqualTo(1); // kept, invisible until it is tried again
    dlq.acknowledge(dlq.receive(1, Duration.ZERO));
    clock.advance(VISIBILITY);
    assertThat(jobs.receive(10, Duration.ZERO)).isEmpty();
    assertThat(dlq.receive(10, Duration.ZERO)).extracting(SourceRecord::id).containsExactly(poison);
    assertThat(filler).isNotEqualTo(poison);
  }

  @Test
  void redrive_validatesMaxReceiveCountAsSqsDoes() {
    LocalQueue dlq = new LocalQueue("dlq", VISIBILITY, 10);
    assertThatThrownBy(() -> new InMemoryQueue.RedrivePolicy(dlq, 0)).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("maxReceiveCount must be 1..1000, was 0");
    assertThatThrownBy(() -> new InMemoryQueue.RedrivePolicy(dlq, 1_001))
        .isInstanceOf(InvalidConfigurationException.class);
  }

  @Test
  void send_returnsDistinctIdsAndMessagesAreVisible() {
    String a = queue.send("a");
    String b = queue.send("b");
    assertThat(a).isNotBlank().isNotEqualTo(b);
    assertThat(queue.approximateNumberOfMessages()).isEqualTo(2);
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isZero();
  }

  @Test
  void send_whenFull_throwsNamingQueueAndCapacity_andInFlightMessagesCount() throws Exception {
    queue.send("1");
    queue.send("2");
    List<SourceRecord> inFlight = receiveNow(1);
    queue.send("3");
    assertThatThrownBy(() -> queue.send("4"))
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("orders")
        .hasMessageContaining("3");
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible()).isEqualTo(3);

    queue.acknowledge(inFlight);
    assertThat(queue.send("4")).isNotBlank();
  }

  @Test
  void receive_returnsAtMostMaxInSendOrder() throws Exception {
    queue.send("a");
    queue.send("b");
    queue.send("c");
    List<SourceRecord> got = receiveNow(2);
    assertThat(got).extracting(r -> new String(r.body(), StandardCharsets.UTF_8)).containsExactly("a", "b");
    assertThat(queue.approximateNumberOfMessages()).isEqualTo(1);
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isEqualTo(2);
  }

  @Test
  void receive_emptyQueueWithoutWait_returnsEmpty() throws Exception {
    assertThat(receiveNow(10)).isEmpty();
  }

  @Test
  void receive_hidesMessageUntilVisibilityTimeoutPassesOnTheClock() throws Exception {
    queue.send("a");
    assertThat(receiveNow(1)).hasSize(1);
    assertThat(receiveNow(1)).isEmpty();
    clock.advance(VISIBILITY.minusMillis(1));
    assertThat(receiveNow(1)).isEmpty();
    clock.advance(Duration.ofMillis(1));
    List<SourceRecord> again = receiveNow(1);
    assertThat(again).singleElement()
        .satisfies(r -> assertThat(r.attributes()).containsEntry(LocalQueue.RECEIVE_COUNT, "2"));
  }

  @Test
  void acknowledge_deletesMessage() throws Exception {
    queue.send("a");
    queue.acknowledge(receiveNow(1));
    clock.advance(VISIBILITY.multipliedBy(2));
    assertThat(receiveNow(1)).isEmpty();
    assertThat(queue.approximateNumberOfMessages() + queue.approximateNumberOfMessagesNotVisible()).isZero();
  }

  @Test
  void acknowledge_withStaleReceiptHandle_doesNotDeleteRedeliveredMessage() throws Exception {
    queue.send("a");
    List<SourceRecord> first = receiveNow(1);
    clock.advance(VISIBILITY);
    List<SourceRecord> second = receiveNow(1);
    queue.acknowledge(first); // a slow consumer settling late must not delete what another consumer now holds
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isEqualTo(1);
    queue.acknowledge(second);
    assertThat(queue.approximateNumberOfMessagesNotVisible()).isZero();
  }

  @Test
  void release_makesMessageVisibleOnlyAfterVisibilityTimeout() throws Exception {
    queue.send("a");
    queue.release(receiveNow(1), "function failed");
    assertThat(queue.approximateNumberOfMessages()).isZero();
    assertThat(receiveNow(1)).isEmpty();
    clock.advance(VISIBILITY);
    assertThat(queue.approximateNumberOfMessages()).isEqualTo(1);
    assertThat(receiveNow(1)).hasSize(1);
  }

  @Test
  void receive_waitsForASend() throws Exception {
    CompletableFuture<List<SourceRecord>> waiting = CompletableFuture.supplyAsync(() -> receive(10));
    Await.until("receiver waits", queue::hasWaitingReceivers);
    // The receiver is parked on the condition; a send must wake it long before its 10-second wait ends.
    queue.send("late");
    assertThat(waiting.get(5, TimeUnit.SECONDS)).hasSize(1);
  }

  @Test
  void receive_noticesMessageComingBackWhileWaiting() throws Exception {
    queue.send("a");
    receiveNow(1);
    CompletableFuture<List<SourceRecord>> waiting = CompletableFuture.supplyAsync(() -> receive(10));
    Await.until("receiver waits", queue::hasWaitingReceivers);
    clock.advance(VISIBILITY);
    assertThat(waiting.get(5, TimeUnit.SECONDS)).hasSize(1);
  }

  @Test
  void receive_isInterruptible() throws Exception {
    Thread t = Thread.ofVirtual().start(() -> receive(60));
    Await.until("receiver waits", queue::hasWaitingReceivers);
    t.interrupt();
    assertThat(t.join(Duration.ofSeconds(5))).isTrue();
  }

  @Test
  void toEvent_buildsSqsEvent() throws Exception {
    Instant sent = clock.instant();
    String id = queue.send("hello");
    clock.advance(Duration.ofSeconds(2));
    List<SourceRecord> batch = receiveNow(1);

    JsonNode root = JsonMapper.builder().build().readTree(queue.toEvent(batch));
    JsonNode r = root.get("Records").get(0);
    assertThat(root.get("Records")).hasSize(1);
    assertThat(r.get("messageId").stringValue()).isEqualTo(id);
    assertThat(r.get("receiptHandle").stringValue()).isEqualTo(batch.getFirst().attributes().get("receiptHandle"));
    assertThat(r.get("body").stringValue()).isEqualTo("hello");
    assertThat(r.get("attributes").get("ApproximateReceiveCount").stringValue()).isEqualTo("1");
    assertThat(r.get("attributes").get("SentTimestamp").stringValue())
        .isEqualTo(Long.toString(sent.toEpochMilli()));
    assertThat(r.get("attributes").get("ApproximateFirstReceiveTimestamp").stringValue())
        .isEqualTo(Long.toString(sent.plusSeconds(2).toEpochMilli()));
    assertThat(r.get("messageAttributes").isObject()).isTrue();
    assertThat(r.get("md5OfBody").stringValue()).isEqualTo("5d41402abc4b2a76b9719d911017c592");
    assertThat(r.get("eventSource").stringValue()).isEqualTo("aws:sqs");
    assertThat(r.get("eventSourceARN").stringValue()).isEqualTo("arn:embla:sqs:local:000000000000:orders");
    assertThat(r.get("awsRegion").stringValue()).isEqualTo("local");
  }

  @Test
  void send_onAThreadWithAHopChain_keepsItWithTheMessageAcrossRedeliveryButOutOfTheEvent() throws Exception {
    HopChain chain = HopChain.EMPTY.plus("a").plus("b").plus("a");
    HopChain previous = HopChain.enter(chain);
    try {
      queue.send("looped");
    } finally {
      HopChain.restore(previous);
    }
    queue.send("fresh");
    List<SourceRecord> batch = receiveNow(2);

    assertThat(HopChain.decode(batch.get(0).attributes().get(HopChain.RECORD_ATTRIBUTE))).isEqualTo(chain);
    assertThat(batch.get(1).attributes()).doesNotContainKey(HopChain.RECORD_ATTRIBUTE);
    String event = new String(queue.toEvent(batch), StandardCharsets.UTF_8);
    assertThat(event).contains("looped").doesNotContain(HopChain.RECORD_ATTRIBUTE).doesNotContain("a=2");

    queue.release(batch, "failed");
    clock.advance(VISIBILITY);
    List<SourceRecord> again = receiveNow(2);
    assertThat(again).extracting(SourceRecord::id).containsExactly(batch.get(0).id(), batch.get(1).id());
    assertThat(HopChain.decode(again.get(0).attributes().get(HopChain.RECORD_ATTRIBUTE))).isEqualTo(chain);
    assertThat(again.get(1).attributes()).doesNotContainKey(HopChain.RECORD_ATTRIBUTE);
  }

  @Test
  void constructor_rejectsBadSettings() {
    assertThatThrownBy(() -> new LocalQueue("q", Duration.ofSeconds(-1), 10))
        .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("visibilityTimeout");
    assertThatThrownBy(() -> new LocalQueue("q", VISIBILITY, 0))
        .isInstanceOf(InvalidConfigurationException.class).hasMessage("capacity must be at least 1, was 0 for queue q");
  }

  @Test
  void concurrentConsumers_eachMessageReceivedOnceBeforeItsTimeout() throws Exception {
    LocalQueue big = new LocalQueue("load", VISIBILITY, 10_000);
    big.start(new ClockOnlyContext(clock));
    int messages = 2_000;
    int consumers = 4;
    Set<String> seen = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(consumers + 1)) {
      futures.add(pool.submit(() -> {
        go.await();
        for (int i = 0; i < messages; i++) {
          big.send("m" + i);
        }
        return null;
      }));
      for (int c = 0; c < consumers; c++) {
        futures.add(pool.submit(() -> {
          go.await();
          while (seen.size() < messages) {
            List<SourceRecord> batch = big.receive(10, Duration.ofMillis(50));
            for (SourceRecord r : batch) {
              if (!seen.add(r.id())) {
                duplicates.incrementAndGet();
              }
            }
            big.acknowledge(batch);
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
    // The clock never moved, so no visibility timeout expired: a second delivery would be a bug.
    assertThat(duplicates).hasValue(0);
    assertThat(seen).hasSize(messages);
    assertThat(big.approximateNumberOfMessages() + big.approximateNumberOfMessagesNotVisible()).isZero();
  }

  private List<SourceRecord> receive(int seconds) {
    try {
      return queue.receive(10, Duration.ofSeconds(seconds));
    } catch (InterruptedException e) {
      return List.of();
    }
  }

  /** A context that only supplies the clock: the queue needs nothing else. */
  private record ClockOnlyContext(Clock clock) implements SourceContext {
    @Override
    public String functionRef() {
      return "fn";
    }

    @Override
    public Cancellable schedule(Instant at, Runnable task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public InvocationOutcome invoke(byte[] event) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void reportFailure(String message, Throwable cause) {
      throw new AssertionError(message, cause);
    }
  }
}
