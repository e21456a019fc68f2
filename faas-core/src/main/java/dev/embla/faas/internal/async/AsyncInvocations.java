package dev.embla.faas.internal.async;

import dev.embla.faas.AsyncInvocation;
import dev.embla.faas.AsyncQueueFullException;
import dev.embla.faas.Destination;
import dev.embla.faas.EngineClosedException;
import dev.embla.faas.EventInvokeConfig;
import dev.embla.faas.FaasException;
import dev.embla.faas.FunctionError;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.RequestTooLargeException;
import dev.embla.faas.internal.async.DestinationRecords.Condition;
import dev.embla.faas.internal.invoke.RequestIds;
import dev.embla.faas.internal.recursion.HopChain;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asynchronous invocations: accepts events into the durable {@link EventStore}, and delivers them from a small pool of
 * dispatcher threads through the engine's ordinary invoke, with Lambda's retries, maximum event age, destinations,
 * dead-letter target and recursion guard.
 *
 * <p>Life of an event: {@link #accept} writes it to the store (durable once that returns) and puts it on the ready
 * queue. A dispatcher takes it and invokes. On success, the on-success record is sent and the event deleted. On a
 * function error, the event is rewritten with one more invocation and a due time after the backoff, and waits in the
 * delayed set; when it has no retries left, or is older than the maximum age when next due, the on-failure record and
 * the dead-letter message are sent and it is deleted. Records are sent before the delete, so a kill between the two
 * repeats the record rather than losing it: delivery is at least once, for events and records alike.
 *
 * <p>Concurrency: the ready queue is a blocking queue that any thread offers to and dispatchers take from. The delayed
 * set is a heap under {@code delayedLock}; whichever dispatcher finds the lock free moves due events to the ready
 * queue. Time is the engine's clock, which gives no signal when it moves, so a dispatcher waiting while events are
 * delayed re-reads it every {@link #DELAYED_POLL} of real time. The store's native handle must not be used once
 * closed, so every store call holds {@code storeLock}'s read lock and checks {@code storeClosed}; {@link #close} takes
 * the write lock.
 */
public final class AsyncInvocations {

  private static final Logger LOG = LoggerFactory.getLogger(AsyncInvocations.class);
  static final Duration DELAYED_POLL = Duration.ofMillis(5);
  private static final long IDLE_POLL_MILLIS = 50;
  /** The most finished events a dispatcher deletes in one write. */
  static final int MAX_BATCH = 64;
  /** The longest a busy dispatcher holds finished events before it deletes them. */
  private static final long MAX_DELETE_DELAY = TimeUnit.MILLISECONDS.toNanos(2);
  /** How often an event whose function is not registered (yet: after a restart) checks again. */
  static final Duration FUNCTION_RECHECK = Duration.ofSeconds(1);

  private final AsyncSettings settings;
  private final Path directory;
  private final boolean durable;
  private final Clock clock;
  private final AsyncTarget target;
  private final Backoff backoff;
  private final Map<String, EventInvokeConfig> configs = new ConcurrentHashMap<>();
  /**
   * Until when the events for a function reference that was not found wait, by the reference as the event names it:
   * a deleted alias or version must not hold back the events for the function's other versions and aliases.
   */
  private final Map<String, Long> missingUntil = new ConcurrentHashMap<>();
  /** The error types of an invocation that the engine's close stopped (see Invoker). */
  private static final Set<String> STOPPED_BY_CLOSE = Set.of("Runtime.EngineClosed", "Runtime.EnvironmentCancelled");

  private final ReentrantReadWriteLock storeLock = new ReentrantReadWriteLock();
  private volatile EventStore store;
  private boolean storeClosed; // guarded by storeLock
  private final AtomicLong nextSeq = new AtomicLong();
  private final AtomicInteger pending = new AtomicInteger();

  private final LinkedBlockingQueue<QueuedEvent> ready = new LinkedBlockingQueue<>();
  private final ReentrantLock delayedLock = new ReentrantLock();
  private final PriorityQueue<QueuedEvent> delayed = new PriorityQueue<>( // guarded by delayedLock
      Comparator.comparingLong(QueuedEvent::nextAttemptAtMillis).thenComparingLong(QueuedEvent::seq));
  private volatile int delayedCount;

  private final List<Thread> dispatchers = new ArrayList<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong givenUp = new AtomicLong();
  private volatile boolean stopping;

  /**
   * Creates the queue. The store is opened now if {@code directory} holds one (so that events accepted before a
   * restart are delivered without waiting for a new one), else on the first accepted event.
   *
   * @param durable false if {@code directory} is deleted when the engine closes
   */
  public AsyncInvocations(AsyncSettings settings, Path directory, boolean durable, Clock clock, AsyncTarget target) {
    this.settings = settings;
    this.directory = directory;
    this.durable = durable;
    this.clock = clock;
    this.target = target;
    this.backoff = new Backoff(settings.backoffBase(), settings.backoffCap());
    if (holdsStore(directory)) {
      store();
    }
  }

  private static boolean holdsStore(Path directory) {
    return Files.isRegularFile(directory.resolve("CURRENT"));
  }

  // ---- configuration ----

  /** Sets a function's event-invoke configuration (Lambda's {@code PutFunctionEventInvokeConfig}). */
  public void putConfig(String functionName, EventInvokeConfig config) {
    configs.put(functionName, config);
  }

  /** Returns a function's event-invoke configuration, if one was put. */
  public Optional<EventInvokeConfig> config(String functionName) {
    return Optional.ofNullable(configs.get(functionName));
  }

  /** Forgets a deleted function's configuration, as Lambda deletes it with the function. */
  public void functionDeleted(String functionName) {
    configs.remove(functionName);
  }

  private EventInvokeConfig configFor(String functionName) {
    EventInvokeConfig c = configs.get(functionName);
    return c == null ? EventInvokeConfig.defaults() : c;
  }

  // ---- accepting ----

  /** Returns the largest payload {@link #accept} takes. */
  public int maxPayloadBytes() {
    return settings.maxPayloadBytes();
  }

  /**
   * Accepts an event for a function whose existence and payload the caller checked; durable when this returns. Its hop
   * chain is that of the invocation running on this thread, if any.
   *
   * @throws AsyncQueueFullException if the queue holds its maximum of events
   */
  public AsyncInvocation accept(String functionRef, byte[] payload) {
    QueuedEvent e = accept(functionRef, payload, HopChain.current(), false);
    return new AsyncInvocation(e.requestId(), functionRef);
  }

  private QueuedEvent accept(String functionRef, byte[] payload, HopChain chain, boolean afterRecursionStop) {
    EventStore s = store();
    int max = settings.maxQueuedEvents();
    if (pending.incrementAndGet() > max) {
      pending.decrementAndGet();
      throw new AsyncQueueFullException(String.format(Locale.ROOT,
          "asynchronous queue is full: %d events are waiting (maxQueuedAsyncEvents); event for '%s' not accepted",
          max, functionRef));
    }
    long now = clock.millis();
    QueuedEvent e = new QueuedEvent(nextSeq.getAndIncrement(), RequestIds.next(), functionRef, payload.clone(), now,
        0, 0, now, chain, afterRecursionStop, null, null);
    try {
      write(s, e);
    } catch (RuntimeException ex) {
      pending.decrementAndGet();
      throw ex;
    }
    ready.offer(e.lean());
    return e;
  }

  private EventStore store() {
    EventStore s = store;
    if (s != null) {
      return s;
    }
    synchronized (this) {
      if (store == null) {
        if (stopping) {
          throw new EngineClosedException("engine is closed; the asynchronous queue takes no new events");
        }
        EventStore opened = EventStore.open(directory, settings.syncWrites());
        try {
          recover(opened);
        } catch (Throwable t) {
          // Left open, the handle would hold the store's lock for as long as this JVM runs, and every later start on
          // the directory would fail on the lock instead of on what is wrong.
          try {
            opened.close();
          } catch (RuntimeException closing) {
            t.addSuppressed(closing);
          }
          throw t;
        }
        store = opened;
        startDispatchers();
      }
      return store;
    }
  }

  private void recover(EventStore opened) {
    // Nothing is scheduled until the whole store was read: a scan that fails leaves this queue as it was.
    List<QueuedEvent> found = new ArrayList<>();
    long next = opened.recover(e -> found.add(e.lean()));
    nextSeq.set(next);
    pending.addAndGet(found.size());
    found.forEach(this::schedule);
    if (!found.isEmpty()) {
      LOG.info("asynchronous queue in {}: {} event(s) accepted before the last shutdown will be delivered", directory,
          found.size());
    }
  }

  private void startDispatchers() {
    for (int i = 0; i < settings.dispatchers(); i++) {
      Thread t = Thread.ofPlatform().daemon().name("embla-async-" + i).unstarted(this::runDispatcher);
      dispatchers.add(t);
      t.start();
    }
  }

  // ---- store ----

  private void write(EventStore s, QueuedEvent e) {
    storeLock.readLock().lock();
    try {
      if (storeClosed) {
        throw new EngineClosedException("engine is closed; the asynchronous queue is closed");
      }
      s.put(e.seq(), e.encode());
    } finally {
      storeLock.readLock().unlock();
    }
  }

  /**
   * Events one dispatcher finished, deleted from the store in one write when it runs out of work, after
   * {@link #MAX_BATCH} of them, or {@link #MAX_DELETE_DELAY} after the first: a write per event would make the
   * store's write-ahead log the bottleneck. Deleting late is safe (deleting never loses an event); a kill before the
   * write only delivers those events again.
   */
  private final class Finished {
    private final long[] seqs = new long[MAX_BATCH];
    private int size;
    private int succeededInBatch;
    private long firstNanos;

    void add(QueuedEvent e, boolean success) {
      if (size == 0) {
        firstNanos = System.nanoTime();
      }
      seqs[size++] = e.seq();
      if (success) {
        succeededInBatch++;
      }
    }

    void flush() {
      if (size == 0) {
        return;
      }
      storeLock.readLock().lock();
      try {
        if (storeClosed) {
          return; // the events stay stored for the next start
        }
        store.deleteAll(seqs, size);
      } finally {
        storeLock.readLock().unlock();
      }
      // counters before pending, so that whoever sees the queue empty sees every outcome counted
      succeeded.addAndGet(succeededInBatch);
      givenUp.addAndGet(size - succeededInBatch);
      pending.addAndGet(-size);
      clear();
    }

    void clear() {
      size = 0;
      succeededInBatch = 0;
    }
  }

  /** Reads a lean event's payload back from the store; null if the event is no longer there. */
  private QueuedEvent withPayload(QueuedEvent lean) {
    storeLock.readLock().lock();
    try {
      if (storeClosed) {
        return null;
      }
      QueuedEvent stored = store.get(lean.seq());
      if (stored == null) {
        LOG.error("asynchronous event {} of function '{}' is missing from the store; not delivered",
            lean.requestId(), lean.functionName());
        return null;
      }
      return new QueuedEvent(lean.seq(), lean.requestId(), lean.functionRef(), stored.payload(),
          lean.acceptedAtMillis(), lean.invocations(), lean.throttles(), lean.nextAttemptAtMillis(), lean.chain(),
          lean.afterRecursionStop(), lean.lastError(), lean.lastExecutedVersion());
    } finally {
      storeLock.readLock().unlock();
    }
  }

  // ---- dispatching ----

  private void schedule(QueuedEvent full) {
    QueuedEvent e = full.lean();
    if (e.nextAttemptAtMillis() <= clock.millis()) {
      ready.offer(e);
      return;
    }
    delayedLock.lock();
    try {
      delayed.add(e);
      delayedCount = delayed.size();
    } finally {
      delayedLock.unlock();
    }
  }

  private void promoteDue() {
    if (delayedCount == 0 || !delayedLock.tryLock()) {
      return;
    }
    try {
      long now = clock.millis();
      QueuedEvent head;
      while ((head = delayed.peek()) != null && head.nextAttemptAtMillis() <= now) {
        ready.offer(delayed.poll());
      }
      delayedCount = delayed.size();
    } finally {
      delayedLock.unlock();
    }
  }

  private void runDispatcher() {
    Finished finished = new Finished();
    while (!stopping) {
      promoteDue();
      QueuedEvent e = ready.poll();
      if (e == null) {
        flush(finished); // nothing else to do: delete what is finished before waiting
        try {
          e = ready.poll(delayedCount > 0 ? DELAYED_POLL.toMillis() : IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException ie) {
          break;
        }
        if (e == null) {
          continue;
        }
      }
      inFlight.incrementAndGet();
      try {
        if (!stopping) { // once stopping, the event just stays in the store for the next start
          deliver(e, finished);
        }
      } catch (Throwable t) {
        // The store failed (disk full, say), or an Error came out of a sink or the engine (send rethrows only a
        // VirtualMachineError). The event is still stored as it was and is tried again after a restart. Nothing may
        // end this loop: a dispatcher that dies leaves the queue delivering nothing, with no sign of why.
        LOG.error("asynchronous event {} of function '{}' could not be processed; it stays stored", e.requestId(),
            e.functionName(), t);
      } finally {
        inFlight.decrementAndGet();
      }
      if (finished.size == MAX_BATCH
          || finished.size > 0 && System.nanoTime() - finished.firstNanos > MAX_DELETE_DELAY) {
        flush(finished);
      }
    }
    flush(finished); // close() joins dispatchers before it closes the store
  }

  private void flush(Finished finished) {
    try {
      finished.flush();
    } catch (Throwable t) { // the dispatcher must survive it, as runDispatcher says
      LOG.error("asynchronous queue: could not delete {} finished event(s); they stay stored and are delivered "
          + "again after a restart", finished.size, t);
      finished.clear();
    }
  }

  private void deliver(QueuedEvent waiting, Finished finished) {
    QueuedEvent e = waiting.payload() != null ? waiting : withPayload(waiting);
    if (e == null) {
      return; // no longer stored: nothing to deliver
    }
    String function = e.functionName();
    EventInvokeConfig config = configFor(function);
    long now = clock.millis();
    if (e.chain().count(function) >= HopChain.MAX_HOPS_PER_FUNCTION) {
      stopRecursion(e, config, finished);
      return;
    }
    if (now - e.acceptedAtMillis() > config.maximumEventAge().toMillis()) {
      giveUp(e, config, Condition.EVENT_AGE_EXCEEDED, e.lastError(), true, finished);
      return;
    }
    Long missing = missingUntil.get(e.functionRef());
    if (missing != null && missing > now) {
      schedule(e.dueAt(missing));
      return;
    }
    InvocationResult result;
    HopChain previous = HopChain.enter(e.chain().plus(function));
    try {
      result = target.invoke(e.functionRef(), e.payload(), e.requestId());
    } catch (EngineClosedException ex) {
      return; // closing: the event stays stored as it was
    } catch (FunctionNotFoundException ex) {
      waitForFunction(e, ex, now);
      return;
    } catch (FaasException ex) {
      if (isThrottle(ex)) {
        // Lambda retries a throttled event until its maximum age without counting it as a retry.
        schedule(e.deferred(now + backoff.delayMillis(e.requestId(), e.invocations() + e.throttles() + 1)));
        return;
      }
      onFailure(e, config, errorOf(ex), null, finished); // refused before any version ran
      return;
    } finally {
      HopChain.restore(previous);
    }
    missingUntil.remove(e.functionRef());
    if (result.isError()) {
      FunctionError error = result.error().orElseThrow();
      if (stopping && STOPPED_BY_CLOSE.contains(error.errorType())) {
        // Stopped by close after the grace period: not the function's failure, so it stays stored as it was. Close
        // stops a shared environment's lanes one after another, and a lane it has not reached yet fails because the
        // environment was cancelled under it; while stopping, that is close's doing too.
        return;
      }
      onFailure(e, config, result.payload(), result.executedVersion(), finished);
    } else {
      Destination onSuccess = config.onSuccess().orElse(null);
      if (onSuccess != null) {
        QueuedEvent done = e.failed(null, result.executedVersion(), 0); // one more invocation: approximateInvokeCount
        send(onSuccess, record(done, Condition.SUCCESS, result.executedVersion(), result.payload(), false), Map.of(),
            done.chain().plus(function), false, done, "on-success record");
      }
      finished.add(e, true);
    }
  }

  private void onFailure(QueuedEvent e, EventInvokeConfig config, byte[] error, String executedVersion,
      Finished finished) {
    // The version is stored with the error so that a record sent later (EventAgeExceeded, after a restart too)
    // still names what ran: with an alias, that is not what the event's reference names.
    QueuedEvent failed = e.failed(error, executedVersion, 0);
    int retriesDone = failed.invocations() - 1;
    if (retriesDone >= config.maximumRetryAttempts()) {
      giveUp(failed, config, Condition.RETRIES_EXHAUSTED, error, true, finished);
      return;
    }
    QueuedEvent next = failed.dueAt(clock.millis() + backoff.delayMillis(e.requestId(), retriesDone + 1));
    write(store, next);
    schedule(next);
  }

  private void waitForFunction(QueuedEvent e, FunctionNotFoundException ex, long now) {
    long until = now + FUNCTION_RECHECK.toMillis();
    if (missingUntil.put(e.functionRef(), until) == null) {
      LOG.warn("asynchronous events for '{}' wait: {}; they are delivered once it is registered, or given up when "
          + "older than their maximum event age", e.functionRef(), ex.getMessage());
    }
    schedule(e.deferred(until));
  }

  /**
   * Returns true if {@code e} is a throttle: the invocation was refused for a concurrency limit and should be tried
   * again later. The one place that knows which exception that is.
   */
  static boolean isThrottle(FaasException e) {
    return e instanceof dev.embla.faas.TooManyRequestsException;
  }

  private void stopRecursion(QueuedEvent e, EventInvokeConfig config, Finished finished) {
    String function = e.functionName();
    target.recursionStopped(function);
    if (e.afterRecursionStop()) {
      LOG.warn("function '{}': asynchronous event {} dropped: it is the failure record of an event already stopped "
          + "by recursive loop detection and it reached a function of the same loop ({} invocations of '{}' in its "
          + "chain)", function, e.requestId(), e.chain().count(function), function);
      finished.add(e, false);
      return;
    }
    LOG.warn("function '{}': invocation stopped by recursive loop detection: event {} would run it for the {}th time "
        + "in one chain of events {}; sent to its on-failure destination and dead-letter target, if any", function,
        e.requestId(), e.chain().count(function) + 1, e.chain());
    giveUp(e, config, Condition.RECURSIVE_INVOCATION_DETECTED, null, false, finished);
  }

  private void giveUp(QueuedEvent e, EventInvokeConfig config, Condition condition, byte[] lastError, boolean ran,
      Finished finished) {
    String function = e.functionName();
    boolean recursion = condition == Condition.RECURSIVE_INVOCATION_DETECTED;
    HopChain chain = ran && e.invocations() > 0 ? e.chain().plus(function) : e.chain();
    Optional<Destination> onFailure = config.onFailure();
    Optional<Destination> deadLetter = config.deadLetter();
    onFailure.ifPresent(d -> send(d, record(e, condition, e.lastExecutedVersion(), lastError, lastError != null),
        Map.of(), chain, recursion, e, "on-failure record"));
    deadLetter.ifPresent(d -> send(d, e.payload(), deadLetterAttributes(e, condition, lastError), chain, recursion, e,
        "dead-letter message"));
    if (onFailure.isEmpty() && deadLetter.isEmpty()) {
      LOG.warn("function '{}': asynchronous event {} discarded ({}, {} invocation(s)) with no on-failure destination "
          + "or dead-letter target: {}", function, e.requestId(), condition.wireName, e.invocations(),
          new String(e.payload(), StandardCharsets.UTF_8));
    }
    finished.add(e, false);
  }

  /** Builds a record; {@code executedVersion} is null when no version is known to have run. */
  private byte[] record(QueuedEvent e, Condition condition, String executedVersion, byte[] response,
      boolean functionError) {
    // Unknown only for an attempt refused before a version was picked, or an event stored by a release that did not
    // keep the version; $LATEST is what records said in both cases before the version was kept.
    String version = executedVersion != null ? executedVersion : "$LATEST";
    return DestinationRecords.record(clock.instant(), e, arnOf(e.functionRef()), condition, version, response,
        functionError);
  }

  private String arnOf(String functionRef) {
    try {
      return target.functionArn(functionRef);
    } catch (FunctionNotFoundException ex) {
      // deleted meanwhile: the record still names it, in the same shape
      int colon = functionRef.indexOf(':');
      return "arn:embla:lambda:local:000000000000:function:" + functionRef + (colon < 0 ? ":$LATEST" : "");
    }
  }

  private static Map<String, String> deadLetterAttributes(QueuedEvent e, Condition condition, byte[] lastError) {
    String message = lastError != null ? new String(lastError, StandardCharsets.UTF_8) : condition.wireName;
    return Map.of("RequestID", e.requestId(), "ErrorCode", lastError != null ? "200" : "429",
        "ErrorMessage", message.length() > 1024 ? message.substring(0, 1024) : message);
  }

  private void send(Destination d, byte[] body, Map<String, String> attributes, HopChain chain,
      boolean afterRecursionStop, QueuedEvent source, String what) {
    try {
      switch (d.type()) {
        case FUNCTION -> {
          target.functionArn(d.name()); // a destination that names no function is reported now, not in 6 hours
          if (body.length > settings.maxPayloadBytes()) {
            throw new RequestTooLargeException(String.format(Locale.ROOT,
                "record is %d bytes, over the asynchronous limit of %d bytes", body.length,
                settings.maxPayloadBytes()));
          }
          accept(d.name(), body, chain, afterRecursionStop);
        }
        case QUEUE -> {
          // The queue keeps the sending thread's chain with the message (as for a send by host code a function
          // calls into), so the event source mapping that reads it counts a loop through the queue.
          HopChain previous = HopChain.enter(chain);
          try {
            d.queue().send(new String(body, StandardCharsets.UTF_8));
          } finally {
            HopChain.restore(previous);
          }
        }
        case SINK -> d.sink().deliver(body, attributes);
      }
    } catch (VirtualMachineError vme) {
      // The JVM, not the destination, failed (out of memory, say): the event is not finished, so that it stays stored
      // and its record is sent again after a restart rather than lost; the dispatcher logs it and goes on.
      LOG.error("function '{}': the JVM failed while sending the {} of asynchronous event {} to {}: {}; it was: {}",
          source.functionName(), what, source.requestId(), d, vme.toString(), new String(body, StandardCharsets.UTF_8));
      throw vme;
    } catch (Throwable t) {
      // A sink is user code, and an Error from it (an AssertionError, a LinkageError) is its failure like any other.
      LOG.warn("function '{}': could not send the {} of asynchronous event {} to {}: {}; it was: {}",
          source.functionName(), what, source.requestId(), d, t.toString(), new String(body, StandardCharsets.UTF_8));
    }
  }

  private static byte[] errorOf(FaasException ex) {
    return new FunctionError(FunctionError.Kind.RUNTIME, ex.getClass().getSimpleName(), ex.getMessage(), List.of())
        .toJson().getBytes(StandardCharsets.UTF_8);
  }

  // ---- figures and shutdown ----

  /** Returns how many events are accepted and not finished. */
  public int pendingCount() {
    return pending.get();
  }

  /** Returns how many events finished with a success since this queue opened. */
  public long succeededCount() {
    return succeeded.get();
  }

  /** Returns how many events were given up on (sent to failure destinations, or discarded) since it opened. */
  public long givenUpCount() {
    return givenUp.get();
  }

  /** Returns how many events dispatchers are delivering now. */
  public int inFlightCount() {
    return inFlight.get();
  }

  /** Stops dispatching: no dispatcher takes another event. Accepting is the engine's to refuse. */
  public void stopDispatching() {
    stopping = true;
  }

  /**
   * Stops dispatching, waits up to {@code bound} for dispatchers to finish their event, and closes the store. Events
   * not finished stay in the store for the next engine that opens it; the summary is logged at WARN.
   */
  public AsyncShutdownReport close(Duration bound) {
    stopping = true;
    List<Thread> threads;
    synchronized (this) {
      threads = List.copyOf(dispatchers);
    }
    long end = System.nanoTime() + bound.toNanos();
    int stillRunning = 0;
    for (Thread t : threads) {
      try {
        long left = end - System.nanoTime();
        if (left > 0) {
          t.join(Duration.ofNanos(left));
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      if (t.isAlive()) {
        stillRunning++;
      }
    }
    storeLock.writeLock().lock();
    try {
      storeClosed = true;
      if (store != null) {
        store.close();
      }
    } finally {
      storeLock.writeLock().unlock();
    }
    AsyncShutdownReport report = new AsyncShutdownReport(pending.get(), stillRunning, store == null ? null : directory,
        durable);
    if (report.undelivered() > 0) {
      if (durable) {
        LOG.warn("asynchronous queue closed with {} event(s) not yet delivered ({} dispatcher(s) still busy); they "
            + "stay in {} and are delivered by the next engine that opens it", report.undelivered(), stillRunning,
            directory);
      } else {
        LOG.warn("asynchronous queue closed with {} event(s) not yet delivered, in the engine's temporary work "
            + "directory, which is deleted now: they are lost. Set asyncStoreDirectory or workDirectory to keep them",
            report.undelivered());
      }
    }
    return report;
  }

  /** Returns the due times of the events waiting for a retry or for their function, in order; for tests. */
  List<Long> delayedDueTimes() {
    delayedLock.lock();
    try {
      return delayed.stream().map(QueuedEvent::nextAttemptAtMillis).sorted().toList();
    } finally {
      delayedLock.unlock();
    }
  }

  /** Returns the sequence number the next accepted event gets; for tests. */
  long nextSequence() {
    return nextSeq.get();
  }

  /** Returns the store's directory. */
  public Path directory() {
    return directory;
  }
}
