package dev.embla.faas.benchmarks;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.internal.engine.LocalEngine;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.Value;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The python3 runtime's invocation path against a direct call of the same guest function, in one run, on whatever
 * runtime the JVM was started with ({@code ./embla bench PyBenchmark} adds the Graal compiler flags).
 *
 * <ul>
 *   <li>{@code pyDirect}: the baseline, {@code handler.execute(event, context)} on a guest function {@link Value} the
 *       benchmark holds, in a context of its own (same GraalPy, its own engine); the event and context are guest
 *       values made once, so this is the host-to-guest call and the handler alone.
 *   <li>{@code pyWarmInvoke}: {@code engine.invoke("echo", payload)} on a warm environment: everything
 *       {@code InvokeBenchmark.warmInvoke} measures, plus the runtime layer's {@code json.loads} of the event, a
 *       Lambda context object, {@code json.dumps} of the result and the flush of the function's output streams.
 *   <li>{@code pyColdStart}: a new environment every call, after GraalPy's first start (warmed up at engine build):
 *       context, bootstrap, the handler module's import (Init), first invoke, then the discard (included). Back to
 *       back, so the blank contexts the runtime makes in the background run dry and some cold starts make their own.
 *   <li>{@code pyColdStartAfterPause}: the same, 250 ms (not measured) after the previous one, so a blank context is
 *       ready as it is for cold starts that are spread out.
 * </ul>
 * The log backend is slf4j-nop, so log formatting and I/O (the host's choice) are not in the figures.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PyBenchmark {

  private FaasEngine engine;
  private LocalEngine local;
  private final byte[] payload = PyDrivers.ECHO_PAYLOAD.getBytes(StandardCharsets.UTF_8);

  private Engine directEngine;
  private org.graalvm.polyglot.Context direct;
  private Value handler;
  private Value event;
  private Value context;

  /** Builds an engine with GraalPy warmed up, registers the echo function and checks both paths answer alike. */
  @Setup(Level.Trial)
  public void setUp() {
    engine = FaasEngine.builder().warmUpRuntime("python3").build();
    local = (LocalEngine) engine;
    PyDrivers.createPythonFunction(engine, "echo", PyDrivers.ECHO_SOURCE, 30);
    InvocationResult first = engine.invoke("echo", payload);
    if (first.isError() || !first.payloadAsString().equals(PyDrivers.ECHO_PAYLOAD)) {
      throw new IllegalStateException("echo function does not work: " + first);
    }

    directEngine = Engine.newBuilder("python").option("engine.WarnInterpreterOnly", "false").build();
    direct = org.graalvm.polyglot.Context.newBuilder("python").engine(directEngine).build();
    direct.eval("python", PyDrivers.ECHO_SOURCE);
    handler = direct.getBindings("python").getMember("handler");
    event = direct.eval("python", "import json\njson.loads('" + PyDrivers.ECHO_PAYLOAD + "')");
    context = direct.eval("python", "type('LambdaContext', (), {'aws_request_id': 'direct'})()");
    Value echoed = handler.execute(event, context);
    if (!echoed.hasHashEntries() || !echoed.getHashValue("hello").asString().equals("world")) {
      throw new IllegalStateException("direct call does not echo its event: " + echoed);
    }
  }

  /** Closes the engine and the direct call's context. */
  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    direct.close();
    directEngine.close();
  }

  /** The baseline: the same handler called directly on a held guest function. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public Value pyDirect() {
    return handler.execute(event, context);
  }

  /**
   * A synchronous invoke on a warm environment. Warmed up for 20 × 2 s: with its guest code on the environment's own
   * thread, GraalPy's compiled code for the call settled only after 15–17 iterations of 2 s on this 2-core machine.
   */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 20, time = 2)
  public InvocationResult pyWarmInvoke() {
    return engine.invoke("echo", payload);
  }

  /**
   * An invoke in a new environment, discarded afterwards; GraalPy itself started at engine build. Ten warm-up
   * iterations: the compiler is still speeding up Python's import machinery, which every new context runs, after
   * three (per-iteration p50 fell from 256 ms to 83 ms over a 3 + 5 iteration run, and settles at 60–70 ms).
   */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 10, time = 5)
  @Measurement(iterations = 5, time = 5)
  public InvocationResult pyColdStart() {
    return local.invokeCold("echo", payload);
  }

  /**
   * {@link #pyColdStart} as it comes after a pause of 250 ms (not measured): the cold start of traffic whose new
   * environments are spread out rather than back to back, where the blank contexts the runtime makes in the background
   * (BlankContexts) are ready. Back to back, as in {@link #pyColdStart}, the pool runs dry and some cold starts make
   * their own context.
   */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 10, time = 5)
  @Measurement(iterations = 10, time = 5)
  public InvocationResult pyColdStartAfterPause(Pause pause) {
    return local.invokeCold("echo", payload);
  }

  /** A pause before each invocation of the benchmark that takes it; JMH does not count it. */
  @State(Scope.Thread)
  public static class Pause {
    /** Sleeps 250 ms. */
    @Setup(Level.Invocation)
    public void pause() throws InterruptedException {
      Thread.sleep(250);
    }
  }
}
