package dev.embla.faas.internal.router;

import dev.embla.faas.BatchOptions;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.internal.recursion.HopChain;
import dev.embla.faas.internal.source.queue.LocalQueue;
import dev.embla.faas.spi.source.InvocationOutcome;
import dev.embla.faas.spi.source.PullEventSource;
import dev.embla.faas.spi.source.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Lambda's event source mapping for one {@link PullEventSource}: a poller that receives a batch, builds one event from
 * it, invokes the function, then acknowledges the records that succeeded and releases the ones that failed.
 *
 * <p>A successful response of the form {@code {"batchItemFailures":[{"itemIdentifier":"<record id>"}]}} is Lambda's
 * partial batch response: only the named records are released. As in Lambda, an entry whose identifier is missing,
 * empty or not in the batch fails the whole batch. Any other successful response acknowledges the whole batch (Lambda
 * needs {@code ReportBatchItemFailures} switched on for this; here it is always on, since a response of that exact
 * shape is never an accident).
 *
 * <p>Recursion guard: a record may carry the {@link HopChain} of the message it holds
 * ({@link HopChain#RECORD_ATTRIBUTE}, set by the in-memory queue when the sender had one). Records whose chain already
 * ran this mapping's function {@value HopChain#MAX_HOPS_PER_FUNCTION} times are not invoked: they are logged at WARN
 * and moved to the in-memory queue's dead-letter queue if it has a redrive policy, as Lambda moves them to an SQS
 * queue's, else deleted (released, they would only come back). The invocation of the other records runs with, per function, the largest
 * count over their chains, plus one for this function, so what it sends on (to a queue, by {@code invokeAsync},
 * through destinations) is counted one hop further. Taking the largest rather than tracking each record apart can only
 * stop a loop sooner, never let one run longer, and a batch is one invocation whatever it holds.
 *
 * <p>Waits (the source's long poll, the batching window, the back-off after a source failure) are real time: they are
 * how long a thread blocks, and a test clock that only moves when advanced would block them forever. Due times that
 * belong to records (visibility timeouts) are the source's business, on the engine's clock.
 *
 * <p>Failures: whatever a source throws, an {@link Error} included (a {@code NoClassDefFoundError} from a plugin's
 * driver, a {@code StackOverflowError} in {@code toEvent}), is reported through the context, the records in hand are
 * released, and the poller backs off and goes on: a poller that died would leave the connection looking open while
 * nothing reads the source. Only a {@link VirtualMachineError} other than {@code StackOverflowError} ends the poller,
 * once it is reported and the records are released, since the JVM itself is then failing.
 *
 * <p>Closing: the poller is interrupted only while it waits on the source, never while the function runs, so a
 * function is not interrupted by a disconnect. A batch in flight completes and is settled by its outcome; a batch
 * received when the close came is released unprocessed. Nothing is acknowledged that did not succeed, so records are
 * never lost. The {@code waiting} flag and the interrupt are guarded by one lock, which makes "interrupt only while
 * waiting" exact rather than approximate.
 */
final class EventSourceMapping extends Connection<PullEventSource> {

  /** The long-poll wait per receive, SQS's maximum; a close interrupts it, so it does not delay shutdown. */
  static final Duration DEFAULT_RECEIVE_WAIT = Duration.ofSeconds(20);

  private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);
  /**
   * An empty receive faster than this means the source ignored its wait, and a receive of only records already in the
   * batch means it redelivers them at once; either way pause this long so the poller does not spin.
   */
  private static final long MIN_EMPTY_RECEIVE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  private static final Logger LOG = LoggerFactory.getLogger(EventSourceMapping.class);
  private static final JsonMapper JSON = dev.embla.faas.internal.json.Json.mapper().build();
  private static final byte[] BATCH_ITEM_FAILURES = "batchItemFailures".getBytes(StandardCharsets.UTF_8);

  private final BatchOptions options;
  private final Duration receiveWait;
  private final Consumer<EventSourceConnection> onClose;
  private final String function; // the recursion guard counts the function, whatever alias or version is mapped
  private final HopChain firstHop; // the chain of an invocation whose records carry none
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Object phaseLock = new Object();
  private boolean waiting; // guarded by phaseLock
  private Thread current; // guarded by phaseLock: the thread inside pollOnce or the back-off
  private volatile Thread poller;

  EventSourceMapping(String id, PullEventSource source, RouterSourceContext context, BatchOptions options,
      Duration receiveWait, Consumer<EventSourceConnection> onClose) {
    super(Objects.requireNonNull(id, "id"), Objects.requireNonNull(source, "source"),
        Objects.requireNonNull(context, "context"));
    this.options = Objects.requireNonNull(options, "options");
    this.receiveWait = Objects.requireNonNull(receiveWait, "receiveWait");
    this.onClose = Objects.requireNonNull(onClose, "onClose");
    this.function = HopChain.functionOf(context.functionRef());
    this.firstHop = HopChain.EMPTY.plus(function);
  }

  /**
   * Starts the poller, one platform thread for this mapping: invocations run on it, and the JDK measures allocation
   * (which the engine's allocation budget needs) only on platform threads.
   */
  void start() {
    poller = Thread.ofPlatform().daemon().name("embla-esm-" + id).start(this::run);
  }

  /**
   * Receives one batch, invokes the function with it and settles it: the poller's loop body, callable by tests.
   *
   * @return how many records the batch held; 0 when nothing arrived (and nothing was invoked) or the mapping closed
   * @throws InterruptedException if the calling thread was interrupted by something other than {@link #close()}
   */
  int pollOnce() throws InterruptedException {
    if (!enterWait()) {
      return 0;
    }
    List<SourceRecord> batch;
    try {
      batch = receiveBatch();
    } catch (Throwable e) {
      // Leave the wait whatever was thrown: a poller still marked as waiting would be interrupted by a close while
      // it runs the function of its next batch.
      if (leaveWait() && !isFatal(e)) {
        return 0; // interrupted by close, or the source failed as it was closed: either way the mapping is done
      }
      throw e;
    }
    if (leaveWait()) {
      // Closed while receiving: the function is not invoked for a connection that is gone.
      if (!batch.isEmpty()) {
        release(batch, "event source mapping closed before the batch was invoked");
      }
      return 0;
    }
    if (batch.isEmpty()) {
      return 0;
    }
    process(batch);
    return batch.size();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    synchronized (phaseLock) {
      if (waiting && current != null) {
        current.interrupt();
      }
    }
    try {
      source.close();
    } catch (RuntimeException e) {
      context.reportFailure("close failed", e);
    }
    context.close();
    onClose.accept(this);
  }

  /**
   * Waits for the poller thread to end, for tests and for the router's close.
   *
   * @return true if it ended (or never started) within {@code timeout}
   */
  boolean awaitStopped(Duration timeout) throws InterruptedException {
    Thread t = poller;
    return t == null || t.join(timeout);
  }

  /** Returns true while the poller waits on the source (and a close would interrupt it), for tests. */
  boolean waitingOnSource() {
    synchronized (phaseLock) {
      return waiting;
    }
  }

  private void run() {
    long backoffNanos = 0;
    while (!closed.get()) {
      try {
        long started = System.nanoTime();
        int n = pollOnce();
        backoffNanos = 0;
        if (n == 0 && System.nanoTime() - started < MIN_EMPTY_RECEIVE_NANOS && receiveWait.isPositive()) {
          pause(MIN_EMPTY_RECEIVE_NANOS);
        }
      } catch (InterruptedException e) {
        // Only close interrupts the poller; the loop condition ends it.
      } catch (Throwable e) {
        // The source failed (a broken connection to a real queue, a class missing from a plugin); the records in hand
        // were released where it happened. Back off so that a source that keeps failing is logged at a bounded rate
        // and does not spin the poller.
        if (isFatal(e)) {
          context.reportFailure("the JVM failed while polling; the poller stops", e);
          throw e;
        }
        context.reportFailure("receive failed", e);
        backoffNanos = backoffNanos == 0 ? MIN_BACKOFF_NANOS : Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
        try {
          pause(backoffNanos);
        } catch (InterruptedException ie) {
          // closing
        }
      }
    }
  }

  private void pause(long nanos) throws InterruptedException {
    if (!enterWait()) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } finally {
      leaveWait();
    }
  }

  /** Marks the calling thread as waiting on the source, so that close may interrupt it; false if closed. */
  private boolean enterWait() {
    synchronized (phaseLock) {
      if (closed.get()) {
        return false;
      }
      waiting = true;
      current = Thread.currentThread();
      return true;
    }
  }

  /** Returns true if the mapping was closed meanwhile; clears the interrupt that close may have sent. */
  private boolean leaveWait() {
    synchronized (phaseLock) {
      waiting = false;
      current = null;
      if (closed.get()) {
        Thread.interrupted();
        return true;
      }
      return false;
    }
  }

  /**
   * Receives one batch. A record may be received again while the window is open (its visibility timeout is shorter
   * than the window, and the source redelivers it as SQS would): the batch keeps one record per id, the copy received
   * last, since only its receipt handle still settles the message. Keeping both would invoke the function with the
   * message twice, and acknowledging the older copy would do nothing.
   */
  private List<SourceRecord> receiveBatch() throws InterruptedException {
    int batchSize = options.batchSize();
    List<SourceRecord> first = source.receive(batchSize, receiveWait);
    if (first.isEmpty()) {
      return List.of();
    }
    Map<String, SourceRecord> batch = LinkedHashMap.newLinkedHashMap(Math.min(batchSize, 1_024));
    addNewest(batch, first);
    if (options.maxBatchingWindow().isZero() || batch.size() >= batchSize) {
      return new ArrayList<>(batch.values());
    }
    // The window starts with the first record, as in Lambda: an idle queue costs no invocations.
    long deadline = System.nanoTime() + options.maxBatchingWindow().toNanos();
    try {
      while (batch.size() < batchSize) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          break;
        }
        List<SourceRecord> more = source.receive(batchSize - batch.size(), Duration.ofNanos(remaining));
        if (!addNewest(batch, more) && !more.isEmpty()) {
          // Only redeliveries of records in hand: with a visibility timeout of 0 the next receive returns them at
          // once again, so pause rather than spend the window in a busy loop.
          TimeUnit.NANOSECONDS.sleep(Math.min(remaining, MIN_EMPTY_RECEIVE_NANOS));
        }
      }
    } catch (Throwable e) {
      // Records already in hand are given back at once rather than left to time out unnoticed.
      release(new ArrayList<>(batch.values()), "batch not completed: " + e);
      throw e;
    }
    return new ArrayList<>(batch.values());
  }

  /** Adds the records by id, a later copy replacing an earlier one in its place; true if any id was new. */
  private static boolean addNewest(Map<String, SourceRecord> batch, List<SourceRecord> records) {
    boolean added = false;
    for (SourceRecord r : records) {
      added |= batch.put(r.id(), r) == null;
    }
    return added;
  }

  private void process(List<SourceRecord> received) {
    HopChain chain = HopChain.EMPTY;
    List<SourceRecord> batch = received; // copied only once a record is left out
    List<SourceRecord> looping = null;
    for (int i = 0; i < received.size(); i++) {
      SourceRecord r = received.get(i);
      HopChain c = HopChain.decode(r.attributes().get(HopChain.RECORD_ATTRIBUTE));
      if (c.count(function) >= HopChain.MAX_HOPS_PER_FUNCTION) {
        if (looping == null) {
          looping = new ArrayList<>();
          batch = new ArrayList<>(received.subList(0, i));
        }
        looping.add(r);
      } else {
        chain = chain.max(c);
        if (looping != null) {
          batch.add(r);
        }
      }
    }
    if (looping != null) {
      stopRecursion(looping);
      if (batch.isEmpty()) {
        return;
      }
    }
    byte[] event;
    try {
      event = source.toEvent(batch);
    } catch (Throwable e) {
      release(batch, "event could not be built: " + e);
      if (isFatal(e)) {
        throw e; // reported once, by the poller
      }
      context.reportFailure("could not build the event for a batch of " + batch.size() + " records", e);
      return;
    }
    InvocationOutcome outcome;
    // Set on the thread the function runs on, as the asynchronous dispatcher does, so that what it sends on carries
    // the chain; restored after, because this thread polls for records of other chains next.
    HopChain previous = HopChain.enter(chain.isEmpty() ? firstHop : chain.plus(function));
    try {
      outcome = context.invoke(event);
    } catch (Throwable e) {
      // The context turns every other failure into a failed outcome; what gets here is the JVM failing.
      release(batch, "invocation could not be made: " + e);
      throw e;
    } finally {
      HopChain.restore(previous);
    }
    if (!outcome.succeeded()) {
      release(batch, "invocation " + outcome.requestId() + " failed: "
          + (outcome.errorType() == null ? "function error" : outcome.errorType()));
      return;
    }
    Set<String> failedIds = batchItemFailures(outcome, batch);
    if (failedIds.isEmpty()) {
      acknowledge(batch);
      return;
    }
    List<SourceRecord> ok = new ArrayList<>(batch.size());
    List<SourceRecord> failed = new ArrayList<>(failedIds.size());
    for (SourceRecord r : batch) {
      (failedIds.contains(r.id()) ? failed : ok).add(r);
    }
    if (!ok.isEmpty()) {
      acknowledge(ok);
    }
    release(failed, "reported in batchItemFailures by invocation " + outcome.requestId());
  }

  /**
   * Deletes records that would run the function for the 17th time in their chain (or moves them to the in-memory
   * queue's dead-letter queue, if it has one), with a WARN log as the asynchronous guard writes. Not released:
   * released, they would come back after the visibility timeout and be stopped again, forever.
   */
  private void stopRecursion(List<SourceRecord> looping) {
    StringBuilder which = new StringBuilder();
    for (SourceRecord r : looping) {
      which.append(which.isEmpty() ? "" : ", ").append(r.id()).append(' ')
          .append(HopChain.decode(r.attributes().get(HopChain.RECORD_ATTRIBUTE)));
    }
    // As Lambda does with an SQS message its loop detection stops: to the queue's dead-letter queue if it has one.
    boolean moved = source instanceof LocalQueue queue && queue.moveToDeadLetterQueue(looping);
    LOG.warn("function '{}': {} message(s) from {} not invoked and {} by recursive loop detection: each would run "
        + "it for the {}th time or more in one chain of events: {}", function, looping.size(), source.describe(),
        moved ? "moved to its dead-letter queue" : "deleted", HopChain.MAX_HOPS_PER_FUNCTION + 1, which);
    context.recursionStopped(function, looping.size());
    if (!moved) {
      acknowledge(looping);
    }
  }

  /** Returns the ids of the records the function reported as failed; every id when the report is invalid. */
  private Set<String> batchItemFailures(InvocationOutcome outcome, List<SourceRecord> batch) {
    byte[] payload = outcome.payload();
    // Most responses are not partial batch responses; skip parsing those.
    if (!contains(payload, BATCH_ITEM_FAILURES)) {
      return Set.of();
    }
    JsonNode root;
    try {
      root = JSON.readTree(payload);
    } catch (JacksonException e) {
      return Set.of();
    }
    if (root == null || !root.isObject()) {
      return Set.of();
    }
    JsonNode failures = root.get("batchItemFailures");
    if (failures == null || failures.isNull()) {
      return Set.of();
    }
    Set<String> all = new HashSet<>();
    for (SourceRecord r : batch) {
      all.add(r.id());
    }
    if (!failures.isArray()) {
      return invalidReport(outcome, all, "batchItemFailures is not an array");
    }
    Set<String> ids = new HashSet<>();
    for (JsonNode item : failures.values()) {
      JsonNode idNode = item.get("itemIdentifier");
      String itemId = idNode == null || !idNode.isString() ? null : idNode.stringValue();
      if (itemId == null || itemId.isEmpty()) {
        return invalidReport(outcome, all, "an entry of batchItemFailures has no itemIdentifier");
      }
      if (!all.contains(itemId)) {
        return invalidReport(outcome, all, "itemIdentifier " + itemId + " is not in the batch");
      }
      ids.add(itemId);
    }
    return ids;
  }

  private Set<String> invalidReport(InvocationOutcome outcome, Set<String> all, String what) {
    context.reportFailure("invalid partial batch response from invocation " + outcome.requestId() + ": " + what
        + "; the whole batch is released", null);
    return all;
  }

  private void acknowledge(List<SourceRecord> records) {
    try {
      source.acknowledge(records);
    } catch (Throwable e) {
      if (isFatal(e)) {
        throw e; // reported once, by the poller
      }
      // The function succeeded but the source could not record it; the records will be delivered again.
      context.reportFailure("acknowledge of " + records.size() + " records failed", e);
    }
  }

  private void release(List<SourceRecord> records, String reason) {
    try {
      source.release(records, reason);
    } catch (Throwable e) {
      if (isFatal(e)) {
        throw e; // reported once, by the poller
      }
      context.reportFailure("release of " + records.size() + " records failed", e);
    }
  }

  /**
   * Returns true for an error that means the JVM is failing (out of memory, say), after which the poller should not go
   * on. A {@code StackOverflowError} is not one: the stack has unwound by the time it is caught, and it is the
   * failure of one batch (a deeply nested record), as it is of one invocation in a function.
   */
  static boolean isFatal(Throwable e) {
    return e instanceof VirtualMachineError && !(e instanceof StackOverflowError);
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return "EventSourceConnection{id=" + id + ", source=" + source.describe() + ", function=" + functionRef()
        + ", batchSize=" + options.batchSize() + "}";
  }
}
