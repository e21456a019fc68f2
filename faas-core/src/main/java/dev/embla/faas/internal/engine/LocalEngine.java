package dev.embla.faas.internal.engine;

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import dev.embla.faas.AliasConfig;
import dev.embla.faas.AliasInfo;
import dev.embla.faas.AsyncInvocation;
import dev.embla.faas.BatchOptions;
import dev.embla.faas.EngineClosedException;
import dev.embla.faas.EventInvokeConfig;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionInfo;
import dev.embla.faas.FunctionMetrics;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.ProvisionedConcurrencyConfig;
import dev.embla.faas.RequestTooLargeException;
import dev.embla.faas.internal.async.AsyncInvocations;
import dev.embla.faas.internal.async.AsyncShutdownReport;
import dev.embla.faas.internal.async.AsyncTarget;
import dev.embla.faas.internal.concurrency.ConcurrencyControl;
import dev.embla.faas.internal.concurrency.MemoryBudget;
import dev.embla.faas.internal.concurrency.Provisioning;
import dev.embla.faas.internal.invoke.AllocationBudget;
import dev.embla.faas.internal.invoke.Invoker;
import dev.embla.faas.internal.invoke.PayloadCheck;
import dev.embla.faas.internal.keepalive.KeepAliveController;
import dev.embla.faas.internal.pool.EnvironmentPool;
import dev.embla.faas.internal.pool.LogStreamNames;
import dev.embla.faas.internal.pool.PoolLimits;
import dev.embla.faas.internal.pool.Watchdog;
import dev.embla.faas.internal.registry.CodeStore;
import dev.embla.faas.internal.registry.FunctionRegistry;
import dev.embla.faas.internal.registry.FunctionVersion;
import dev.embla.faas.internal.registry.StoredCode;
import dev.embla.faas.internal.router.EventRouter;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import dev.embla.faas.spi.source.EventSource;
import dev.embla.faas.spi.source.PullEventSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind {@link FaasEngine}: one registry, one watchdog, one maintenance thread, one event router.
 */
public final class LocalEngine implements FaasEngine {

  private static final Logger LOG = LoggerFactory.getLogger(LocalEngine.class);
  /** Function loggers are named {@code embla.function.<name>}, so hosts can route function logs as a group. */
  public static final String FUNCTION_LOGGER_PREFIX = "embla.function.";
  private static final Duration SHUTDOWN_BOUND = Duration.ofSeconds(2);

  private final EngineSettings settings;
  private final Path workDirectory;
  private final boolean ownsWorkDirectory;
  private final Map<String, RuntimeProvider> runtimes;
  private final CodeStore codeStore;
  private final FunctionRegistry registry;
  private final Watchdog watchdog;
  private final ExecutorService shutdownExecutor;
  private final ScheduledExecutorService maintenance;
  private final Invoker invoker;
  private final EventRouter eventSources;
  private final AsyncInvocations async;
  private final Set<EnvironmentPool> retiredPools = ConcurrentHashMap.newKeySet();
  private final ConcurrencyControl concurrency;
  private final MemoryBudget memoryBudget;
  private final Provisioning provisioning;
  private final AtomicInteger inFlight = new AtomicInteger();
  // ---- keep-alive (see internal.keepalive) ----
  private final KeepAliveController keepAlive;
  private final long maintenancePeriodMillis;
  // Written and read only by the one thread that runs close().
  private boolean closeInterrupted;
  private volatile boolean backgroundMaintenancePaused;
  private volatile boolean closed;

  /** Creates and starts an engine. */
  public LocalEngine(EngineSettings settings) {
    this.settings = settings;
    this.runtimes = discoverRuntimes(settings.runtimes());
    warmUp(runtimes, settings.warmUpRuntimes());
    try {
      if (settings.workDirectory() == null) {
        this.workDirectory = Files.createTempDirectory("embla-");
        this.ownsWorkDirectory = true;
      } else {
        this.workDirectory = Files.createDirectories(settings.workDirectory());
        this.ownsWorkDirectory = false;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the engine's work directory", e);
    }
    this.codeStore = new CodeStore(workDirectory.resolve("code"), settings.maxZippedCodeBytes(),
        settings.maxUnzippedCodeBytes());
    this.watchdog = new Watchdog(settings.ticker());
    this.shutdownExecutor = Executors.newThreadPerTaskExecutor(
        Thread.ofVirtual().name("embla-shutdown-", 0).factory());
    // The first virtual thread of a JVM starts the virtual-thread scheduler (a few milliseconds). Without this, the
    // first discarded environment, typically a timeout's, would pay for it on the caller's clock.
    shutdownExecutor.execute(() -> { });
    this.registry = new FunctionRegistry(codeStore, this::newVersion, this::retire);
    this.concurrency = new ConcurrencyControl(settings.concurrency());
    FunctionRegistry functions = registry;
    this.memoryBudget = new MemoryBudget(settings.concurrency().memoryBudgetMb(),
        () -> functions.revisions().stream().map(FunctionVersion::pool).toList());
    this.invoker = new Invoker(registry, settings.ticker(), settings.maxPayloadBytes(), settings.maxResponseBytes(),
        new AllocationBudget(settings.allocationBudgetFactor()));
    this.provisioning = new Provisioning(registry, concurrency, invoker::initEnvironment, settings.clock());
    this.eventSources = new EventRouter(settings.clock(), new dev.embla.faas.internal.router.Invoker() {
      @Override
      public InvocationResult invoke(String functionRef, byte[] payload) {
        return LocalEngine.this.invoke(functionRef, payload);
      }

      @Override
      public void recursionStopped(String functionName, int events) {
        recordRecursionStops(functionName, events);
      }
    });
    this.keepAlive = new KeepAliveController(settings.keepAlivePolicy());
    this.async = newAsyncQueue(settings);
    this.maintenance = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("embla-maintenance").factory());
    long period = Math.max(10, Math.min(1000, settings.keepAlive().toMillis() / 4));
    this.maintenancePeriodMillis = period;
    maintenance.scheduleWithFixedDelay(this::runMaintenanceSafely, period, period, TimeUnit.MILLISECONDS);
    LOG.debug("engine started in {} with runtimes {}", workDirectory, runtimes.keySet());
  }

  private static Map<String, RuntimeProvider> discoverRuntimes(List<RuntimeProvider> explicit) {
    Map<String, RuntimeProvider> byName = new LinkedHashMap<>();
    for (RuntimeProvider p : BuiltInRuntimes.all()) {
      p.runtimes().forEach(r -> byName.put(r, p));
    }
    for (RuntimeProvider p : ServiceLoader.load(RuntimeProvider.class, LocalEngine.class.getClassLoader())) {
      LOG.debug("runtime provider {} found through ServiceLoader for {}", p.getClass().getName(), p.runtimes());
      p.runtimes().forEach(r -> byName.put(r, p));
    }
    for (RuntimeProvider p : explicit) {
      p.runtimes().forEach(r -> byName.put(r, p));
    }
    return Map.copyOf(byName);
  }

  // Before anything the engine owns exists, so that an unknown name leaves nothing behind.
  private static void warmUp(Map<String, RuntimeProvider> runtimes, Set<String> names) {
    for (String name : names) {
      RuntimeProvider p = runtimes.get(name);
      if (p == null) {
        throw new IllegalArgumentException("warmUpRuntime must be one of " + new TreeSet<>(runtimes.keySet())
            + ", was '" + name + "'");
      }
      long t0 = System.nanoTime();
      p.warmUp();
      LOG.debug("runtime {} warmed up in {} ms", name, (System.nanoTime() - t0) / 1_000_000);
    }
  }

  // ---- registry ----

  @Override
  public FunctionInfo createFunction(FunctionConfig config, FunctionCode code) {
    checkOpen();
    requireRuntime(config);
    return registry.create(config, code).info();
  }

  @Override
  public FunctionInfo updateFunctionCode(String functionName, FunctionCode code) {
    checkOpen();
    registry.get(functionName);
    return registry.updateCode(functionName, code).info();
  }

  @Override
  public FunctionInfo updateFunctionConfiguration(FunctionConfig config) {
    checkOpen();
    requireRuntime(config);
    return registry.updateConfiguration(config).info();
  }

  @Override
  public FunctionInfo getFunction(String functionName) {
    checkOpen();
    return registry.get(functionName).info();
  }

  @Override
  public List<FunctionInfo> listFunctions() {
    checkOpen();
    return registry.list().stream().map(FunctionVersion::info).toList();
  }

  @Override
  public void deleteFunction(String functionName) {
    checkOpen();
    FunctionVersion deleted = registry.find(functionName);
    registry.delete(functionName);
    if (deleted != null) { // its reserved and provisioned concurrency go with it, as in Lambda
      provisioning.remove(functionName);
      concurrency.remove(deleted.pool().concurrency());
    }
    async.functionDeleted(functionName);
  }

  // ---- versions and aliases ----

  @Override
  public FunctionInfo publishVersion(String functionName, String description) {
    checkOpen();
    return registry.publishVersion(functionName, description).info();
  }

  @Override
  public List<FunctionInfo> listVersionsByFunction(String functionName) {
    checkOpen();
    return registry.listVersions(functionName).stream().map(FunctionVersion::info).toList();
  }

  @Override
  public FunctionInfo getFunction(String functionName, String qualifier) {
    checkOpen();
    return registry.resolve(functionName, qualifier).info();
  }

  @Override
  public void deleteFunction(String functionName, String qualifier) {
    checkOpen();
    registry.deleteVersion(functionName, qualifier);
    provisioning.forget(functionName, qualifier);
  }

  @Override
  public AliasInfo createAlias(String functionName, AliasConfig alias) {
    checkOpen();
    return registry.createAlias(functionName, alias);
  }

  @Override
  public AliasInfo updateAlias(String functionName, AliasConfig alias) {
    checkOpen();
    provisioning.checkAliasMove(functionName, alias.name(), alias.functionVersion());
    return registry.updateAlias(functionName, alias);
  }

  @Override
  public AliasInfo getAlias(String functionName, String aliasName) {
    checkOpen();
    return registry.getAlias(functionName, aliasName);
  }

  @Override
  public List<AliasInfo> listAliases(String functionName) {
    checkOpen();
    return registry.listAliases(functionName);
  }

  @Override
  public void deleteAlias(String functionName, String aliasName) {
    checkOpen();
    registry.deleteAlias(functionName, aliasName);
    provisioning.forget(functionName, aliasName);
  }

  private RuntimeProvider requireRuntime(FunctionConfig config) {
    RuntimeProvider provider = runtimes.get(config.runtime());
    if (provider == null) {
      throw new InvalidConfigurationException("runtime must be one of " + new TreeSet<>(runtimes.keySet())
          + ", was '" + config.runtime() + "'");
    }
    int supported = provider.maxConcurrencyPerEnvironment();
    if (config.maxConcurrencyPerEnvironment() > supported) {
      throw new InvalidConfigurationException(String.format(java.util.Locale.ROOT,
          "maxConcurrencyPerEnvironment of function '%s' must be at most %d for runtime '%s' (%s), was %d",
          config.name(), supported, config.runtime(),
          supported == 1 ? "it runs one invocation per environment" : "its limit", 
          config.maxConcurrencyPerEnvironment()));
    }
    return provider;
  }

  private FunctionVersion newVersion(FunctionConfig config, StoredCode code, String version) {
    RuntimeProvider provider = requireRuntime(config);
    FunctionDefinition definition = new FunctionDefinition(config.name(), version, config.runtime(),
        config.handler(), code.directory(), code.sha256(), config.memorySizeMb(), config.timeout(),
        functionEnvironment(config, code, version));
    PreparedFunction prepared;
    try {
      prepared = provider.prepare(definition);
    } catch (FunctionFailure f) {
      throw new InvalidConfigurationException("handler '" + config.handler() + "' of function '" + config.name()
          + "' cannot run: " + f.errorMessage(), f);
    }
    EnvironmentPool pool = new EnvironmentPool(config.name(), prepared, settings.ticker(),
        workDirectory.resolve("tmp"), LoggerFactory.getLogger(FUNCTION_LOGGER_PREFIX + config.name()), watchdog,
        shutdownExecutor, SHUTDOWN_BOUND, () -> codeStore.release(code), settings.maxLogBytesPerInvocation(),
        new PoolLimits(concurrency.function(config.name()), memoryBudget, config.memorySizeMb(),
            config.maxConcurrencyPerEnvironment()),
        new LogStreamNames(settings.clock(), version));
    return new FunctionVersion(config, code, definition, pool, settings.clock().instant());
  }

  /** The variables a function sees: its own plus Lambda's reserved ones; never the host's. */
  private static Map<String, String> functionEnvironment(FunctionConfig config, StoredCode code, String version) {
    Map<String, String> env = new LinkedHashMap<>(config.environment());
    env.put("AWS_LAMBDA_FUNCTION_NAME", config.name());
    env.put("AWS_LAMBDA_FUNCTION_VERSION", version);
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(config.memorySizeMb()));
    env.put("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + config.name());
    env.put("AWS_EXECUTION_ENV", "AWS_Lambda_" + config.runtime());
    env.put("AWS_REGION", "local");
    env.put("AWS_DEFAULT_REGION", "local");
    env.put("_HANDLER", config.handler());
    env.put("LAMBDA_TASK_ROOT", code.directory().toString());
    env.put("TZ", ":UTC");
    return env;
  }

  private void retire(FunctionVersion version) {
    EnvironmentPool pool = version.pool();
    pool.retire();
    if (pool.size() > 0) {
      retiredPools.add(pool);
    }
    provisioning.revisionReplaced(version.config().name());
  }

  // ---- invoke ----

  @Override
  public InvocationResult invoke(String functionRef, byte[] payload) {
    // No in-flight counter on the hot path: close() waits on the pools' busy counts, which cover every invocation
    // from the moment it owns an environment. One that checked 'closed' just before close() began finds its function
    // gone, and learns why here.
    if (closed) {
      throw new EngineClosedException("engine is closed; cannot invoke '" + functionRef + "'");
    }
    try {
      return invoker.invoke(functionRef, payload);
    } catch (FunctionNotFoundException e) {
      if (closed) {
        throw new EngineClosedException("engine is closed; cannot invoke '" + functionRef + "'");
      }
      throw e;
    }
  }

  /**
   * Invokes in a new environment that is discarded afterwards: every call is a cold start. For benchmarks and tests.
   */
  public InvocationResult invokeCold(String functionRef, byte[] payload) {
    inFlight.incrementAndGet();
    try {
      checkOpen();
      return invoker.invoke(functionRef, payload, true);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  /** Creates and initialises {@code count} idle environments of a function; returns how many initialised. */
  public int prewarm(String functionRef, int count) {
    inFlight.incrementAndGet();
    try {
      checkOpen();
      return invoker.prewarm(functionRef, count);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  // ---- Concurrency and scaling: reserved and provisioned concurrency, metrics ----

  @Override
  public void putFunctionConcurrency(String functionName, int reserved) {
    checkOpen();
    registry.get(functionName);
    concurrency.putReserved(functionName, reserved);
  }

  @Override
  public OptionalInt getFunctionConcurrency(String functionName) {
    checkOpen();
    registry.get(functionName);
    return concurrency.reserved(functionName);
  }

  @Override
  public void deleteFunctionConcurrency(String functionName) {
    checkOpen();
    registry.get(functionName);
    concurrency.deleteReserved(functionName);
  }

  @Override
  public ProvisionedConcurrencyConfig putProvisionedConcurrency(String functionName, String qualifier,
      int environments) {
    checkOpen();
    return provisioning.put(functionName, qualifier, environments);
  }

  @Override
  public Optional<ProvisionedConcurrencyConfig> getProvisionedConcurrency(String functionName, String qualifier) {
    checkOpen();
    return provisioning.get(functionName, qualifier);
  }

  @Override
  public void deleteProvisionedConcurrency(String functionName, String qualifier) {
    checkOpen();
    provisioning.delete(functionName, qualifier);
  }

  @Override
  public FunctionMetrics getFunctionMetrics(String functionName) {
    checkOpen();
    EnvironmentPool latest = registry.get(functionName).pool();
    int running = 0;
    int environments = 0;
    int provisionedInUse = 0;
    // $LATEST, every published version, and revisions retired by an update that still finish their invocations
    List<EnvironmentPool> pools = new ArrayList<>(retiredPools);
    registry.revisions().forEach(v -> pools.add(v.pool()));
    for (EnvironmentPool pool : pools) {
      if (pool.functionName().equals(functionName)) {
        running += pool.busyCount();
        environments += pool.environmentCount();
        provisionedInUse += pool.provisionedInUse();
      }
    }
    return new FunctionMetrics(functionName, running, environments, provisioning.allocated(functionName),
        provisionedInUse, latest.concurrency().throttles(), latest.concurrency().coldStarts(),
        latest.concurrency().recursionStops());
  }

  /** Returns the directory holding unpacked code and environments' {@code /tmp}; for tests and diagnostics. */
  public Path workDirectory() {
    return workDirectory;
  }

  /** Returns the engine's environment memory budget; for tests and metrics. */
  public MemoryBudget memoryBudget() {
    return memoryBudget;
  }

  // ---- asynchronous invocation ----

  private AsyncInvocations newAsyncQueue(EngineSettings settings) {
    Path dir = settings.async().storeDirectory() != null ? settings.async().storeDirectory()
        : workDirectory.resolve("async-events");
    boolean durable = settings.async().storeDirectory() != null || !ownsWorkDirectory;
    return new AsyncInvocations(settings.async(), dir, durable, settings.clock(), new AsyncTarget() {
      @Override
      public InvocationResult invoke(String functionRef, byte[] payload, String requestId) {
        // Not LocalEngine.invoke: delivery goes on while close() lets in-flight work finish; the async queue stops
        // taking events itself, and an invocation after the registry is cleared fails as not found, then closed.
        try {
          return invoker.invoke(functionRef, payload, requestId);
        } catch (FunctionNotFoundException e) {
          if (closed) {
            throw new EngineClosedException("engine is closed; cannot invoke '" + functionRef + "'");
          }
          throw e;
        }
      }

      @Override
      public String functionArn(String functionRef) {
        String arn = registry.route(functionRef).invokedArn();
        // Lambda's destination records name the qualified ARN, $LATEST when the event named none
        return functionRef.indexOf(':') < 0 ? arn + ":" + FunctionVersion.LATEST : arn;
      }

      @Override
      public void recursionStopped(String functionName) {
        recordRecursionStops(functionName, 1);
      }
    });
  }

  /** Counts events recursive loop detection stopped before they reached a function, for its metrics. */
  private void recordRecursionStops(String functionName, int events) {
    try {
      registry.get(functionName).pool().concurrency().recordRecursionStops(events);
    } catch (FunctionNotFoundException e) {
      // deleted meanwhile: its metrics went with it
    }
  }

  @Override
  public AsyncInvocation invokeAsync(String functionRef, byte[] payload) {
    Objects.requireNonNull(functionRef, "functionRef");
    Objects.requireNonNull(payload, "payload");
    checkOpen();
    if (payload.length > async.maxPayloadBytes()) {
      throw new RequestTooLargeException(String.format(Locale.ROOT,
          "asynchronous payload of function '%s' is %d bytes, over the limit of %d bytes", functionRef,
          payload.length, async.maxPayloadBytes()));
    }
    registry.route(functionRef); // throws for an unknown function, version or alias
    PayloadCheck.requireJson(payload);
    return async.accept(functionRef, payload);
  }

  @Override
  public void putFunctionEventInvokeConfig(String functionName, EventInvokeConfig config) {
    Objects.requireNonNull(functionName, "functionName");
    Objects.requireNonNull(config, "config");
    checkOpen();
    async.putConfig(functionName, config);
  }

  @Override
  public Optional<EventInvokeConfig> getFunctionEventInvokeConfig(String functionName) {
    checkOpen();
    return async.config(functionName);
  }

  /** Returns the asynchronous queue; for tests and benchmarks. */
  public AsyncInvocations asyncQueue() {
    return async;
  }

  // ---- event sources ----

  @Override
  public EventSourceConnection connect(EventSource source, String functionRef) {
    return connect(source, functionRef, BatchOptions.defaults());
  }

  @Override
  public EventSourceConnection connect(PullEventSource source, String functionRef, BatchOptions options) {
    return connect((EventSource) source, functionRef, options);
  }

  private EventSourceConnection connect(EventSource source, String functionRef, BatchOptions options) {
    checkOpen();
    registry.route(functionRef); // an unknown function, version or alias fails now; the target is resolved per event
    return eventSources.connect(source, functionRef, options);
  }

  // ---- maintenance ----

  private void runMaintenanceSafely() {
    if (backgroundMaintenancePaused) {
      return;
    }
    try {
      // A pre-warm runs Init, which may take long (a Python context: seconds); never hold up the next pass for it.
      maintain(name -> Thread.ofVirtual().name("embla-prewarm").start(() -> prewarmOne(name)));
    } catch (RuntimeException e) {
      LOG.warn("engine maintenance failed", e);
    }
  }

  /**
   * Applies the keep-alive policy: shuts down idle environments it no longer keeps and pre-warms environments it
   * predicts will be needed (here, before returning). Called periodically, and by tests after moving the ticker.
   *
   * @return how many idle environments were shut down
   */
  public int runMaintenance() {
    return maintain(this::prewarmOne);
  }

  private int maintain(java.util.function.Consumer<String> prewarm) {
    List<KeepAliveController.Target> targets = new ArrayList<>();
    for (FunctionVersion v : registry.revisions()) {
      // each revision learns on its own: a published version and $LATEST are called by different callers
      String name = v.config().name();
      String ref = FunctionVersion.LATEST.equals(v.version()) ? name : name + ":" + v.version();
      targets.add(new KeepAliveController.Target(ref, v.pool()));
    }
    int evicted = keepAlive.maintain(targets, settings.ticker().read(), prewarm);
    retiredPools.removeIf(p -> p.size() == 0);
    concurrency.settle();
    provisioning.checkAll();
    return evicted;
  }

  private void prewarmOne(String functionName) {
    if (closed) {
      return;
    }
    try {
      invoker.prewarm(functionName, 1);
    } catch (FunctionNotFoundException e) {
      LOG.debug("function {} was deleted before its pre-warm", functionName);
    } catch (RuntimeException e) {
      LOG.warn("function {}: pre-warm failed", functionName, e);
    }
  }

  /**
   * Stops the background maintenance thread from running passes, for a driver that calls {@link #runMaintenance()}
   * itself on a fake clock and wants every pass at a time it chose.
   */
  public void pauseBackgroundMaintenance() {
    backgroundMaintenancePaused = true;
  }

  /** Returns how often the background thread runs a maintenance pass. */
  public Duration maintenancePeriod() {
    return Duration.ofMillis(maintenancePeriodMillis);
  }

  /** Returns the pool of a function's current revision; for tests and metrics. */
  public EnvironmentPool poolOf(String functionName) {
    return registry.get(functionName).pool();
  }

  /** Returns the pool of one version of a function ({@code $LATEST}, a number or an alias); for tests and metrics. */
  public EnvironmentPool poolOf(String functionName, String qualifier) {
    return registry.resolve(functionName, qualifier).pool();
  }

  /** Returns the engine's deadline watchdog; for benchmarks. */
  public Watchdog watchdog() {
    return watchdog;
  }

  /** Returns the pools of replaced revisions whose environments have not all shut down yet. */
  public Set<EnvironmentPool> retiredPools() {
    return Set.copyOf(retiredPools);
  }

  private int busyEnvironments() {
    int busy = 0;
    for (FunctionVersion v : registry.revisions()) {
      busy += v.pool().busyCount();
    }
    for (EnvironmentPool p : retiredPools) {
      busy += p.busyCount();
    }
    return busy;
  }

  private void checkOpen() {
    if (closed) {
      throw new EngineClosedException("engine is closed");
    }
  }

  // ---- close ----

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    // close() finishes its waits even on an interrupted thread, or it would delete files under running shutdown tasks;
    // the interrupt is remembered and set again on return.
    closeInterrupted = Thread.interrupted();
    // No keep-alive pass or pre-warm starts from here on; one already running is waited for below, before the pools.
    maintenance.shutdownNow();
    eventSources.close();
    provisioning.close();
    async.stopDispatching(); // asynchronous events not yet taken stay in the durable queue for the next start
    long graceEnd = System.nanoTime() + settings.shutdownGracePeriod().toNanos();
    while ((inFlight.get() > 0 || busyEnvironments() > 0 || async.inFlightCount() > 0)
        && System.nanoTime() - graceEnd < 0) {
      pauseWhileClosing();
    }
    List<EnvironmentPool> pools = new ArrayList<>(retiredPools);
    for (FunctionVersion v : registry.clear()) {
      pools.add(v.pool());
    }
    int cancelled = 0;
    for (EnvironmentPool pool : pools) {
      cancelled += pool.cancelRunning();
    }
    if (cancelled > 0) {
      LOG.warn("engine closed with {} invocation(s) still running after the grace period of {}; they were stopped",
          cancelled, settings.shutdownGracePeriod());
    }
    // Dispatchers whose invocation was just stopped return at once; their events stay stored, unchanged.
    AsyncShutdownReport asyncReport = async.close(SHUTDOWN_BOUND);
    LOG.debug("asynchronous queue closed: {}", asyncReport);
    for (EnvironmentPool pool : pools) {
      pool.retire();
    }
    // Shutdown phases are bounded (2 s each, run in parallel); wait for them, with a margin, before deleting files.
    Duration shutdownWait = SHUTDOWN_BOUND.plusSeconds(3);
    long shutdownEnd = System.nanoTime() + shutdownWait.toNanos();
    // A pre-warm the maintenance thread was running releases its environment into a retired pool, which shuts it down.
    awaitTerminationWhileClosing(maintenance, shutdownEnd);
    while (pools.stream().anyMatch(p -> p.size() > 0) && System.nanoTime() - shutdownEnd < 0) {
      pauseWhileClosing();
    }
    // A pool's size drops when an environment's Shutdown returns, but the same task then deletes its /tmp and, for the
    // last one, closes the revision and releases its code: deleting the work directory under it leaves it half gone.
    shutdownExecutor.shutdown();
    if (!awaitTerminationWhileClosing(shutdownExecutor, shutdownEnd)) {
      LOG.warn("engine closed with environment shutdowns still running after {}", shutdownWait);
    }
    watchdog.close();
    for (RuntimeProvider p : Set.copyOf(runtimes.values())) {
      try {
        p.close();
      } catch (RuntimeException e) {
        LOG.warn("runtime provider {} failed to close", p.getClass().getName(), e);
      }
    }
    if (ownsWorkDirectory) {
      try {
        MoreFiles.deleteRecursively(workDirectory, RecursiveDeleteOption.ALLOW_INSECURE);
      } catch (IOException e) {
        LOG.warn("could not delete the engine's work directory {}", workDirectory, e);
      }
    }
    if (closeInterrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Parks the closing thread for a millisecond; an interrupt is remembered for the end of close(), not obeyed. */
  private void pauseWhileClosing() {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    closeInterrupted |= Thread.interrupted();
  }

  /**
   * Waits until {@code executor} has terminated or {@code deadline} (a {@link System#nanoTime()} value) has passed,
   * through interrupts, which are remembered for the end of close(). Returns whether it terminated.
   */
  private boolean awaitTerminationWhileClosing(ExecutorService executor, long deadline) {
    while (true) {
      try {
        return executor.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        closeInterrupted = true;
        if (System.nanoTime() - deadline >= 0) {
          return executor.isTerminated();
        }
      }
    }
  }
}
