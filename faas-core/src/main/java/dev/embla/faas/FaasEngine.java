package dev.embla.faas;

import dev.embla.faas.internal.async.AsyncSettings;
import dev.embla.faas.internal.engine.EngineSettings;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import dev.embla.faas.spi.source.EventSource;
import dev.embla.faas.spi.source.PullEventSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

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
   * Deletes a function: it takes no new invocations, and its environments shut down once idle.
   *
   * @throws FunctionNotFoundException if there is no such function
   */
  void deleteFunction(String functionName);

  /**
   * Invokes a function synchronously and waits for its result.
   *
   * @param functionRef {@code name} or {@code name:$LATEST}
   * @param payload the event as JSON bytes
   * @return the response, or the function's error in Lambda's shape ({@link InvocationResult#isError()})
   * @throws FunctionNotFoundException if the function or qualifier does not exist
   * @throws RequestTooLargeException if the payload is larger than the engine's limit
   * @throws InvalidRequestContentException if the payload is not JSON
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
    private Long maxZippedCodeBytes;
    private Long maxUnzippedCodeBytes;
    private Path workDirectory;
    private Long maxLogBytesPerInvocation;
    private Path asyncStoreDirectory;
    private Integer maxQueuedAsyncEvents;
    private Integer asyncDispatchers;
    private Boolean asyncSyncWrites;
    private Integer maxAsyncPayloadBytes;
    private Duration asyncRetryBackoffCap;
    private final List<RuntimeProvider> runtimes = new ArrayList<>();

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

    /** Sets how long an idle execution environment is kept warm before it is shut down. Default: 10 minutes. */
    public Builder keepAlive(Duration keepAlive) {
      requireUnset("keepAlive", this.keepAlive);
      this.keepAlive = requirePositive("keepAlive", keepAlive);
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

    /** Builds and starts the engine. */
    public FaasEngine build() {
      return new LocalEngine(new EngineSettings(
          ticker == null ? Ticker.system() : ticker,
          clock == null ? Clock.systemUTC() : clock,
          keepAlive == null ? Duration.ofMinutes(10) : keepAlive,
          shutdownGracePeriod == null ? Duration.ofSeconds(30) : shutdownGracePeriod,
          maxPayloadBytes == null ? 6 * 1024 * 1024 : maxPayloadBytes,
          maxZippedCodeBytes == null ? 50L * 1024 * 1024 : maxZippedCodeBytes,
          maxUnzippedCodeBytes == null ? 250L * 1024 * 1024 : maxUnzippedCodeBytes,
          workDirectory,
          List.copyOf(runtimes),
          maxLogBytesPerInvocation == null ? 8L * 1024 * 1024 : maxLogBytesPerInvocation,
          asyncSettings()));
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
