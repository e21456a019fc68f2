package dev.embla.faas;

import dev.embla.faas.internal.async.AsyncSettings;
import dev.embla.faas.internal.concurrency.ConcurrencySettings;
import dev.embla.faas.internal.engine.EngineSettings;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.internal.invoke.AllocationBudget;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import dev.embla.faas.spi.source.EventSource;
import dev.embla.faas.spi.source.PullEventSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * An embedded Function-as-a-Service engine: AWS Lambda inside your JVM. It holds a registry of functions, runs them
 * on pooled, isolated execution environments with Lambda's lifecycle (Init, Invoke, Shutdown), and connects them to
 * event sources.
 *
 * <p>An engine performs best when you create a single instance and share it: its pools, caches and threads are per
 * engine. It is thread-safe. Close it to shut every environment down.
 *
 * <pre>{@code
 * try (FaasEngine engine = FaasEngine.create()) {
 *   engine.createFunction(
 *       FunctionConfig.builder("hello").runtime("java21").handler("com.acme.Hello::handle").build(),
 *       FunctionCode.fromZip(Path.of("hello.zip")));
 *   InvocationResult result = engine.invoke("hello", "{\"name\":\"Ada\"}");
 *   System.out.println(result.payloadAsString());
 * }
 * }</pre>
 *
 * @since 0.1
 */
public interface FaasEngine extends AutoCloseable {

  /** Returns an engine with the default settings. */
  static FaasEngine create() {
    return builder().build();
  }

  /** Returns a builder of an engine. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Registers a new function ({@code $LATEST}).
   *
   * @throws ResourceConflictException if a function of that name exists
   * @throws InvalidCodeException if the code package is unusable
   * @throws InvalidConfigurationException if the runtime is unknown or the handler does not match the code
   */
  FunctionInfo createFunction(FunctionConfig config, FunctionCode code);

  /**
   * Replaces a function's code. New invocations run the new code; environments of the old code finish their
   * invocation and are shut down.
   *
   * @throws FunctionNotFoundException if there is no such function
   * @throws InvalidCodeException if the code package is unusable
   */
  FunctionInfo updateFunctionCode(String functionName, FunctionCode code);

  /**
   * Replaces a function's configuration (the function is named by {@code config.name()}). New invocations run with
   * the new configuration; environments created under the old one finish their invocation and are shut down.
   *
   * @throws FunctionNotFoundException if there is no such function
   * @throws InvalidConfigurationException if the runtime is unknown or the handler does not match the code
   */
  FunctionInfo updateFunctionConfiguration(FunctionConfig config);

  /**
   * Returns a function's current description.
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  FunctionInfo getFunction(String functionName);

  /** Returns every function, ordered by name. */
  List<FunctionInfo> listFunctions();

  /**
   * Deletes a function with all its published versions and aliases: it takes no new invocations, and its
   * environments shut down once idle.
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  void deleteFunction(String functionName);

  // ---- versions and aliases ----

  /**
   * Publishes the function's {@code $LATEST} code and configuration as a new immutable version, numbered one past the
   * last version ever published ({@code "1"}, {@code "2"}, ...). The version keeps running that code and
   * configuration, in environments of its own, whatever later updates do to {@code $LATEST}. If neither code nor
   * configuration changed since the last published version, that version is returned and nothing is published, as in
   * Lambda.
   *
   * @return the published version ({@link FunctionInfo#version()} is its number)
   * @throws FunctionNotFoundException if there is no such function
   */
  default FunctionInfo publishVersion(String functionName) {
    return publishVersion(functionName, null);
  }

  /**
   * Publishes a version, like {@link #publishVersion(String)}, with a description of its own.
   *
   * @param description the version's description (at most 256 characters); null keeps the function's description
   * @throws FunctionNotFoundException if there is no such function
   * @throws InvalidConfigurationException if the description is too long
   */
  FunctionInfo publishVersion(String functionName, String description);

  /**
   * Returns {@code $LATEST} and then every published version of a function, in version order.
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  List<FunctionInfo> listVersionsByFunction(String functionName);

  /**
   * Returns the description of one version of a function: {@code qualifier} is {@code $LATEST}, a version number, or
   * an alias (which describes the version the alias points at).
   *
   * @throws FunctionNotFoundException if there is no such function, version or alias
   */
  FunctionInfo getFunction(String functionName, String qualifier);

  /**
   * Deletes one published version: it takes no new invocations, and its environments shut down once idle. Its code
   * is deleted when no other version uses it.
   *
   * @param qualifier a version number
   * @throws FunctionNotFoundException if there is no such function or version
   * @throws ResourceConflictException if an alias points at the version (the message names the alias)
   * @throws InvalidConfigurationException if the qualifier is {@code $LATEST} (delete the function instead) or not a
   *     version number
   */
  void deleteFunction(String functionName, String qualifier);

  /**
   * Creates an alias: a name (such as {@code live}) that invocations use as a qualifier ({@code name:live}) and that
   * points at a version, which can later be changed without changing the callers.
   *
   * @throws FunctionNotFoundException if there is no such function, or the version it points at does not exist
   * @throws ResourceConflictException if the function already has an alias of that name
   */
  AliasInfo createAlias(String functionName, AliasConfig alias);

  /**
   * Creates an alias that sends all its traffic to {@code functionVersion}.
   *
   * @see #createAlias(String, AliasConfig)
   */
  default AliasInfo createAlias(String functionName, String aliasName, String functionVersion) {
    return createAlias(functionName, AliasConfig.builder(aliasName).functionVersion(functionVersion).build());
  }

  /**
   * Replaces an alias's version, description and weights with those of {@code alias} (named by
   * {@code alias.name()}). New invocations go where the alias now points; invocations already running finish on the
   * version they started on.
   *
   * @throws FunctionNotFoundException if there is no such function or alias, or the version does not exist
   */
  AliasInfo updateAlias(String functionName, AliasConfig alias);

  /**
   * Returns an alias.
   *
   * @throws FunctionNotFoundException if there is no such function or alias
   */
  AliasInfo getAlias(String functionName, String aliasName);

  /**
   * Returns a function's aliases, ordered by name.
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  List<AliasInfo> listAliases(String functionName);

  /**
   * Deletes an alias. Invocations through it already running finish.
   *
   * @throws FunctionNotFoundException if there is no such function or alias
   */
  void deleteAlias(String functionName, String aliasName);

  /**
   * Invokes a function synchronously and waits for its result.
   *
   * @param functionRef {@code name}, {@code name:$LATEST}, {@code name:7} (a published version) or
   *     {@code name:live} (an alias)
   * @param payload the event as JSON bytes
   * @return the response, or the function's error in Lambda's shape ({@link InvocationResult#isError()}); a response
   *     over the engine's limit ({@link Builder#maxResponseBytes}) is a {@code Function.ResponseSizeTooLarge} error
   * @throws FunctionNotFoundException if the function or qualifier does not exist
   * @throws RequestTooLargeException if the payload is larger than the engine's limit
   * @throws InvalidRequestContentException if the payload is not JSON
   * @throws TooManyRequestsException if a concurrency limit or the environment memory budget has no room for it
   * @throws EngineClosedException if the engine is closing
   */
  InvocationResult invoke(String functionRef, byte[] payload);

  /**
   * Invokes a function synchronously with a JSON text payload.
   *
   * @see #invoke(String, byte[])
   */
  default InvocationResult invoke(String functionRef, String jsonPayload) {
    return invoke(functionRef, jsonPayload.getBytes(StandardCharsets.UTF_8));
  }

  // ---- asynchronous invocation (Lambda's InvocationType=Event) ----

  /**
   * Invokes a function asynchronously (Lambda's {@code InvocationType=Event}): checks the function and the payload,
   * writes the event to the engine's durable queue and returns at once. The event is delivered at least once, through
   * the same path as {@link #invoke}, retried and sent to destinations as the function's {@link EventInvokeConfig}
   * says. It survives a restart of the engine and a kill of the process if the queue's directory does (see
   * {@link Builder#asyncStoreDirectory}).
   *
   * @param functionRef {@code name} or {@code name:$LATEST}
   * @param payload the event as JSON bytes, at most 256 KB (see {@link Builder#maxAsyncPayloadBytes})
   * @return the receipt, with the request id the invocation will run under
   * @throws FunctionNotFoundException if the function or qualifier does not exist
   * @throws RequestTooLargeException if the payload is over the asynchronous limit
   * @throws InvalidRequestContentException if the payload is not JSON
   * @throws AsyncQueueFullException if the queue holds its maximum of events; nothing was accepted
   * @throws EngineClosedException if the engine is closing
   * @since 0.1
   */
  AsyncInvocation invokeAsync(String functionRef, byte[] payload);

  /**
   * Invokes a function asynchronously with a JSON text payload.
   *
   * @see #invokeAsync(String, byte[])
   * @since 0.1
   */
  default AsyncInvocation invokeAsync(String functionRef, String jsonPayload) {
    return invokeAsync(functionRef, jsonPayload.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Sets how a function's asynchronous invocations are retried and where their outcomes go, replacing any earlier
   * configuration (Lambda's {@code PutFunctionEventInvokeConfig}). It applies to events already queued from their
   * next attempt. A function registered after a restart should get its configuration again before events queued for
   * it finish; this may be called before the function is created, for that reason.
   *
   * @param functionName the function's name
   * @since 0.1
   */
  void putFunctionEventInvokeConfig(String functionName, EventInvokeConfig config);

  /**
   * Returns a function's asynchronous invocation configuration, if one was put; without one, Lambda's defaults apply
   * ({@link EventInvokeConfig#defaults()}).
   *
   * @since 0.1
   */
  java.util.Optional<EventInvokeConfig> getFunctionEventInvokeConfig(String functionName);

  // ---- end of asynchronous invocation ----

  /**
   * Connects an event source to a function. A {@link dev.embla.faas.spi.source.PushEventSource} is started at once; a
   * {@link PullEventSource} is polled by an event source mapping with {@link BatchOptions#defaults()}.
   *
   * @param source the source
   * @param functionRef the function to invoke, {@code name} or {@code name:qualifier}
   * @return the connection; closing it stops the source
   */
  EventSourceConnection connect(EventSource source, String functionRef);

  /**
   * Connects a pull source to a function with explicit batching options.
   *
   * @see #connect(EventSource, String)
   */
  EventSourceConnection connect(PullEventSource source, String functionRef, BatchOptions options);

  // ---- Concurrency and scaling: reserved and provisioned concurrency, metrics ----

  /**
   * Reserves concurrency for a function (Lambda's {@code PutFunctionConcurrency}): at most {@code reserved}
   * invocations of it run at once, and that many are guaranteed to it whatever other functions do. The engine's
   * unreserved concurrency (its {@linkplain Builder#concurrencyLimit limit} minus every reservation and the
   * provisioned concurrency of functions without one) never drops below the
   * {@linkplain Builder#unreservedConcurrencyFloor floor}. {@code 0} stops the function from running at all. Replaces
   * an earlier reservation; invocations already running finish.
   *
   * @param reserved 0 or more
   * @throws FunctionNotFoundException if there is no such function
   * @throws InvalidConfigurationException if {@code reserved} is negative, below the function's provisioned
   *     concurrency, or more than the engine can set aside (the message names the figures)
   */
  void putFunctionConcurrency(String functionName, int reserved);

  /**
   * Returns a function's reserved concurrency, or empty if it has none (Lambda's {@code GetFunctionConcurrency}).
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  OptionalInt getFunctionConcurrency(String functionName);

  /**
   * Removes a function's reserved concurrency: it then shares the unreserved concurrency (Lambda's
   * {@code DeleteFunctionConcurrency}).
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  void deleteFunctionConcurrency(String functionName);

  /**
   * Asks for {@code environments} execution environments of a function's {@code $LATEST} to be initialised ahead of
   * traffic and kept warm; see {@link #putProvisionedConcurrency(String, String, int)}.
   */
  default ProvisionedConcurrencyConfig putProvisionedConcurrency(String functionName, int environments) {
    return putProvisionedConcurrency(functionName, "$LATEST", environments);
  }

  /**
   * Asks for {@code environments} execution environments of a function to be initialised ahead of traffic and kept
   * warm (Lambda's {@code PutProvisionedConcurrencyConfig}). Returns at once, with status
   * {@link ProvisionedConcurrencyConfig.Status#IN_PROGRESS}; the environments are initialised in the background. Up
   * to {@code environments} concurrent invocations then never start cold. Provisioned environments are exempt from
   * keep-alive and from memory-budget eviction. Changing the figure takes effect without stopping invocations:
   * surplus environments shut down when idle, busy ones after their invocation. Provisioned concurrency counts
   * against the function's reserved concurrency, or, without one, is set aside from the unreserved concurrency.
   *
   * @param qualifier {@code $LATEST}, a published version number, or an alias (whose current version is provisioned;
   *     when the alias moves, the new version is provisioned and the old one's environments become ordinary ones)
   * @param environments 1 or more
   * @throws FunctionNotFoundException if there is no such function or qualifier
   * @throws InvalidConfigurationException if {@code environments} is below 1, above the function's reserved
   *     concurrency, or more than the engine can set aside (the message names the figures)
   */
  ProvisionedConcurrencyConfig putProvisionedConcurrency(String functionName, String qualifier, int environments);

  /** Returns the provisioned concurrency of a function's {@code $LATEST}, if it has one. */
  default Optional<ProvisionedConcurrencyConfig> getProvisionedConcurrency(String functionName) {
    return getProvisionedConcurrency(functionName, "$LATEST");
  }

  /**
   * Returns a function's provisioned concurrency and its status, if it has one (Lambda's
   * {@code GetProvisionedConcurrencyConfig}).
   *
   * @throws FunctionNotFoundException if there is no such function or qualifier
   */
  Optional<ProvisionedConcurrencyConfig> getProvisionedConcurrency(String functionName, String qualifier);

  /** Removes the provisioned concurrency of a function's {@code $LATEST}; see the qualified form. */
  default void deleteProvisionedConcurrency(String functionName) {
    deleteProvisionedConcurrency(functionName, "$LATEST");
  }

  /**
   * Removes a function's provisioned concurrency (Lambda's {@code DeleteProvisionedConcurrencyConfig}): its
   * environments become ordinary ones, subject to keep-alive.
   *
   * @throws FunctionNotFoundException if there is no such function or qualifier
   */
  void deleteProvisionedConcurrency(String functionName, String qualifier);

  /**
   * Returns a snapshot of a function's scaling figures.
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  FunctionMetrics getFunctionMetrics(String functionName);

  /**
   * Closes the engine: stops taking new work and event sources, lets in-flight invocations finish within the grace
   * period (then stops them), and shuts every environment down. Idempotent. Asynchronous events not delivered yet
   * stay in the durable queue for the next engine on the same directory; a summary is logged at WARN.
   */
  @Override
  void close();

  /**
   * Builds a {@link FaasEngine}. Each setter validates its argument and may be called once.
   */
  final class Builder {
    private Ticker ticker;
    private Clock clock;
    private Duration keepAlive;
    private Duration shutdownGracePeriod;
    private Integer maxPayloadBytes;
    private Integer maxResponseBytes;
    private Long maxZippedCodeBytes;
    private Long maxUnzippedCodeBytes;
    private Path workDirectory;
    private Long maxLogBytesPerInvocation;
    private KeepAlivePolicy keepAlivePolicy;
    private Double allocationBudgetFactor;
    private Integer concurrencyLimit;
    private Integer unreservedConcurrencyFloor;
    private Long environmentMemoryBudgetMb;
    private Double environmentMemoryBudgetShare;
    private Path asyncStoreDirectory;
    private Integer maxQueuedAsyncEvents;
    private Integer asyncDispatchers;
    private Boolean asyncSyncWrites;
    private Integer maxAsyncPayloadBytes;
    private Duration asyncRetryBackoffCap;
    private final List<RuntimeProvider> runtimes = new ArrayList<>();
    private final Set<String> warmUpRuntimes = new LinkedHashSet<>();

    private Builder() {}

    /** Sets the source of monotonic time for durations, deadlines and keep-alive. Default: {@link Ticker#system()}. */
    public Builder ticker(Ticker ticker) {
      requireUnset("ticker", this.ticker);
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** Sets the wall clock for schedules and timestamps. Default: {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      requireUnset("clock", this.clock);
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets how long an idle execution environment is kept warm before it is shut down: a shorthand for
     * {@code keepAlivePolicy(KeepAlivePolicies.fixed(keepAlive))}. Default: 10 minutes.
     */
    public Builder keepAlive(Duration keepAlive) {
      requireUnset("keepAlive", this.keepAlive);
      requireUnset("keepAlivePolicy", this.keepAlivePolicy);
      this.keepAlive = requirePositive("keepAlive", keepAlive);
      return this;
    }

    /**
     * Sets the policy that decides how long idle environments of each function are kept, and whether one is created
     * ahead of a predicted invocation. Default: {@link KeepAlivePolicies#fixed(Duration)} of 10 minutes, as Lambda.
     *
     * @see KeepAlivePolicies#adaptive()
     * @since 0.2
     */
    public Builder keepAlivePolicy(KeepAlivePolicy policy) {
      requireUnset("keepAlivePolicy", this.keepAlivePolicy);
      requireUnset("keepAlive", this.keepAlive);
      this.keepAlivePolicy = Objects.requireNonNull(policy, "keepAlivePolicy");
      return this;
    }

    /** Sets how long {@link FaasEngine#close()} lets in-flight invocations finish. Default: 30 seconds. */
    public Builder shutdownGracePeriod(Duration gracePeriod) {
      requireUnset("shutdownGracePeriod", this.shutdownGracePeriod);
      Objects.requireNonNull(gracePeriod, "shutdownGracePeriod");
      if (gracePeriod.isNegative()) {
        throw new IllegalArgumentException("shutdownGracePeriod must not be negative, was " + gracePeriod);
      }
      this.shutdownGracePeriod = gracePeriod;
      return this;
    }

    /** Sets the largest synchronous payload accepted, in bytes. Default: 6 MB, as in Lambda. */
    public Builder maxPayloadBytes(int bytes) {
      requireUnset("maxPayloadBytes", this.maxPayloadBytes);
      this.maxPayloadBytes = (int) requirePositive("maxPayloadBytes", bytes);
      return this;
    }

    /**
     * Sets the largest response a function may return, in bytes. A larger one is not returned: the invocation fails
     * with Lambda's {@code Function.ResponseSizeTooLarge} error ({@link FunctionError.Kind#RUNTIME}), and the
     * environment is kept. Asynchronous invocations get the same error, and retry it as any function error. Default:
     * 6 MB, as in Lambda.
     *
     * @since 0.1
     */
    public Builder maxResponseBytes(int bytes) {
      requireUnset("maxResponseBytes", this.maxResponseBytes);
      this.maxResponseBytes = (int) requirePositive("maxResponseBytes", bytes);
      return this;
    }

    /** Sets the largest code package accepted, zipped. Default: 50 MB, as in Lambda. */
    public Builder maxZippedCodeBytes(long bytes) {
      requireUnset("maxZippedCodeBytes", this.maxZippedCodeBytes);
      this.maxZippedCodeBytes = requirePositive("maxZippedCodeBytes", bytes);
      return this;
    }

    /** Sets the largest code package accepted, unzipped. Default: 250 MB, as in Lambda. */
    public Builder maxUnzippedCodeBytes(long bytes) {
      requireUnset("maxUnzippedCodeBytes", this.maxUnzippedCodeBytes);
      this.maxUnzippedCodeBytes = requirePositive("maxUnzippedCodeBytes", bytes);
      return this;
    }

    /**
     * Sets how much output (standard output, standard error, the function's logger) one invocation may log; the rest
     * is dropped with one warning, so that a function flooding its output cannot flood the host's logs. Default: 8 MB.
     */
    public Builder maxLogBytesPerInvocation(long bytes) {
      requireUnset("maxLogBytesPerInvocation", this.maxLogBytesPerInvocation);
      this.maxLogBytesPerInvocation = requirePositive("maxLogBytesPerInvocation", bytes);
      return this;
    }

    /**
     * Sets each invocation's allocation budget as a multiple of its function's memory size; 0 turns budgets off.
     * Default: 4, so a 128 MB function may allocate 512 MB per invocation.
     *
     * <p>The budget counts the bytes allocated on the heap by the thread running the invocation (garbage included)
     * from the start of the invocation; Init has a budget of its own, of the same size. The engine's watchdog samples
     * it every 10 ms, so an invocation may overshoot by what it allocates in that time. An invocation over budget is
     * stopped as a timeout is, its environment discarded, and the caller gets a {@link FunctionError.Kind#OUT_OF_MEMORY}
     * error ({@code Runtime.OutOfMemory}). Not counted: threads the function starts, and memory off the heap;
     * invocations that run on virtual threads cannot be measured by the JDK and have no budget. It is a guard against
     * runaway functions, not a hard cap on what a function retains: the README's "Limits" section says exactly what
     * holds.
     *
     * @param factor 0, or a positive finite number
     * @since 0.1
     */
    public Builder allocationBudgetFactor(double factor) {
      requireUnset("allocationBudgetFactor", this.allocationBudgetFactor);
      if (!(factor >= 0) || Double.isInfinite(factor)) {
        throw new IllegalArgumentException(
            "allocationBudgetFactor must be 0 (no budget) or a positive finite number, was " + factor);
      }
      this.allocationBudgetFactor = factor;
      return this;
    }

    /**
     * Sets how many invocations may run at once in the engine, over all functions (Lambda's account concurrency
     * limit). A synchronous invocation over it fails at once with {@link TooManyRequestsException}. Default: 1000.
     */
    public Builder concurrencyLimit(int limit) {
      requireUnset("concurrencyLimit", this.concurrencyLimit);
      this.concurrencyLimit = (int) requirePositive("concurrencyLimit", limit);
      return this;
    }

    /**
     * Sets how much concurrency reservations must leave to functions without one: reserved and provisioned
     * concurrency together may take at most {@code concurrencyLimit - floor}. Default: 100, as in Lambda, but at most
     * a tenth of the concurrency limit (at least 1), so that small limits still allow reservations.
     */
    public Builder unreservedConcurrencyFloor(int floor) {
      requireUnset("unreservedConcurrencyFloor", this.unreservedConcurrencyFloor);
      if (floor < 0) {
        throw new IllegalArgumentException("unreservedConcurrencyFloor must not be negative, was " + floor);
      }
      this.unreservedConcurrencyFloor = floor;
      return this;
    }

    /**
     * Sets the memory budget for execution environments, in megabytes: every live environment, busy or idle,
     * reserves its function's memory size from it. A cold start that does not fit first shuts down idle environments
     * of other functions, least recently used first, then is throttled. Default: half of the JVM's maximum heap.
     */
    public Builder environmentMemoryBudgetMb(long megabytes) {
      requireUnset("environmentMemoryBudget", this.environmentMemoryBudgetMb == null
          ? (Object) this.environmentMemoryBudgetShare : (Object) this.environmentMemoryBudgetMb);
      this.environmentMemoryBudgetMb = requirePositive("environmentMemoryBudgetMb", megabytes);
      return this;
    }

    /**
     * Sets the memory budget for execution environments as a share of the JVM's maximum heap
     * ({@link Runtime#maxMemory()}), greater than 0 and at most 1; see {@link #environmentMemoryBudgetMb}.
     * Default: 0.5.
     */
    public Builder environmentMemoryBudgetShare(double share) {
      requireUnset("environmentMemoryBudget", this.environmentMemoryBudgetMb == null
          ? (Object) this.environmentMemoryBudgetShare : (Object) this.environmentMemoryBudgetMb);
      if (!(share > 0 && share <= 1)) {
        throw new IllegalArgumentException("environmentMemoryBudgetShare must be in (0, 1], was " + share);
      }
      this.environmentMemoryBudgetShare = share;
      return this;
    }

    /**
     * Sets the directory where unpacked code and environments' {@code /tmp} directories live. Default: a new
     * temporary directory, deleted when the engine closes.
     */
    public Builder workDirectory(Path directory) {
      requireUnset("workDirectory", this.workDirectory);
      this.workDirectory = Objects.requireNonNull(directory, "workDirectory");
      return this;
    }

    // ---- asynchronous invocation ----

    /**
     * Sets the directory of the durable queue of asynchronous events (a RocksDB database). An engine built on a
     * directory that holds events from an earlier one delivers them. Default: {@code async-events} under the
     * {@link #workDirectory}; when that is the default temporary directory, events do not outlive the engine.
     */
    public Builder asyncStoreDirectory(Path directory) {
      requireUnset("asyncStoreDirectory", this.asyncStoreDirectory);
      this.asyncStoreDirectory = Objects.requireNonNull(directory, "asyncStoreDirectory");
      return this;
    }

    /**
     * Sets the most asynchronous events the queue holds (accepted and not finished, retries included); beyond it
     * {@link FaasEngine#invokeAsync} throws {@link AsyncQueueFullException}. Waiting events are also indexed in
     * memory, with their payload when it is at most 1 KB (larger payloads are read back from the store when the event
     * is dispatched), so this bounds the heap the queue uses. Default: 100,000.
     */
    public Builder maxQueuedAsyncEvents(int events) {
      requireUnset("maxQueuedAsyncEvents", this.maxQueuedAsyncEvents);
      this.maxQueuedAsyncEvents = (int) requirePositive("maxQueuedAsyncEvents", events);
      return this;
    }

    /** Sets how many threads deliver asynchronous events. Default: 2. */
    public Builder asyncDispatchers(int threads) {
      requireUnset("asyncDispatchers", this.asyncDispatchers);
      this.asyncDispatchers = (int) requirePositive("asyncDispatchers", threads);
      return this;
    }

    /**
     * Sets whether every write to the asynchronous queue is flushed to the disk (fsync) before it returns. Without
     * it (the default), an accepted event survives the process being killed but not a power loss or an operating
     * system crash; with it, it survives those too, at the cost of a disk flush per write.
     */
    public Builder asyncSyncWrites(boolean sync) {
      requireUnset("asyncSyncWrites", this.asyncSyncWrites);
      this.asyncSyncWrites = sync;
      return this;
    }

    /** Sets the largest asynchronous payload accepted, in bytes. Default: 256 KB, as in Lambda. */
    public Builder maxAsyncPayloadBytes(int bytes) {
      requireUnset("maxAsyncPayloadBytes", this.maxAsyncPayloadBytes);
      this.maxAsyncPayloadBytes = (int) requirePositive("maxAsyncPayloadBytes", bytes);
      return this;
    }

    /**
     * Sets the longest wait between two attempts of an asynchronous event. The first retry waits about 1 second and
     * each next one twice as long, up to this cap, each with jitter (between half and all of the step). Default:
     * 5 minutes.
     */
    public Builder asyncRetryBackoffCap(Duration cap) {
      requireUnset("asyncRetryBackoffCap", this.asyncRetryBackoffCap);
      this.asyncRetryBackoffCap = requirePositive("asyncRetryBackoffCap", cap);
      return this;
    }

    // ---- end of asynchronous invocation ----

    /**
     * Adds a runtime. Runtimes found through {@link java.util.ServiceLoader} and the built-in {@code java21} are added
     * without this; a runtime added here wins over one of the same name found otherwise.
     */
    public Builder addRuntime(RuntimeProvider runtime) {
      runtimes.add(Objects.requireNonNull(runtime, "runtime"));
      return this;
    }

    /**
     * Names a runtime to warm up when the engine is built, so that its first function does not pay for the language's
     * start: the first Python context of a process takes seconds (later ones tens of milliseconds). {@link #build()}
     * then returns once the runtime is warm. May be called once per runtime.
     *
     * @param runtime a runtime identifier, for example {@code python3}; {@link #build()} fails if no runtime has it
     * @since 0.1
     */
    public Builder warmUpRuntime(String runtime) {
      Objects.requireNonNull(runtime, "runtime");
      if (runtime.isBlank()) {
        throw new IllegalArgumentException("warmUpRuntime must name a runtime, was '" + runtime + "'");
      }
      if (!warmUpRuntimes.add(runtime)) {
        throw new IllegalStateException("warmUpRuntime was already set for " + runtime);
      }
      return this;
    }

    /**
     * Builds and starts the engine.
     *
     * @throws IllegalArgumentException if a runtime named by {@link #warmUpRuntime} is unknown, or if the unreserved
     *     concurrency floor is above the concurrency limit
     */
    public FaasEngine build() {
      return new LocalEngine(new EngineSettings(
          ticker == null ? Ticker.system() : ticker,
          clock == null ? Clock.systemUTC() : clock,
          keepAlive != null ? keepAlive
              : keepAlivePolicy instanceof dev.embla.faas.internal.keepalive.FixedKeepAlivePolicy f ? f.keepAlive()
              : Duration.ofMinutes(10),
          shutdownGracePeriod == null ? Duration.ofSeconds(30) : shutdownGracePeriod,
          maxPayloadBytes == null ? 6 * 1024 * 1024 : maxPayloadBytes,
          maxResponseBytes == null ? 6 * 1024 * 1024 : maxResponseBytes,
          maxZippedCodeBytes == null ? 50L * 1024 * 1024 : maxZippedCodeBytes,
          maxUnzippedCodeBytes == null ? 250L * 1024 * 1024 : maxUnzippedCodeBytes,
          workDirectory,
          List.copyOf(runtimes),
          maxLogBytesPerInvocation == null ? 8L * 1024 * 1024 : maxLogBytesPerInvocation,
          keepAlivePolicy(),
          allocationBudgetFactor == null ? AllocationBudget.DEFAULT_FACTOR : allocationBudgetFactor,
          Set.copyOf(warmUpRuntimes),
          ConcurrencySettings.of(concurrencyLimit, unreservedConcurrencyFloor, environmentMemoryBudgetMb,
              environmentMemoryBudgetShare),
          asyncSettings()));
    }

    private KeepAlivePolicy keepAlivePolicy() {
      if (keepAlivePolicy != null) {
        return keepAlivePolicy;
      }
      return KeepAlivePolicies.fixed(keepAlive == null ? Duration.ofMinutes(10) : keepAlive);
    }

    private AsyncSettings asyncSettings() {
      AsyncSettings d = AsyncSettings.defaults(asyncStoreDirectory);
      return new AsyncSettings(asyncStoreDirectory,
          maxQueuedAsyncEvents == null ? d.maxQueuedEvents() : maxQueuedAsyncEvents,
          asyncDispatchers == null ? d.dispatchers() : asyncDispatchers,
          asyncSyncWrites == null ? d.syncWrites() : asyncSyncWrites,
          maxAsyncPayloadBytes == null ? d.maxPayloadBytes() : maxAsyncPayloadBytes,
          d.backoffBase(),
          asyncRetryBackoffCap == null ? d.backoffCap() : asyncRetryBackoffCap);
    }

    private static void requireUnset(String name, Object current) {
      if (current != null) {
        throw new IllegalStateException(String.format(Locale.ROOT, "%s was already set to %s", name, current));
      }
    }

    private static Duration requirePositive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }

    private static long requirePositive(String name, long value) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive, was " + value);
      }
      return value;
    }
  }
}
