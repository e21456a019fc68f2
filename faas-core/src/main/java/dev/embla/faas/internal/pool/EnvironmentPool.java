package dev.embla.faas.internal.pool;

import dev.embla.faas.Ticker;
import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.PreparedFunction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The execution environments of one function revision. An invocation takes the most recently used idle environment
 * ({@link #acquire()}) or, when there is none, creates one ({@link #create()}); afterwards it gives it back
 * ({@link #release}). Idle environments past the keep-alive are shut down by {@link #evictIdle}.
 *
 * <p>Concurrency: idle environments live in two places. Each calling thread has a "hot" slot (striped by thread id,
 * one cache line per stripe), where it parks the environment it just used and finds it again on its next call
 * without touching memory another thread writes; this is what keeps two threads invoking the same function from
 * bouncing one cache line between cores on every call. The rest of the idle set is a lock-free deque used as a stack
 * (push and pop at the head, so the warmest environment is reused first and the coldest ages out at the tail). An
 * acquire tries its own slot, then the deque, then every other slot, before it reports that nothing is idle, so an
 * idle environment is never missed. An environment is idle in exactly one place or owned by exactly one invocation:
 * slot compare-and-sets, {@code pollFirst} and {@code remove} each take it atomically, so an acquiring thread and the
 * evicting thread cannot both win it. After {@link #retire()} no environment goes back to the idle set; a release
 * shuts it down instead.
 */
public final class EnvironmentPool {

  private static final Logger LOG = LoggerFactory.getLogger(EnvironmentPool.class);
  private static final AtomicLong IDS = new AtomicLong();

  private final String functionName;
  private final PreparedFunction prepared;
  private final Ticker ticker;
  private final Path tmpRoot;
  private final Logger functionLog;
  private final Watchdog watchdog;
  private final Executor shutdownExecutor;
  private final Duration shutdownBound;

  private final Runnable onDrained;
  private final long maxLogBytesPerInvocation;
  private final boolean runtimeChecksPayload;
  private final java.util.concurrent.atomic.AtomicBoolean drained = new java.util.concurrent.atomic.AtomicBoolean();
  private final ConcurrentLinkedDeque<PooledEnvironment> idle = new ConcurrentLinkedDeque<>();
  private final Set<PooledEnvironment> all = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.LongAdder busy = new java.util.concurrent.atomic.LongAdder();
  /** Invocations that asked for an environment; the keep-alive controller turns its changes into idle times. */
  private final java.util.concurrent.atomic.LongAdder arrivals = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.AtomicReferenceArray<PooledEnvironment> hot =
      new java.util.concurrent.atomic.AtomicReferenceArray<>(STRIPES * PAD);

  private static final int STRIPES =
      Integer.highestOneBit(Math.max(2, Runtime.getRuntime().availableProcessors()) * 2 - 1) * 2;
  /** References per stripe, so that stripes sit on different cache lines. */
  private static final int PAD = 16;
  private final String arnPrefix;
  private volatile boolean retired;

  /**
   * Creates a pool.
   *
   * @param functionName the function's name, for logs
   * @param prepared the runtime's preparation of the revision
   * @param ticker the engine's time source
   * @param tmpRoot where environments' private {@code /tmp} directories are made
   * @param functionLog the function's logger
   * @param watchdog the engine's deadline watchdog
   * @param shutdownExecutor where Shutdown phases run, so that a slow hook does not hold up the caller
   * @param shutdownBound how long a function's shutdown hooks may run
   * @param onDrained run once, after the pool is retired and its last environment has shut down
   * @param maxLogBytesPerInvocation how much function output one invocation may log before the rest is dropped
   */
  public EnvironmentPool(String functionName, PreparedFunction prepared, Ticker ticker, Path tmpRoot,
      Logger functionLog, Watchdog watchdog, Executor shutdownExecutor, Duration shutdownBound,
      Runnable onDrained, long maxLogBytesPerInvocation) {
    this.maxLogBytesPerInvocation = maxLogBytesPerInvocation;
    this.onDrained = onDrained;
    this.runtimeChecksPayload = prepared.checksPayloadSyntax();
    this.functionName = functionName;
    this.prepared = prepared;
    this.ticker = ticker;
    this.tmpRoot = tmpRoot;
    this.functionLog = functionLog;
    this.watchdog = watchdog;
    this.shutdownExecutor = shutdownExecutor;
    this.shutdownBound = shutdownBound;
    this.arnPrefix = "arn:embla:lambda:local:000000000000:function:" + functionName;
  }

  /** Returns the most recently used idle environment, now owned by the caller, or null if none is idle. */
  public PooledEnvironment acquire() {
    arrivals.increment();
    int own = stripe();
    PooledEnvironment env = hot.get(own);
    if (env == null || !hot.compareAndSet(own, env, null)) {
      env = idle.pollFirst();
      if (env == null) {
        env = stealFromOtherStripes(own);
        if (env == null) {
          return null;
        }
      }
    }
    busy.increment();
    return env;
  }

  private PooledEnvironment stealFromOtherStripes(int own) {
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      PooledEnvironment env = hot.get(i);
      if (i != own && env != null && hot.compareAndSet(i, env, null)) {
        return env;
      }
    }
    return null;
  }

  private static int stripe() {
    long id = Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L;
    return ((int) (id >>> 40) & (STRIPES - 1)) * PAD;
  }

  /**
   * Creates a new, uninitialised environment owned by the caller; the caller runs its Init.
   *
   * @return the environment, or null if the pool is retired (the caller resolves the function again)
   */
  public PooledEnvironment create() {
    if (retired) {
      return null;
    }
    String id = Long.toString(IDS.incrementAndGet(), 36);
    EnvironmentOutput output = new EnvironmentOutput(functionLog, functionName, maxLogBytesPerInvocation);
    LazyContext context = new LazyContext(id, tmpRoot, output);
    ExecutionEnvironment delegate = prepared.newEnvironment(context);
    PooledEnvironment env = new PooledEnvironment(id, delegate, output, this, ticker.read());
    env.context = context;
    busy.increment();
    all.add(env);
    if (retired) {
      // Retired while we were creating: the revision may be draining; never hand out an environment of it.
      all.remove(env);
      busy.decrement();
      drainIfDone();
      return null;
    }
    watchdog.register(env);
    return env;
  }

  /**
   * Gives an environment back after an invocation: to the idle set if it is healthy and the pool is live, otherwise
   * to Shutdown.
   */
  public void release(PooledEnvironment env) {
    busy.decrement();
    if (env.broken || !env.initialized || retired || !env.delegate().isReusable()) {
      destroy(env);
      return;
    }
    env.lastUsedNanos = ticker.read();
    int own = stripe();
    PooledEnvironment parked = hot.get(own);
    if (parked == null && hot.compareAndSet(own, null, env)) {
      if (retired && hot.compareAndSet(own, env, null)) {
        destroy(env); // retired between the check and the park
      }
      return;
    }
    if (parked != null && parked.lastUsedNanos - env.lastUsedNanos < 0 && hot.compareAndSet(own, parked, env)) {
      env = parked; // keep the warmest in the slot; the one it displaces goes to the shared stack
    }
    idle.offerFirst(env);
    if (retired && idle.remove(env)) {
      destroy(env); // retired between the check and the push
    }
  }

  /**
   * Shuts down idle environments unused for at least {@code keepAliveNanos}.
   *
   * @return how many were shut down
   */
  public int evictIdle(long keepAliveNanos) {
    long now = ticker.read();
    int evicted = 0;
    Iterator<PooledEnvironment> it = idle.descendingIterator();
    List<PooledEnvironment> expired = new ArrayList<>();
    while (it.hasNext()) {
      PooledEnvironment env = it.next();
      if (now - env.lastUsedNanos >= keepAliveNanos) {
        expired.add(env);
      }
    }
    for (PooledEnvironment env : expired) {
      if (idle.remove(env)) { // lost races to an acquiring invocation are fine: that one is warm again
        destroy(env);
        evicted++;
      }
    }
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      PooledEnvironment env = hot.get(i);
      if (env != null && now - env.lastUsedNanos >= keepAliveNanos && hot.compareAndSet(i, env, null)) {
        destroy(env);
        evicted++;
      }
    }
    return evicted;
  }

  /** Stops handing out environments: idle ones shut down now, busy ones when released. */
  public void retire() {
    retired = true;
    PooledEnvironment env;
    while ((env = idle.pollFirst()) != null) {
      destroy(env);
    }
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      env = hot.getAndSet(i, null);
      if (env != null) {
        destroy(env);
      }
    }
    drainIfDone();
  }

  private void drainIfDone() {
    if (retired && all.isEmpty() && drained.compareAndSet(false, true)) {
      try {
        prepared.close();
      } catch (RuntimeException e) {
        LOG.warn("function {}: closing a retired revision failed", functionName, e);
      } finally {
        onDrained.run();
      }
    }
  }

  /** Returns whether the pool is retired. */
  public boolean retired() {
    return retired;
  }

  /** Returns how many environments are idle. */
  public int idleCount() {
    int n = idle.size();
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      if (hot.get(i) != null) {
        n++;
      }
    }
    return n;
  }

  /** Returns how many invocations have asked this pool for an environment; pre-warms are not counted. */
  public long arrivals() {
    return arrivals.sum();
  }

  /** Returns how many environments are owned by invocations. */
  public int busyCount() {
    return busy.intValue();
  }

  /** Returns how many environments exist (idle, busy, or shutting down). */
  public int size() {
    return all.size();
  }

  /** Returns the function's name. */
  public String functionName() {
    return functionName;
  }

  /** Returns whether the runtime reports payloads that are not JSON itself (see PreparedFunction). */
  public boolean runtimeChecksPayload() {
    return runtimeChecksPayload;
  }

  /** Returns the function's logger, where START, END and REPORT lines and the function's output go. */
  public Logger functionLog() {
    return functionLog;
  }

  /** Returns the function's ARN without a qualifier. */
  public String arnPrefix() {
    return arnPrefix;
  }

  /** Cancels every environment running a phase now; for engine close after the grace period. */
  public int cancelRunning() {
    int n = 0;
    for (PooledEnvironment env : all) {
      if (env.expireNow()) {
        watchdog.cancel(env);
        n++;
      }
    }
    return n;
  }

  /**
   * Shuts an environment down: on the shutdown executor, so that a slow hook never holds up the caller, or inline for
   * an environment made by a cold-start measurement (whose shutdown is then part of what is measured, and does not
   * compete for the other core while the next measurement runs).
   */
  void destroy(PooledEnvironment env) {
    env.broken = true;
    watchdog.unregister(env);
    Runnable shutdown = () -> {
      try {
        env.delegate().shutdown(shutdownBound);
      } catch (RuntimeException | Error e) {
        LOG.warn("function {}: shutdown of environment {} failed", functionName, env.id(), e);
      } finally {
        all.remove(env);
        ((LazyContext) env.context).deleteTmp();
        drainIfDone();
      }
    };
    if (env.shutdownInline) {
      shutdown.run();
      return;
    }
    try {
      shutdownExecutor.execute(shutdown);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      shutdown.run(); // the engine is closing: shut down here rather than leave the environment behind
    }
  }

  /** The context given to a runtime; the private {@code /tmp} is made on first use, keeping cold starts cheap. */
  private static final class LazyContext implements EnvironmentContext {
    private final String id;
    private final Path tmpRoot;
    private final EnvironmentOutput output;
    private volatile Path tmp;
    private boolean tmpDeleted; // guarded by this

    LazyContext(String id, Path tmpRoot, EnvironmentOutput output) {
      this.id = id;
      this.tmpRoot = tmpRoot;
      this.output = output;
    }

    @Override
    public String environmentId() {
      return id;
    }

    @Override
    public synchronized Path tmpDirectory() {
      if (tmpDeleted) {
        // A thread the function left running after Shutdown must not bring the deleted directory back.
        throw new IllegalStateException("environment " + id + " is shut down; its /tmp was deleted");
      }
      if (tmp == null) {
        try {
          tmp = Files.createDirectories(tmpRoot.resolve(id));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot create /tmp of environment " + id, e);
        }
      }
      return tmp;
    }

    @Override
    public FunctionOutput output() {
      return output;
    }

    synchronized void deleteTmp() {
      tmpDeleted = true;
      if (tmp != null) {
        try {
          com.google.common.io.MoreFiles.deleteRecursively(tmp,
              com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE);
        } catch (IOException e) {
          LOG.debug("could not delete {}", tmp, e);
        }
        tmp = null;
      }
    }
  }
}
