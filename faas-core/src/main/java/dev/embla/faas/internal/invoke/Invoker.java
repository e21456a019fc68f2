package dev.embla.faas.internal.invoke;

import dev.embla.faas.FunctionError;
import dev.embla.faas.InvalidRequestContentException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.RequestTooLargeException;
import dev.embla.faas.Ticker;
import dev.embla.faas.internal.concurrency.PermitPool;
import dev.embla.faas.internal.pool.EnvironmentOutput;
import dev.embla.faas.internal.pool.PooledEnvironment;
import dev.embla.faas.internal.registry.FunctionRegistry;
import dev.embla.faas.internal.registry.FunctionVersion;
import dev.embla.faas.internal.registry.Route;
import dev.embla.faas.spi.runtime.FunctionFailure;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs synchronous invocations on the caller's thread: resolve, acquire or create an environment, Init when cold,
 * Invoke under a deadline, report, release.
 *
 * <p>Running on the caller's thread is deliberate: handing the call to another thread costs about 40 µs, the whole
 * warm path here well under one. Deadlines, and allocation budgets ({@link AllocationBudget}), are enforced by the
 * {@link dev.embla.faas.internal.pool.Watchdog}, which cancels the environment; the runtime then stops its code from
 * inside. A runtime may still run its guest on a thread of its own (python3 does, so that a cancelled phase answers
 * its caller before GraalPy has unwound); it says so through {@code ExecutionEnvironment#guestThread}, and the
 * allocation of that thread is what the budget and {@code Max Memory Used} measure.
 */
public final class Invoker {

  private static final Logger LOG = LoggerFactory.getLogger(Invoker.class);
  private static final com.sun.management.ThreadMXBean THREADS = threads();
  private static final long MB = 1024 * 1024;

  static {
    // The first timeout of a JVM would otherwise load and initialise the formatter, its locale data and the error
    // types on the caller's clock. Pay that once, at engine start (the larger part of a late first timeout was the
    // virtual-thread scheduler's start; see LocalEngine).
    timeoutError(java.time.Duration.ofSeconds(1)).toJson();
  }

  private final FunctionRegistry registry;
  private final Ticker ticker;
  private final int maxPayloadBytes;
  private final int maxResponseBytes;
  private final AllocationBudget budget;

  /** Creates an invoker over a registry whose phases run under {@code budget}. */
  public Invoker(FunctionRegistry registry, Ticker ticker, int maxPayloadBytes, int maxResponseBytes,
      AllocationBudget budget) {
    this.registry = registry;
    this.ticker = ticker;
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxResponseBytes = maxResponseBytes;
    this.budget = budget;
  }

  /** Invokes {@code functionRef} with {@code payload}; see {@link dev.embla.faas.FaasEngine#invoke}. */
  public InvocationResult invoke(String functionRef, byte[] payload) {
    return invoke(functionRef, payload, false);
  }

  /**
   * Invokes like {@link #invoke(String, byte[])}; with {@code forceCold} the call runs in a new environment that is
   * discarded afterwards, for cold-start measurements.
   */
  public InvocationResult invoke(String functionRef, byte[] payload, boolean forceCold) {
    return invoke(functionRef, payload, forceCold, null);
  }

  /**
   * Invokes like {@link #invoke(String, byte[])} under a request id chosen by the caller: an asynchronous event keeps
   * the id it was accepted with on every attempt, as in Lambda.
   */
  public InvocationResult invoke(String functionRef, byte[] payload, String requestId) {
    return invoke(functionRef, payload, false, requestId);
  }

  private InvocationResult invoke(String functionRef, byte[] payload, boolean forceCold, String givenRequestId) {
    if (payload.length > maxPayloadBytes) {
      throw new RequestTooLargeException(String.format(Locale.ROOT,
          "payload of function '%s' is %d bytes, over the limit of %d bytes", functionRef, payload.length,
          maxPayloadBytes));
    }
    Route route = registry.route(functionRef);
    FunctionVersion version = route.pick();
    if (!version.pool().runtimeChecksPayload()) {
      PayloadCheck.requireJson(payload);
    }
    // The concurrency gate: one permit per invocation, lock-free (see PermitPool); throttles before any environment.
    PermitPool permit = version.pool().concurrency().admit();
    try {
      return invokeAdmitted(route, version, functionRef, payload, forceCold, givenRequestId);
    } finally {
      permit.release();
    }
  }

  private InvocationResult invokeAdmitted(Route route, FunctionVersion version, String functionRef, byte[] payload,
      boolean forceCold, String givenRequestId) {
    PooledEnvironment env = forceCold ? null : version.pool().acquire();
    long initNanos = -1;
    if (env == null) {
      // create() refuses once an update or delete retired the revision: run the current one instead.
      while ((env = version.pool().create()) == null) {
        route = registry.route(functionRef);
        version = route.pick();
      }
      if (!env.initialized()) { // not a lane of a shared environment whose Init another invocation ran
        version.pool().concurrency().recordColdStart();
      }
      if (forceCold) {
        env.markDiscardAfterUse();
      }
    }
    String requestId = givenRequestId != null ? givenRequestId : RequestIds.next();
    Logger log = version.pool().functionLog();
    boolean info = log.isInfoEnabled();
    boolean completed = false;
    try {
      FunctionError initError = null;
      if (!env.initialized()) {
        // Init output precedes START and carries no request id, as in Lambda.
        long t0 = ticker.read();
        initError = init(version, env, t0);
        initNanos = Math.max(0, ticker.read() - t0);
      }
      MDC.put(EnvironmentOutput.MDC_REQUEST_ID, requestId);
      MDC.put(EnvironmentOutput.MDC_FUNCTION, version.config().name());
      if (info) {
        log.info("START RequestId: {} Version: {}", requestId, version.version());
      }
      InvocationResult result = initError != null
          ? finish(version, env, log, info, requestId, null, initError, 0, initNanos, 0)
          : runInvoke(version, env, log, info, requestId, payload, route.invokedArn(), initNanos);
      completed = true;
      return result;
    } catch (InvalidRequestContentException e) {
      completed = true; // the runtime rejected a payload that is not JSON; the environment is fine
      throw e;
    } finally {
      MDC.remove(EnvironmentOutput.MDC_REQUEST_ID);
      MDC.remove(EnvironmentOutput.MDC_FUNCTION);
      if (!completed) {
        env.markBroken(); // something outside the function failed (a log appender, say): do not reuse
      }
      env.pool().release(env);
    }
  }

  private FunctionError init(FunctionVersion version, PooledEnvironment env, long t0) {
    Throwable failure = null;
    int memorySizeMb = version.config().memorySizeMb();
    Thread guest = env.delegate().guestThread();
    env.arm(t0 + version.config().initTimeout().toNanos(), threadIdOf(guest), allocatedBy(guest),
        budget.bytesFor(memorySizeMb));
    try {
      env.delegate().init();
    } catch (Throwable t) {
      failure = t;
    }
    boolean inTime = env.disarm();
    if (!inTime && env.stoppedByClose()) {
      env.markBroken();
      return closedError();
    }
    if (!inTime && env.stoppedOverBudget()) { // allocation budget (see AllocationBudget)
      env.markBroken();
      return budget.exceeded(FunctionError.Kind.INIT, "Init", memorySizeMb, env.overBudgetBytes());
    }
    if (!inTime) {
      env.markBroken();
      return new FunctionError(FunctionError.Kind.INIT, "Sandbox.Timedout",
          String.format(Locale.ROOT, "Init timed out after %.2f seconds",
              version.config().initTimeout().toMillis() / 1000.0), List.of());
    }
    if (failure != null) {
      env.markBroken();
      if (failure instanceof FunctionFailure f) {
        return new FunctionError(FunctionError.Kind.INIT, f.errorType(), f.errorMessage(), f.stackTraceLines());
      }
      LOG.warn("function {}: runtime failed during Init", version.config().name(), failure);
      return runtimeError(FunctionError.Kind.INIT, failure);
    }
    env.markInitialized();
    return null;
  }

  // The guest's thread is the caller's unless the runtime runs guest code on a thread of its own
  // (ExecutionEnvironment#guestThread); allocation is measured where the guest runs.
  private static long threadIdOf(Thread guest) {
    return guest == null ? Thread.currentThread().threadId() : guest.threadId();
  }

  private static long allocatedBy(Thread guest) {
    return guest == null
        ? THREADS.getCurrentThreadAllocatedBytes()
        : THREADS.getThreadAllocatedBytes(guest.threadId());
  }

  private InvocationResult runInvoke(FunctionVersion version, PooledEnvironment env, Logger log, boolean info,
      String requestId, byte[] payload, String invokedArn, long initNanos) {
    long start = ticker.read();
    long deadline = start + version.config().timeout().toNanos();
    InvocationContext context = new InvocationContext(requestId, version.config().name(), version.version(),
        invokedArn, version.config().memorySizeMb(), deadline, ticker, env.output());
    env.output().requestId(requestId);
    Thread guest = env.delegate().guestThread();
    long allocatedBefore = allocatedBy(guest);
    byte[] response = null;
    Throwable failure = null;
    env.arm(deadline, threadIdOf(guest), allocatedBefore, budget.bytesFor(version.config().memorySizeMb()));
    try {
      response = env.delegate().invoke(payload, context);
    } catch (Throwable t) {
      failure = t;
    }
    boolean inTime = env.disarm();
    long duration = ticker.read() - start;
    long allocated = allocatedBy(guest) - allocatedBefore;
    env.output().requestId(null);
    FunctionError error = null;
    if (!inTime && env.stoppedByClose()) {
      env.markBroken();
      error = closedError();
    } else if (!inTime && env.stoppedOverBudget()) { // allocation budget (see AllocationBudget)
      env.markBroken();
      error = budget.exceeded(FunctionError.Kind.OUT_OF_MEMORY, "the invocation", version.config().memorySizeMb(),
          env.overBudgetBytes());
    } else if (!inTime) {
      env.markBroken();
      error = timeoutError(version.config().timeout());
    } else if (failure instanceof FunctionFailure f) {
      if (f.kind() == FunctionFailure.Kind.BAD_PAYLOAD && version.pool().runtimeChecksPayload()) {
        PayloadCheck.requireJson(payload); // not JSON at all: the caller's error, not the function's
      }
      FunctionError.Kind kind = switch (f.kind()) {
        case HANDLER -> FunctionError.Kind.HANDLER;
        case BAD_PAYLOAD -> FunctionError.Kind.BAD_PAYLOAD;
        case EXIT -> FunctionError.Kind.EXIT;
        case INIT -> FunctionError.Kind.INIT;
      };
      if (kind == FunctionError.Kind.EXIT || kind == FunctionError.Kind.INIT) {
        env.markBroken();
      }
      error = new FunctionError(kind, f.errorType(), f.errorMessage(), f.stackTraceLines());
    } else if (failure != null && env.cancelledForAnotherLane()) {
      env.markBroken();
      error = new FunctionError(FunctionError.Kind.RUNTIME, "Runtime.EnvironmentCancelled",
          "invocation stopped: the execution environment it shared with other invocations was cancelled (another"
              + " invocation in it timed out, or the engine closed)", List.of());
    } else if (failure != null) {
      env.markBroken();
      LOG.warn("function {}: runtime failed during Invoke; environment {} discarded", version.config().name(),
          env.id(), failure);
      error = runtimeError(FunctionError.Kind.RUNTIME, failure);
    } else if (response == null) {
      response = "null".getBytes(StandardCharsets.US_ASCII);
    } else if (response.length > maxResponseBytes) {
      // Lambda refuses the response, not the function: the handler finished and its environment is as good as
      // before, so it stays in the pool.
      error = responseTooLarge(response.length);
      response = null;
    }
    long maxAllocated = env.recordAllocation(allocated);
    return finish(version, env, log, info, requestId, response, error, duration, initNanos, maxAllocated);
  }

  private InvocationResult finish(FunctionVersion version, PooledEnvironment env, Logger log, boolean info,
      String requestId, byte[] response, FunctionError error, long durationNanos, long initNanos, long allocated) {
    int memoryUsedMb = (int) Math.max(1, (allocated + MB - 1) / MB);
    if (info) {
      if (error != null) {
        log.info("{}", error.toJson());
      }
      log.info("END RequestId: {}", requestId);
      StringBuilder report = new StringBuilder(160).append("REPORT RequestId: ").append(requestId)
          .append("\tDuration: ").append(millis(durationNanos)).append(" ms")
          .append("\tBilled Duration: ").append(Math.max(1, (durationNanos + 999_999) / 1_000_000)).append(" ms")
          .append("\tMemory Size: ").append(version.config().memorySizeMb()).append(" MB")
          .append("\tMax Memory Used: ").append(memoryUsedMb).append(" MB");
      if (initNanos >= 0) {
        report.append("\tInit Duration: ").append(millis(initNanos)).append(" ms");
      }
      if (error != null && error.kind() == FunctionError.Kind.TIMEOUT) {
        report.append("\tStatus: timeout");
      } else if (error != null && error.kind() == FunctionError.Kind.OUT_OF_MEMORY) {
        report.append("\tStatus: error\tError Type: ").append(AllocationBudget.ERROR_TYPE);
      }
      log.info("{}", report);
    }
    byte[] payload = error == null ? response : error.toJson().getBytes(StandardCharsets.UTF_8);
    return new InvocationResult(requestId, version.version(), payload, error, durationNanos, initNanos,
        memoryUsedMb);
  }

  /**
   * Creates and initialises {@code count} environments of a function and leaves them idle, so that the next
   * {@code count} concurrent calls are warm.
   *
   * @return how many environments initialised successfully
   */
  public int prewarm(String functionRef, int count) {
    FunctionVersion version = registry.route(functionRef).primary();
    List<PooledEnvironment> created = new java.util.ArrayList<>(count);
    int ok = 0;
    try {
      for (int i = 0; i < count; i++) {
        PooledEnvironment env = version.pool().createNew();
        if (env == null) {
          break; // retired meanwhile
        }
        created.add(env);
        if (init(version, env, ticker.read()) == null) {
          ok++;
        }
      }
    } finally {
      created.forEach(env -> env.pool().release(env));
    }
    return ok;
  }

  /**
   * Runs the Init phase of an environment the caller created (provisioned concurrency), under the init timeout.
   *
   * @return null on success, else the Init error
   */
  public FunctionError initEnvironment(FunctionVersion version, PooledEnvironment env) {
    return init(version, env, ticker.read());
  }

  private static FunctionError timeoutError(java.time.Duration timeout) {
    return new FunctionError(FunctionError.Kind.TIMEOUT, "Sandbox.Timedout",
        String.format(Locale.ROOT, "Task timed out after %.2f seconds", timeout.toMillis() / 1000.0), List.of());
  }

  private FunctionError responseTooLarge(int size) {
    return new FunctionError(FunctionError.Kind.RUNTIME, "Function.ResponseSizeTooLarge",
        String.format(Locale.ROOT, "Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).",
            size, maxResponseBytes), List.of());
  }

  private static FunctionError closedError() {
    return new FunctionError(FunctionError.Kind.RUNTIME, "Runtime.EngineClosed",
        "invocation stopped: the engine closed and its shutdown grace period ran out", List.of());
  }

  private static FunctionError runtimeError(FunctionError.Kind kind, Throwable t) {
    // The frames are the engine's, not the function's: they go to the engine's log, never to the caller.
    return new FunctionError(kind, t.getClass().getName(), String.valueOf(t.getMessage()), List.of());
  }

  private static String millis(long nanos) {
    return String.format(Locale.ROOT, "%.2f", nanos / 1_000_000.0);
  }

  private static com.sun.management.ThreadMXBean threads() {
    com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    if (bean.isThreadAllocatedMemorySupported() && !bean.isThreadAllocatedMemoryEnabled()) {
      bean.setThreadAllocatedMemoryEnabled(true);
    }
    return bean;
  }
}
