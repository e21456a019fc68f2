package dev.embla.faas.internal.source.queue;

import dev.embla.faas.InMemoryQueue;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.internal.recursion.HopChain;
import dev.embla.faas.spi.source.SourceContext;
import dev.embla.faas.spi.source.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An {@link InMemoryQueue} with SQS's delivery semantics. A received message is in flight, invisible, until the
 * clock passes its receive time plus the visibility timeout; {@link #acknowledge} deletes it, and otherwise
 * (released after a failure, or never settled) it becomes visible again when that timeout expires, not sooner.
 *
 * <p>Each receive gives a message a new receipt handle; settling a record whose handle is stale (the message was
 * received again since) does nothing, as SQS may ignore a delete with a stale handle. That keeps a slow consumer from
 * deleting a message another consumer is now processing.
 *
 * <p>A message sent on a thread that carries a recursion guard's chain ({@link HopChain#current()}: a destination
 * record sent by the asynchronous dispatcher, or host code a function calls into) keeps that chain, and its records
 * carry it as the {@link HopChain#RECORD_ATTRIBUTE} for the event source mapping. It is not part of the event: like
 * the trace header Lambda adds to an SQS message, the function never sees it.
 *
 * <p>Concurrency: all state is guarded by one lock. Visible messages wait in a FIFO deque, in-flight ones in a set
 * ordered by the time they become visible again; every operation first moves the in-flight messages that are due
 * back to the deque. The clock gives no signal when it moves, so a receiver that waits while messages are in flight
 * re-reads it at least every {@link #MAX_AWAIT} of real time; a send signals waiting receivers at once.
 */
public final class LocalQueue implements InMemoryQueue {

  /** The longest a waiting receiver sleeps without re-reading the clock while messages are in flight. */
  static final Duration MAX_AWAIT = Duration.ofMillis(20);

  /** The attribute key under which a record carries its receipt handle. */
  static final String RECEIPT_HANDLE = "receiptHandle";
  static final String RECEIVE_COUNT = "ApproximateReceiveCount";
  static final String SENT_TIMESTAMP = "SentTimestamp";
  static final String FIRST_RECEIVE_TIMESTAMP = "ApproximateFirstReceiveTimestamp";
  static final String MD5_OF_BODY = "md5OfBody";

  private static final Logger LOG = LoggerFactory.getLogger(LocalQueue.class);
  private static final JsonMapper JSON = dev.embla.faas.internal.json.Json.mapper().build();

  private final String name;
  private final Duration visibilityTimeout;
  private final int capacity;
  private final String arn;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition messageSent = lock.newCondition();
  private final Map<String, Message> messages = new HashMap<>(); // guarded by lock: every message not yet deleted
  private final ArrayDeque<Message> visible = new ArrayDeque<>(); // guarded by lock
  // guarded by lock; a sorted set rather than a heap so that deleting an acknowledged message is O(log n)
  private final TreeSet<Message> inFlight = new TreeSet<>(
      Comparator.comparing((Message m) -> m.visibleAt).thenComparingLong(m -> m.seq));
  private long sequence; // guarded by lock
  private volatile Clock clock = Clock.systemUTC();
  private final RedrivePolicy redrive; // null: messages are received again for ever

  /**
   * Creates an empty queue.
   *
   * @param name the queue's name, used in its ARN, events and logs
   * @param visibilityTimeout how long a received message stays invisible, 0 to 12 hours as in SQS
   * @param capacity the most messages the queue holds, visible and in flight together; at least 1
   * @throws InvalidConfigurationException if a value is out of range
   */
  public LocalQueue(String name, Duration visibilityTimeout, int capacity) {
    this(name, visibilityTimeout, capacity, null);
  }

  /**
   * Creates an empty queue whose messages move to a dead-letter queue after their last receive.
   *
   * @param redrivePolicy the dead-letter queue and how many receives a message gets, or null for none
   * @throws InvalidConfigurationException if a value is out of range
   * @see #LocalQueue(String, Duration, int)
   */
  public LocalQueue(String name, Duration visibilityTimeout, int capacity, RedrivePolicy redrivePolicy) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(visibilityTimeout, "visibilityTimeout");
    if (name.isBlank()) {
      throw new InvalidConfigurationException("queue name must not be blank");
    }
    if (visibilityTimeout.isNegative() || visibilityTimeout.compareTo(Duration.ofHours(12)) > 0) {
      throw new InvalidConfigurationException(
          "visibilityTimeout must be 0..12 hours, was " + visibilityTimeout + " for queue " + name);
    }
    if (capacity < 1) {
      throw new InvalidConfigurationException("capacity must be at least 1, was " + capacity + " for queue " + name);
    }
    this.name = name;
    this.visibilityTimeout = visibilityTimeout;
    this.capacity = capacity;
    this.arn = "arn:embla:sqs:local:000000000000:" + name;
    this.redrive = redrivePolicy;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String describe() {
    return "queue " + name;
  }

  /** Takes the engine's clock, on which visibility timeouts and timestamps are measured from now on. */
  @Override
  public void start(SourceContext context) {
    this.clock = Objects.requireNonNull(context.clock(), "clock");
  }

  @Override
  public String send(String body) {
    Objects.requireNonNull(body, "body");
    HopChain chain = HopChain.current();
    String id = UUID.randomUUID().toString();
    add(id, body, chain.isEmpty() ? null : chain.encode());
    return id;
  }

  /**
   * Adds a message with a given id; a message moved here from the queue whose dead-letter queue this is keeps its id
   * and the recursion guard's chain. Adding an id the queue already holds does nothing: a move that was retried.
   */
  private void add(String id, String body, String hops) {
    lock.lock();
    try {
      if (messages.containsKey(id)) {
        return;
      }
      if (messages.size() >= capacity) {
        throw new QueueFullException(String.format(Locale.ROOT,
            "queue %s is full: it holds its capacity of %d messages (visible and in flight)", name, capacity));
      }
      Message m = new Message(id, sequence++, body, clock.instant(), hops);
      messages.put(id, m);
      visible.addLast(m);
      messageSent.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int approximateNumberOfMessages() {
    lock.lock();
    try {
      promote(clock.instant());
      return visible.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int approximateNumberOfMessagesNotVisible() {
    lock.lock();
    try {
      promote(clock.instant());
      return inFlight.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Receives up to {@code maxRecords} visible messages, waiting up to {@code maxWait} of real time for the first.
   * Each is invisible until the clock reaches now plus the visibility timeout.
   */
  @Override
  public List<SourceRecord> receive(int maxRecords, Duration maxWait) throws InterruptedException {
    if (maxRecords < 1) {
      throw new IllegalArgumentException("maxRecords must be at least 1, was " + maxRecords);
    }
    long deadline = System.nanoTime() + Math.max(0, maxWait.toNanos());
    List<Message> dead = new ArrayList<>(0);
    List<SourceRecord> out;
    lock.lockInterruptibly();
    try {
      while (true) {
        Instant now = clock.instant();
        promote(now);
        if (!visible.isEmpty()) {
          out = take(maxRecords, now, dead);
          if (!out.isEmpty() || !dead.isEmpty()) {
            break;
          }
        }
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return List.of();
        }
        // A send signals; an in-flight message coming back does not (the clock moved), so look again soon.
        long await = inFlight.isEmpty() ? remaining : Math.min(remaining, MAX_AWAIT.toNanos());
        messageSent.awaitNanos(await);
      }
    } finally {
      lock.unlock();
    }
    if (!dead.isEmpty()) {
      moveAll(dead);
    }
    return out;
  }

  /**
   * Moves received records to the dead-letter queue now, whatever their receive count: for records that must not be
   * processed (the recursion guard stopped them), as SQS moves a message Lambda's loop detection stopped. Returns false,
   * moving nothing, if the queue has no redrive policy; the caller then deletes them.
   */
  public boolean moveToDeadLetterQueue(List<SourceRecord> records) {
    if (redrive == null) {
      return false;
    }
    List<Message> moving = new ArrayList<>(records.size());
    lock.lock();
    try {
      Instant now = clock.instant();
      for (SourceRecord r : records) {
        Message m = current(r);
        if (m != null) {
          if (!inFlight.remove(m)) { // re-added below: the set is ordered by visibleAt
            visible.remove(m);
          }
          m.receiptHandle = UUID.randomUUID().toString();
          m.visibleAt = now.plus(visibilityTimeout);
          inFlight.add(m);
          moving.add(m);
        }
      }
    } finally {
      lock.unlock();
    }
    moveAll(moving);
    return true;
  }

  /**
   * Moves messages that had their last receive to the dead-letter queue, outside this queue's lock (the dead-letter
   * queue takes its own, and a configuration could make two queues each other's). Each was made invisible with a new
   * receipt handle first, so nobody receives it meanwhile, and it is deleted here only once the dead-letter queue
   * holds it: if that queue is full, the message stays and is tried again after its visibility timeout.
   */
  private void moveAll(List<Message> dead) {
    InMemoryQueue target = redrive.deadLetterQueue();
    for (Message m : dead) {
      String handle;
      lock.lock();
      try {
        handle = m.receiptHandle;
      } finally {
        lock.unlock();
      }
      try {
        if (target instanceof LocalQueue local) {
          local.add(m.id, m.body, m.hops);
        } else {
          target.send(m.body);
        }
      } catch (RuntimeException e) {
        LOG.warn("queue {}: message {} had its last receive ({} of {}) but could not be moved to dead-letter queue {}:"
            + " {}; it stays here and is tried again after the visibility timeout", name, m.id, m.receiveCount,
            redrive.maxReceiveCount(), target.name(), e.toString());
        continue;
      }
      lock.lock();
      try {
        if (messages.get(m.id) == m && Objects.equals(m.receiptHandle, handle)) {
          messages.remove(m.id);
          if (!inFlight.remove(m)) {
            visible.remove(m);
          }
        }
      } finally {
        lock.unlock();
      }
      LOG.info("queue {}: message {} moved to dead-letter queue {} after {} receive(s); last failure: {}", name, m.id,
          target.name(), m.receiveCount, m.lastFailure);
    }
  }

  @Override
  public byte[] toEvent(List<SourceRecord> batch) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode records = root.putArray("Records");
    for (SourceRecord r : batch) {
      ObjectNode rec = records.addObject();
      rec.put("messageId", r.id());
      rec.put("receiptHandle", r.attributes().getOrDefault(RECEIPT_HANDLE, ""));
      rec.put("body", new String(r.body(), StandardCharsets.UTF_8));
      ObjectNode attributes = rec.putObject("attributes");
      attributes.put(RECEIVE_COUNT, r.attributes().getOrDefault(RECEIVE_COUNT, "1"));
      attributes.put(SENT_TIMESTAMP,
          r.attributes().getOrDefault(SENT_TIMESTAMP, Long.toString(r.timestamp().toEpochMilli())));
      attributes.put(FIRST_RECEIVE_TIMESTAMP, r.attributes().getOrDefault(FIRST_RECEIVE_TIMESTAMP, ""));
      rec.putObject("messageAttributes");
      rec.put("md5OfBody", r.attributes().getOrDefault(MD5_OF_BODY, md5Hex(r.body())));
      rec.put("eventSource", "aws:sqs");
      rec.put("eventSourceARN", arn);
      rec.put("awsRegion", "local");
    }
    return JSON.writeValueAsBytes(root);
  }

  /** Deletes the messages, unless a record's receipt handle is stale (the message was received again since). */
  @Override
  public void acknowledge(List<SourceRecord> records) {
    lock.lock();
    try {
      for (SourceRecord r : records) {
        Message m = current(r);
        if (m != null) {
          messages.remove(m.id);
          if (!inFlight.remove(m)) {
            visible.remove(m); // its timeout expired before the ack; rare, so a linear removal is fine
          }
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Leaves the messages to come back when their visibility timeout expires, as SQS does with a message that was not
   * deleted; only the reason is kept, for logs.
   */
  @Override
  public void release(List<SourceRecord> records, String reason) {
    lock.lock();
    try {
      for (SourceRecord r : records) {
        Message m = current(r);
        if (m != null) {
          m.lastFailure = reason;
        }
      }
    } finally {
      lock.unlock();
    }
    LOG.debug("queue {}: {} messages released, visible again after {}: {}", name, records.size(),
        visibilityTimeout, reason);
  }

  /** Disconnecting keeps the queue and its messages: it can be connected again, and sending still works. */
  @Override
  public void close() {}

  /** Returns true if a receiver is waiting for a message, for tests that must send only once it waits. */
  boolean hasWaitingReceivers() {
    lock.lock();
    try {
      return lock.hasWaiters(messageSent);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "LocalQueue{name=" + name + ", visibilityTimeout=" + visibilityTimeout + ", capacity=" + capacity
        + (redrive == null ? "" : ", deadLetterQueue=" + redrive.deadLetterQueue().name() + ", maxReceiveCount="
            + redrive.maxReceiveCount()) + "}";
  }

  /**
   * Takes up to {@code maxRecords} visible messages; a message that already had its last receive under the redrive
   * policy is not delivered but set aside in {@code dead}, invisible, for {@link #moveAll}.
   */
  private List<SourceRecord> take(int maxRecords, Instant now, List<Message> dead) {
    List<SourceRecord> out = new ArrayList<>(Math.min(maxRecords, visible.size()));
    while (out.size() < maxRecords && !visible.isEmpty()) {
      Message m = visible.pollFirst();
      if (redrive != null && m.receiveCount >= redrive.maxReceiveCount()) {
        m.receiptHandle = UUID.randomUUID().toString(); // settles nothing a consumer still holds
        m.visibleAt = now.plus(visibilityTimeout);
        inFlight.add(m);
        dead.add(m);
        continue;
      }
      m.receiveCount++;
      if (m.firstReceived == null) {
        m.firstReceived = now;
      }
      m.receiptHandle = UUID.randomUUID().toString();
      m.visibleAt = now.plus(visibilityTimeout);
      inFlight.add(m);
      out.add(m.toRecord());
    }
    return out;
  }

  private void promote(Instant now) {
    while (!inFlight.isEmpty() && !inFlight.first().visibleAt.isAfter(now)) {
      visible.addLast(inFlight.pollFirst());
    }
  }

  private Message current(SourceRecord r) {
    Message m = messages.get(r.id());
    if (m == null || !Objects.equals(m.receiptHandle, r.attributes().get(RECEIPT_HANDLE))) {
      return null;
    }
    return m;
  }

  private static String md5Hex(byte[] body) {
    try {
      // MD5 because SQS reports md5OfBody; it is a checksum here, not a security measure.
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is required of every JDK", e);
    }
  }

  /** One message; fields are guarded by the queue's lock. */
  private static final class Message {
    final String id;
    final long seq;
    final String body;
    final byte[] bodyBytes;
    final Instant sent;
    final String md5;
    int receiveCount;
    Instant firstReceived;
    String receiptHandle;
    Instant visibleAt;
    String lastFailure;
    final String hops; // the sender's HopChain, encoded; null when it had none

    Message(String id, long seq, String body, Instant sent, String hops) {
      this.id = id;
      this.seq = seq;
      this.body = body;
      this.bodyBytes = body.getBytes(StandardCharsets.UTF_8);
      this.sent = sent;
      this.md5 = md5Hex(bodyBytes);
      this.hops = hops;
    }

    SourceRecord toRecord() {
      Map<String, String> attributes = HashMap.newHashMap(6); // SourceRecord copies it
      attributes.put(RECEIPT_HANDLE, receiptHandle);
      attributes.put(RECEIVE_COUNT, Integer.toString(receiveCount));
      attributes.put(SENT_TIMESTAMP, Long.toString(sent.toEpochMilli()));
      attributes.put(FIRST_RECEIVE_TIMESTAMP, Long.toString(firstReceived.toEpochMilli()));
      attributes.put(MD5_OF_BODY, md5);
      if (hops != null) {
        attributes.put(HopChain.RECORD_ATTRIBUTE, hops);
      }
      return new SourceRecord(id, bodyBytes.clone(), attributes, sent);
    }

    @Override
    public String toString() {
      return "Message{id=" + id + ", receiveCount=" + receiveCount + ", lastFailure=" + lastFailure
          + ", body.length=" + body.length() + "}";
    }
  }
}
