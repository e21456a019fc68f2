package dev.embla.faas.benchmarks;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.benchmarks.functions.NoopHandler;
import dev.embla.faas.internal.concurrency.PermitPool;
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
 * The concurrency gate under contention (issue 4: "acquire-release of a warm environment under contention from 2
 * threads: no lock convoy, report p99").
 *
 * <ul>
 *   <li>{@code permitAcquireRelease2Threads}: the gate alone, the unreserved pool's acquire and release, from two
 *       threads.
 *   <li>{@code warmInvokeUnreserved2Threads} / {@code warmInvokeReserved2Threads}: a whole warm invoke of the no-op
 *       function from two threads, through the unreserved pool and through a reservation; compare with
 *       {@link InvokeBenchmark#throughput2Threads}.
 * </ul>
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ConcurrencyBenchmark {

  private final PermitPool permits = new PermitPool(1000);
  private final byte[] payload = "\"hi\"".getBytes(StandardCharsets.UTF_8);
  private FaasEngine engine;

  /** Builds an engine with an unreserved and a reserved copy of the no-op function. */
  @Setup(Level.Trial)
  public void setUp() {
    engine = FaasEngine.create();
    for (String name : new String[] {"noop", "reserved"}) {
      engine.createFunction(
          FunctionConfig.builder(name).runtime("java21").handler(NoopHandler.class.getName()).build(),
          FunctionCode.fromDirectory(FunctionPackages.directoryOf(NoopHandler.class)));
    }
    engine.putFunctionConcurrency("reserved", 10);
  }

  /** Closes the engine. */
  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
  }

  /** Takes and gives back a permit of a pool shared by both threads. */
  @Benchmark
  @Threads(2)
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public boolean permitAcquireRelease2Threads() {
    boolean ok = permits.tryAcquire();
    if (ok) {
      permits.release();
    }
    return ok;
  }

  /** A warm invoke through the unreserved pool, from two threads. */
  @Benchmark
  @Threads(2)
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public InvocationResult warmInvokeUnreserved2Threads() {
    return engine.invoke("noop", payload);
  }

  /** A warm invoke through a function's reservation, from two threads. */
  @Benchmark
  @Threads(2)
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public InvocationResult warmInvokeReserved2Threads() {
    return engine.invoke("reserved", payload);
  }
}
