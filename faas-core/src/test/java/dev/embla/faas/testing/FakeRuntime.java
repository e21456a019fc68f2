package dev.embla.faas.testing;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A runtime whose behaviour is chosen by the handler string, for testing the engine (pool, invoker, watchdog)
 * without a real language runtime. Handlers: {@code echo}, {@code throw}, {@code initfail}, {@code spin} (runs until
 * cancelled), {@code block} (waits on {@link #gate}), {@code badpayload}, {@code exit}, {@code broken} (throws a
 * non-function exception), {@code print}, {@code whoami} (returns its context's version and ARN, its
 * {@code AWS_LAMBDA_FUNCTION_VERSION}, memory and the text of its code's {@code index.txt}), {@code sized} (the
 * payload is a number N; returns a JSON string of exactly N bytes).
 */
public final class FakeRuntime implements RuntimeProvider {

  /** Every environment created, in order. */
  public final ConcurrentLinkedQueue<FakeEnvironment> environments = new ConcurrentLinkedQueue<>();
  /** Handlers {@code block} wait here until a test counts it down. */
  public volatile CountDownLatch gate = new CountDownLatch(0);
  /** Counts down when a {@code block} handler has started. */
  public volatile CountDownLatch started = new CountDownLatch(0);
  /** The Init of a {@code slowinit} handler waits here until a test counts it down. */
  public volatile CountDownLatch initGate = new CountDownLatch(0);
  /** Counts down when a {@code slowinit} handler's Init has started. */
  public volatile CountDownLatch initStarted = new CountDownLatch(0);
  /** The most invocations ever seen in one environment at once; must stay at most 1 unless the function allows more. */
  public final AtomicInteger maxConcurrentPerEnvironment = new AtomicInteger();
  /** Versions prepared. */
  public final AtomicInteger prepared = new AtomicInteger();
  /** Prepared versions closed. */
  public final AtomicInteger closed = new AtomicInteger();
  /** Closing a prepared version waits for this latch (open by default). */
  public volatile CountDownLatch closeGate = new CountDownLatch(0);
  /** Invocations running now, over all environments. */
  public final AtomicInteger activeInvocations = new AtomicInteger();
  /** The most invocations ever seen running at once, over all environments. */
  public final AtomicInteger maxActiveInvocations = new AtomicInteger();

  private final String name;
  private final int maxConcurrencyPerEnvironment;

  /** A runtime named {@code fake} whose environments take up to 64 invocations at once. */
  public FakeRuntime() {
    this("fake", 64);
  }

  /**
   * A runtime named {@code name} whose environments take up to {@code maxConcurrencyPerEnvironment} invocations at
   * once (1 behaves like a single-threaded JavaScript context).
   */
  public FakeRuntime(String name, int maxConcurrencyPerEnvironment) {
    this.name = name;
    this.maxConcurrencyPerEnvironment = maxConcurrencyPerEnvironment;
  }

  @Override
  public Set<String> runtimes() {
    return Set.of(name);
  }

  @Override
  public int maxConcurrencyPerEnvironment() {
    return maxConcurrencyPerEnvironment;
  }

  @Override
  public PreparedFunction prepare(FunctionDefinition definition) {
    if (definition.handler().equals("missing")) {
      throw new FunctionFailure(FunctionFailure.Kind.INIT, "Runtime.HandlerNotFound",
          "no handler named 'missing'", List.of(), null);
    }
    prepared.incrementAndGet();
    return new PreparedFunction() {
      @Override
      public ExecutionEnvironment newEnvironment(EnvironmentContext context) {
        FakeEnvironment env = new FakeEnvironment(definition, context);
        environments.add(env);
        return env;
      }

      @Override
      public void close() {
        try {
          if (!closeGate.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("close gate never opened");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        closed.incrementAndGet();
      }
    };
  }

  /** One fake environment, recording its lifecycle. */
  public final class FakeEnvironment implements ExecutionEnvironment {
    public final FunctionDefinition definition;
    public final EnvironmentContext context;
    public final AtomicInteger inits = new AtomicInteger();
    public final AtomicInteger invokes = new AtomicInteger();
    public final AtomicInteger shutdowns = new AtomicInteger();
    public final AtomicInteger cancels = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean cancelled;

    FakeEnvironment(FunctionDefinition definition, EnvironmentContext context) {
      this.definition = definition;
      this.context = context;
    }

    @Override
    public void init() {
      inits.incrementAndGet();
      if (definition.handler().equals("slowinit")) {
        CountDownLatch waitFor = initGate; // read before signalling, as the block handler reads its gate
        initStarted.countDown();
        try {
          if (!waitFor.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("slowinit: the test never opened the init gate");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (definition.handler().equals("initfail")) {
        throw new FunctionFailure(FunctionFailure.Kind.INIT, "java.lang.IllegalStateException", "init failed",
            List.of("demo.Init.<clinit>(Init.java:3)"), null);
      }
    }

    @Override
    public byte[] invoke(byte[] payload, Context ctx) {
      int now = active.incrementAndGet();
      maxConcurrentPerEnvironment.accumulateAndGet(now, Math::max);
      maxActiveInvocations.accumulateAndGet(activeInvocations.incrementAndGet(), Math::max);
      invokes.incrementAndGet();
      try {
        return run(payload, ctx);
      } finally {
        activeInvocations.decrementAndGet();
        active.decrementAndGet();
      }
    }

    private byte[] run(byte[] payload, Context ctx) {
      switch (definition.handler()) {
        case "echo":
          return payload;
        case "flood":
          for (int i = 0; i < 100; i++) {
            context.output().line(FunctionOutput.Stream.STDOUT, "x".repeat(100));
          }
          return payload;
        case "brief": {
          // Holds the environment for a few microseconds, so overlapping invocations would be seen.
          long end = System.nanoTime() + 5_000;
          while (System.nanoTime() < end) {
            Thread.onSpinWait();
          }
          return payload;
        }
        case "whoami": {
          // What a function can see of the version it runs in: context, environment and code.
          String code;
          try {
            code = java.nio.file.Files.readString(definition.codeDirectory().resolve("index.txt"));
          } catch (java.io.IOException e) {
            code = "?";
          }
          return ("{\"version\":\"" + ctx.getFunctionVersion() + "\",\"arn\":\"" + ctx.getInvokedFunctionArn()
              + "\",\"envVersion\":\"" + definition.environment().get("AWS_LAMBDA_FUNCTION_VERSION")
              + "\",\"memory\":" + ctx.getMemoryLimitInMB() + ",\"code\":\"" + code + "\"}")
              .getBytes(StandardCharsets.UTF_8);
        }
        case "sized": {
          int size = Integer.parseInt(new String(payload, StandardCharsets.US_ASCII).trim());
          byte[] response = new byte[size];
          java.util.Arrays.fill(response, (byte) 'x');
          response[0] = '"';
          response[size - 1] = '"';
          return response;
        }
        case "mdc":
          return ("\"" + org.slf4j.MDC.get("AWSRequestId") + "\"").getBytes(StandardCharsets.UTF_8);
        case "print":
          context.output().line(FunctionOutput.Stream.STDOUT, "hello from " + ctx.getAwsRequestId());
          return payload;
        case "throw":
          throw new FunctionFailure(FunctionFailure.Kind.HANDLER, "java.lang.IllegalArgumentException", "bad input",
              List.of("demo.Fn.handle(Fn.java:7)"), null);
        case "badpayload":
          throw new FunctionFailure(FunctionFailure.Kind.BAD_PAYLOAD, "Runtime.UnmarshalError",
              "cannot map payload to demo.Order", List.of(), null);
        case "exit":
          throw new FunctionFailure(FunctionFailure.Kind.EXIT, "java.lang.SecurityException",
              "System.exit(1) is not allowed in a function", List.of(), null);
        case "broken":
          throw new IllegalStateException("runtime bug");
        case "spin":
          while (!cancelled) {
            Thread.onSpinWait();
          }
          throw new IllegalStateException("cancelled");
        case "block":
          // The gate is read before 'started' is signalled: a test may swap in a new gate for later invocations as
          // soon as this one has started, and this one must still wait at the gate it started with.
          CountDownLatch myGate = gate;
          started.countDown();
          try {
            if (!myGate.await(30, TimeUnit.SECONDS)) {
              throw new IllegalStateException("gate never opened");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return payload;
        default:
          return ("\"" + definition.handler() + "\"").getBytes(StandardCharsets.UTF_8);
      }
    }

    @Override
    public void cancel() {
      cancels.incrementAndGet();
      cancelled = true;
    }

    @Override
    public void shutdown(Duration bound) {
      shutdowns.incrementAndGet();
    }
  }
}
