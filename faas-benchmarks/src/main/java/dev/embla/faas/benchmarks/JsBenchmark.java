package dev.embla.faas.benchmarks;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.internal.engine.LocalEngine;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.Source;
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
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The {@code nodejs} runtime's invocation path against calls of the same JavaScript function made directly through the
 * polyglot API, in one run. The function is {@code js/index.js} in this jar's resources, the file that
 * {@code node/vm-bench.js} runs in Node.js for the reference figures.
 *
 * <ul>
 *   <li>{@code jsDirect}: {@code handler.execute(event, context)} on a {@link Value} the benchmark holds, with an
 *       event object parsed once: a host-to-guest call and the handler itself, nothing else.
 *   <li>{@code jsWarmInvoke}: {@code engine.invoke("js", payload)} on a warm environment: everything
 *       {@code InvokeBenchmark.warmInvoke} measures for Java, plus {@code JSON.parse} of the payload, Lambda's context
 *       object, awaiting the handler's promise and {@code JSON.stringify} of the result.
 *   <li>{@code jsColdStart}: a new environment every call: GraalJS context, the runtime layer, the function's module
 *       top level (Init), the first invoke, and the discard (context close), which is inline for a cold-start
 *       measurement.
 *   <li>{@code jsColdDirect}: the floor under {@code jsColdStart}: a bare context on a shared engine, the same cached
 *       source evaluated, one call, close.
 * </ul>
 * JMH's forks must run with the launcher's JVMCI flags ({@code ./embla bench JsBenchmark}), or GraalJS runs
 * interpreted; {@link #setUp} says so on stderr when it does. A twin for another guest language needs its own function
 * file and a different runtime, handler and wrapper in {@link #setUp}; the benchmark methods stay as they are.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
// Longer than InvokeBenchmark's 3 x 2 s: Truffle compiles the guest code and the runtime layer in the background, and
// on a 2-core machine that is busy the warm path was still not compiled after 6 s in a trial.
@Warmup(iterations = 10, time = 2)
@Measurement(iterations = 5, time = 2)
public class JsBenchmark {

  /** The event of every call; the function answers {@code {"greeting":"hello embla","n":42,"requestId":...}}. */
  static final String PAYLOAD = "{\"name\":\"embla\",\"n\":41}";

  // The same wrapper the nodejs runtime (and Node) puts around a CommonJS file.
  private static final String WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) { ";
  private static final String WRAPPER_TAIL = "\n})";

  private final CompilerQuiet compilers = new CompilerQuiet();
  private CompilerQuiet.Span iteration;

  private FaasEngine engine;
  private LocalEngine local;
  private final byte[] payload = PAYLOAD.getBytes(StandardCharsets.UTF_8);

  private Engine directEngine;
  private Source directSource;
  private Source coldCall;
  private Context direct;
  private Value handler;
  private Value event;
  private Value context;

  /**
   * Registers the function on the engine, checks its answer, prepares the direct call on its own context, and runs
   * this fork's benchmark until the compilers are quiet ({@link CompilerQuiet}).
   */
  @Setup(Level.Trial)
  public void setUp(BenchmarkParams params) {
    engine = FaasEngine.create();
    local = (LocalEngine) engine;
    // The first JS context of a JVM loads GraalJS: on a busy 2-core machine that took over Lambda's 10 s Init limit.
    engine.createFunction(FunctionConfig.builder("js").runtime("nodejs").handler("index.handler")
        .initTimeout(Duration.ofSeconds(120)).build(),
        FunctionCode.fromDirectory(FunctionPackages.directoryOfResources("js", "index.js")));
    InvocationResult first = engine.invoke("js", payload);
    if (first.isError() || !first.payloadAsString().startsWith("{\"greeting\":\"hello embla\",\"n\":42,")) {
      throw new IllegalStateException("js function does not work: " + first.payloadAsString());
    }

    directEngine = Engine.newBuilder("js").option("engine.WarnInterpreterOnly", "false").build();
    String runtime = directEngine.getImplementationName();
    if (runtime.toLowerCase(Locale.ROOT).contains("interpreted")) {
      System.err.println("JsBenchmark: GraalJS runs on the " + runtime + " runtime, not compiled: run it through"
          + " ./embla bench, which adds the JVMCI flags; these figures are not the optimizing runtime's");
    }
    directSource = Source.newBuilder("js", WRAPPER_HEAD + FunctionPackages.resource("js/index.js") + WRAPPER_TAIL,
        "/var/task/index.js").cached(true).buildLiteral();
    coldCall = Source.newBuilder("js", "(h, p) => h(JSON.parse(p), { awsRequestId: 'direct' })", "cold-call.js")
        .cached(true).buildLiteral();
    direct = Context.newBuilder("js").engine(directEngine).build();
    handler = load(direct);
    event = direct.eval("js", "JSON.parse").execute(PAYLOAD);
    context = direct.eval("js", "({ awsRequestId: 'direct', functionName: 'js', functionVersion: '$LATEST',"
        + " memoryLimitInMB: '128', invokedFunctionArn: 'arn:embla:lambda:local:000000000000:function:js',"
        + " getRemainingTimeInMillis: () => 3000 })");
    String answer = direct.eval("js", "(p) => { let r; p.then((v) => { r = JSON.stringify(v); }); return () => r; }")
        .execute(handler.execute(event, context)).execute().asString();
    if (!answer.equals("{\"greeting\":\"hello embla\",\"n\":42,\"requestId\":\"direct\"}")) {
      throw new IllegalStateException("direct call answered " + answer);
    }

    // Before JMH's own warm-up: this fork's benchmark until the compilers are quiet. On a stock JDK they compile the
    // Graal compiler itself for the first one to two minutes, and a fixed warm-up measured that on a slow hour.
    String benchmark = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
    Runnable step = switch (benchmark) {
      case "jsDirect" -> () -> handler.execute(event, context);
      case "jsWarmInvoke" -> () -> engine.invoke("js", payload);
      case "jsColdStart" -> () -> local.invokeCold("js", payload);
      case "jsColdDirect" -> this::jsColdDirect;
      default -> throw new IllegalStateException("no warm-up step for " + benchmark);
    };
    CompilerQuiet.Outcome warm = compilers.warmUntilQuiet(step, CompilerQuiet.LIMIT);
    System.out.println(warm.describe(benchmark));
  }

  /** Starts watching the compilers for {@link #reportCompilers}. */
  @Setup(Level.Iteration)
  public void markCompilers() {
    iteration = compilers.startSpan();
  }

  /** Prints how busy the compilers were during the iteration that just ended, so a busy one shows in the output. */
  @TearDown(Level.Iteration)
  public void reportCompilers() {
    System.out.printf(Locale.ROOT, "(compilers busy %.1f%% of a core during this iteration)%n",
        iteration.busyShare() * 100);
  }

  private Value load(Context c) {
    Value module = c.eval("js", "({ exports: {} })");
    c.eval(directSource).execute(module.getMember("exports"), null, module, "/var/task/index.js", "/var/task");
    return module.getMember("exports").getMember("handler");
  }

  /** Closes the engine and the direct call's context. */
  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    direct.close();
    directEngine.close();
  }

  /** The baseline: the same guest function called on a held {@link Value}, with a held event and context. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public Value jsDirect() {
    return handler.execute(event, context);
  }

  /** A synchronous invoke on a warm environment. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public InvocationResult jsWarmInvoke() {
    return engine.invoke("js", payload);
  }

  /** An invoke in a new environment, discarded afterwards. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public InvocationResult jsColdStart() {
    return local.invokeCold("js", payload);
  }

  /** The floor of a cold start: a bare context on a shared engine, the cached source, one call, close. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Value jsColdDirect() {
    try (Context c = Context.newBuilder("js").engine(directEngine).build()) {
      return c.eval(coldCall).execute(load(c), PAYLOAD); // the promise is not read: the context is closing
    }
  }
}
