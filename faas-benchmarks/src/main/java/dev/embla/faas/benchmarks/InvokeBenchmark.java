package dev.embla.faas.benchmarks;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.benchmarks.functions.NoopHandler;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.FunctionLogger;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The engine's invocation path against a direct Java call of the same no-op handler, in one run.
 *
 * <ul>
 *   <li>{@code direct}: {@code handler.handle(input, context)} on an instance the benchmark holds.
 *   <li>{@code warmInvoke}: {@code engine.invoke("noop", "\"hi\"")} on a warm environment: payload check, qualifier
 *       resolution, pool acquire/release, request id, context, deadline arm/disarm, JSON in and out, REPORT figures.
 *   <li>{@code coldStart}: a new environment every call (class loader, class definition from cached transformed
 *       bytes, Init, first invoke, discard).
 *   <li>{@code throughput2Threads}: warm invokes from two caller threads.
 * </ul>
 * The log backend is slf4j-nop, so log formatting and I/O (the host's choice) are not in the figures.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class InvokeBenchmark {

  private FaasEngine engine;
  private LocalEngine local;
  private final byte[] payload = "\"hi\"".getBytes(StandardCharsets.UTF_8);
  private final NoopHandler handler = new NoopHandler();
  private final Context context = new DirectContext();

  /** Builds an engine, registers the no-op function and checks that it answers. */
  @Setup(Level.Trial)
  public void setUp() {
    engine = FaasEngine.create();
    local = (LocalEngine) engine;
    engine.createFunction(
        FunctionConfig.builder("noop").runtime("java21").handler(NoopHandler.class.getName()).build(),
        FunctionCode.fromDirectory(FunctionPackages.directoryOf(NoopHandler.class)));
    InvocationResult first = engine.invoke("noop", payload);
    if (first.isError() || !first.payloadAsString().equals("\"hi\"")) {
      throw new IllegalStateException("noop function does not work: " + first);
    }
  }

  /** Closes the engine. */
  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
  }

  /** The baseline: the same handler called directly. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public String direct() {
    return handler.handle("hi", context);
  }

  /** A synchronous invoke on a warm environment. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public InvocationResult warmInvoke() {
    return engine.invoke("noop", payload);
  }

  /** An invoke in a new environment, discarded afterwards. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public InvocationResult coldStart() {
    return local.invokeCold("noop", payload);
  }

  /** Warm invokes from two caller threads. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(2)
  public InvocationResult throughput2Threads() {
    return engine.invoke("noop", payload);
  }

  /** Direct calls from two threads, the throughput baseline. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(2)
  public String throughput2ThreadsDirect() {
    return handler.handle("hi", context);
  }

  /** The context the direct call gets: as cheap as a context can be. */
  static final class DirectContext implements Context {
    @Override public String getAwsRequestId() { return "direct"; }
    @Override public String getFunctionName() { return "noop"; }
    @Override public String getFunctionVersion() { return "$LATEST"; }
    @Override public String getInvokedFunctionArn() { return "arn:embla:lambda:local:000000000000:function:noop"; }
    @Override public int getMemoryLimitInMB() { return 128; }
    @Override public int getRemainingTimeInMillis() { return 3000; }
    @Override public FunctionLogger getLogger() { return m -> { }; }
  }
}
