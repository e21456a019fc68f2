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

  /**
   * Returns an empty concurrent set whose table already exists. A {@code ConcurrentHashMap} creates its table on the
   * first insertion, and a thread that loses that race calls {@code Thread.yield()}; a virtual thread that yields
   * queues again behind every runnable one, which in a burst of cold starts on a new function is milliseconds for a
   * call that lost a race of nanoseconds.
   */
  static <T> Set<T> concurrentSet() {
    ConcurrentHashMap<T, Boolean> map = new ConcurrentHashMap<>();
    @SuppressWarnings("unchecked") // compute with a key of no type T: it creates the table and inserts nothing
    ConcurrentHashMap<Object, Boolean> untyped = (ConcurrentHashMap<Object, Boolean>) (ConcurrentHashMap<?, ?>) map;
    untyped.compute(new Object(), (key, value) -> null);
    return map.keySet(Boolean.TRUE);
  }

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
  private final Set<PooledEnvironment> all = concurrentSet();
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
  private final PoolLimits limits;
  private final LogStreamNames logStreams;
  /** Shared environments whose Init is running, which invocations may join (see EnvironmentLanes#unclaimed). */
  private final Set<EnvironmentLanes> initializing = ConcurrentHashMap.newKeySet();
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
    this(functionName, prepared, ticker, tmpRoot, functionLog, watchdog, shutdownExecutor, shutdownBound, onDrained,
        maxLogBytesPerInvocation, PoolLimits.unlimited(functionName),
        new LogStreamNames(java.time.Clock.systemUTC(), "$LATEST"));
  }

  /**
   * Creates a pool under the engine's concurrency gate.
   *
   * @param limits the function's gate, the memory budget and the environment width
   * @param logStreams names each new environment's log stream
   * @see #EnvironmentPool(String, PreparedFunction, Ticker, Path, Logger, Watchdog, Executor, Duration, Runnable, long)
   */
  public EnvironmentPool(String functionName, PreparedFunction prepared, Ticker ticker, Path tmpRoot,
      Logger functionLog, Watchdog watchdog, Executor shutdownExecutor, Duration shutdownBound,
      Runnable onDrained, long maxLogBytesPerInvocation, PoolLimits limits, LogStreamNames logStreams) {
    this.limits = limits;
    this.logStreams = logStreams;
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
    PooledEnvironment env = takeIdle();
    // A lane of a shared environment that another lane broke is never handed out.
    while (env != null && env.lanes != null && env.lanes.broken) {
      destroy(env);
      env = takeIdle();
    }
    if (env != null) {
      busy.increment();
    }
    return env;
  }

  private PooledEnvironment takeIdle() {
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
    return create(true);
  }

  /**
   * Like {@link #create()}, but never joins a shared environment in Init: always a new environment, whose Init the
   * caller runs. Provisioning and pre-warming count environments, not lanes, and run Init on what they get.
   *
   * @return the environment, or null if the pool is retired
   */
  public PooledEnvironment createNew() {
    return create(false);
  }

  private PooledEnvironment create(boolean mayJoin) {
    if (retired) {
      return null;
    }
    int width = limits.maxConcurrencyPerEnvironment();
    EnvironmentLanes lanes = null;
    if (width > 1) {
      // Join a shared environment in Init if one has a lane to spare; else become one that others can join. Decided
      // under one lock (cold path only), so that a burst fills environments instead of making one per arrival.
      EnvironmentLanes joined = null;
      synchronized (initializing) {
        if (mayJoin) {
          for (EnvironmentLanes l : initializing) {
            if (l.claim()) {
              joined = l;
              break;
            }
          }
        }
        if (joined == null) {
          lanes = new EnvironmentLanes(width);
          initializing.add(lanes);
        }
      }
      if (joined != null) {
        PooledEnvironment lane = awaitLane(joined);
        if (lane != null) {
          busy.increment();
          return lane;
        }
        return create(true); // its Init failed, or others took its lanes: look again
      }
    }
    try {
      limits.memory().reserve(this, limits.memoryMb()); // may throttle; gives back in destroy or below
    } catch (RuntimeException e) {
      if (lanes != null) {
        closeInit(lanes);
      }
      throw e;
    }
    String id = Long.toString(IDS.incrementAndGet(), 36);
    EnvironmentOutput output = new EnvironmentOutput(functionLog, functionName, maxLogBytesPerInvocation, width > 1);
    LazyContext context = new LazyContext(id, logStreams.next(), tmpRoot, output);
    ExecutionEnvironment delegate;
    try {
      delegate = prepared.newEnvironment(context);
    } catch (RuntimeException | Error e) {
      limits.memory().release(limits.memoryMb());
      if (lanes != null) {
        closeInit(lanes);
      }
      throw e;
    }
    PooledEnvironment env = new PooledEnvironment(id, delegate, output, this, ticker.read(), lanes);
    env.context = context;
    busy.increment();
    all.add(env);
    if (retired) {
      // Retired while we were creating: the revision may be draining; never hand out an environment of it.
      if (env.lanes != null) {
        closeInit(env.lanes);
      }
      all.remove(env);
      busy.decrement();
      limits.memory().release(limits.memoryMb());
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
    if (env.broken || !env.initialized || retired || !env.delegate().isReusable() || env.discardOnRelease
        || (env.lanes != null && env.lanes.broken)) {
      if (env.lanes != null && (env.broken || !env.initialized || !env.delegate().isReusable())) {
        env.lanes.broken = true; // the lanes share one runtime environment: none of them is used again
        closeInit(env.lanes); // Init failed: invocations waiting to join go and find their own
      }
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
      if (evictable(env, now, keepAliveNanos)) {
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
      if (env != null && evictable(env, now, keepAliveNanos) && hot.compareAndSet(i, env, null)) {
        destroy(env);
        evicted++;
      }
    }
    return evicted;
  }

  /**
   * Whether keep-alive shuts an idle environment down: past the keep-alive unless provisioned concurrency keeps it,
   * and at once if it was provisioned and is no longer wanted, or belongs to a broken shared environment.
   */
  private static boolean evictable(PooledEnvironment env, long now, long keepAliveNanos) {
    return env.discardOnRelease || (env.lanes != null && env.lanes.broken)
        || (!env.provisioned && now - env.lastUsedNanos >= keepAliveNanos);
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
    if (env.lanes != null && env.lanes.live.decrementAndGet() > 0) {
      all.remove(env); // other lanes still run in the shared environment; the last one shuts it down
      return;
    }
    limits.memory().release(limits.memoryMb());
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

  // ---- Concurrency and scaling: lanes, memory-budget eviction, provisioned environments ----

  /** Returns the function's side of the concurrency gate. */
  public dev.embla.faas.internal.concurrency.FunctionConcurrency concurrency() {
    return limits.concurrency();
  }

  /** Returns how many invocations one environment of this revision may run at once. */
  public int maxConcurrencyPerEnvironment() {
    return limits.maxConcurrencyPerEnvironment();
  }

  /**
   * Waits for the Init of a shared environment this invocation joined, then takes an idle lane (of it, or of another
   * environment); null if its Init failed and nothing is idle.
   */
  private PooledEnvironment awaitLane(EnvironmentLanes lanes) {
    // Bounded by the Init timeout, which the watchdog enforces on the invocation running Init.
    boolean interrupted = false;
    while (true) {
      try {
        lanes.opened.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    PooledEnvironment env = takeIdle();
    while (env != null && env.lanes != null && env.lanes.broken) {
      destroy(env);
      env = takeIdle();
    }
    return env;
  }

  /** Ends the joinable phase of a shared environment: no more claims, and waiters wake. */
  private void closeInit(EnvironmentLanes lanes) {
    if (initializing.remove(lanes)) {
      lanes.unclaimed.set(0);
      lanes.opened.countDown();
    }
  }

  /** Opens the other lanes of a shared environment whose Init just succeeded, as idle environments. */
  void openLanes(PooledEnvironment head) {
    EnvironmentLanes lanes = head.lanes;
    try {
      openLanes(head, lanes);
    } finally {
      closeInit(lanes);
    }
  }

  private void openLanes(PooledEnvironment head, EnvironmentLanes lanes) {
    long now = ticker.read();
    for (int i = 1; i < lanes.width; i++) {
      PooledEnvironment lane = new PooledEnvironment(head.id() + "." + i, head.delegate(), head.output(), this, now,
          lanes);
      lane.context = head.context;
      lane.initialized = true;
      lane.provisioned = head.provisioned;
      lanes.live.incrementAndGet();
      all.add(lane);
      watchdog.register(lane);
      idle.offerFirst(lane);
      if (retired && idle.remove(lane)) {
        destroy(lane);
      }
    }
  }

  /** Takes a given environment out of the idle set; returns false if it is not idle (an invocation owns it). */
  private boolean takeIdle(PooledEnvironment env) {
    if (idle.remove(env)) {
      return true;
    }
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      if (hot.get(i) == env && hot.compareAndSet(i, env, null)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns the least recently used idle environment that the memory budget may shut down (never a provisioned one),
   * or null.
   */
  public PooledEnvironment evictionCandidate() {
    PooledEnvironment oldest = null;
    Iterator<PooledEnvironment> it = idle.descendingIterator();
    while (it.hasNext()) {
      PooledEnvironment env = it.next();
      if (!env.provisioned) {
        oldest = env;
        break;
      }
    }
    for (int i = 0; i < STRIPES * PAD; i += PAD) {
      PooledEnvironment env = hot.get(i);
      if (env != null && !env.provisioned && (oldest == null || env.lastUsedNanos - oldest.lastUsedNanos < 0)) {
        oldest = env;
      }
    }
    return oldest;
  }

  /**
   * Shuts an idle environment down to free its memory, with the other idle lanes of its shared environment; returns
   * false if an invocation took it first.
   */
  public boolean evict(PooledEnvironment env) {
    if (!takeIdle(env)) {
      return false;
    }
    if (env.lanes != null) {
      env.lanes.broken = true; // the environment goes: its busy lanes finish, its idle ones go now
      for (PooledEnvironment other : all) {
        if (other != env && other.lanes == env.lanes && takeIdle(other)) {
          destroy(other);
        }
      }
    }
    destroy(env);
    return true;
  }

  /** Creates an environment for provisioned concurrency, owned by the caller, who runs its Init and releases it. */
  public PooledEnvironment createProvisioned() {
    PooledEnvironment env = createNew();
    if (env != null) {
      env.provisioned = true;
    }
    return env;
  }

  /** Returns how many environments provisioned concurrency keeps now (initialised or being initialised). */
  public int provisionedCount() {
    java.util.Set<Object> environments = new java.util.HashSet<>();
    for (PooledEnvironment env : all) {
      if (env.provisioned && !env.discardOnRelease && !env.broken) {
        environments.add(env.lanes == null ? env : env.lanes);
      }
    }
    return environments.size();
  }

  /** Returns how many invocations run now in provisioned environments. */
  public int provisionedInUse() {
    int n = 0;
    for (PooledEnvironment env : all) {
      if (env.provisioned && env.initialized && env.running()) {
        n++;
      }
    }
    return n;
  }

  /** Returns how many environments are alive (a shared environment counts once, whatever its lanes). */
  public int environmentCount() {
    if (limits.maxConcurrencyPerEnvironment() == 1) {
      return all.size();
    }
    java.util.Set<Object> environments = new java.util.HashSet<>();
    for (PooledEnvironment env : all) {
      environments.add(env.lanes == null ? env : env.lanes);
    }
    return environments.size();
  }

  /**
   * Retires {@code count} provisioned environments: idle ones shut down now, busy ones when their invocation ends.
   * Idle ones go first, so that scaling down never waits for, or interrupts, an invocation.
   */
  public void deprovision(int count) {
    java.util.Map<Object, List<PooledEnvironment>> byEnvironment = new java.util.LinkedHashMap<>();
    for (PooledEnvironment env : all) {
      if (env.provisioned && !env.discardOnRelease && !env.broken) {
        byEnvironment.computeIfAbsent(env.lanes == null ? env : env.lanes, k -> new ArrayList<>()).add(env);
      }
    }
    List<List<PooledEnvironment>> order = new ArrayList<>(byEnvironment.values());
    order.sort(java.util.Comparator.comparingInt(l -> l.stream().anyMatch(PooledEnvironment::running) ? 1 : 0));
    for (int i = 0; i < Math.min(count, order.size()); i++) {
      for (PooledEnvironment env : order.get(i)) {
        env.discardOnRelease = true; // a release from now on shuts it down
        if (takeIdle(env)) {
          destroy(env); // idle: now
        }
      }
    }
  }

  /** Makes every provisioned environment an ordinary one, subject to keep-alive again. */
  public void unprovisionAll() {
    for (PooledEnvironment env : all) {
      env.provisioned = false;
    }
  }

  /** The context given to a runtime; the private {@code /tmp} is made on first use, keeping cold starts cheap. */
  private static final class LazyContext implements EnvironmentContext {
    private final String id;
    private final LogStreamNames.Name logStreamName;
    private final Path tmpRoot;
    private final EnvironmentOutput output;
    private volatile Path tmp;
    private boolean tmpDeleted; // guarded by this

    LazyContext(String id, LogStreamNames.Name logStreamName, Path tmpRoot, EnvironmentOutput output) {
      this.id = id;
      this.logStreamName = logStreamName;
      this.tmpRoot = tmpRoot;
      this.output = output;
    }

    @Override
    public String environmentId() {
      return id;
    }

    @Override
    public String logStreamName() {
      return logStreamName.toString();
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
