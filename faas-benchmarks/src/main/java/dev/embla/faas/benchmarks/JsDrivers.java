package dev.embla.faas.benchmarks;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.internal.engine.LocalEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.Source;

/**
 * The {@link Drivers} measurements for the {@code nodejs} runtime: heap retained per idle warm JavaScript environment,
 * and how late the caller of a runaway JavaScript loop gets its timeout error. Run through {@code ./embla bench
 * footprint-js} and {@code ./embla bench deadline-js}, which start the JVM with the Graal compiler flags.
 */
final class JsDrivers {

  // Lambda's 10 s Init limit is meant for the function's own code; the first context of a JVM also loads GraalJS.
  private static final Duration INIT_TIMEOUT = Duration.ofSeconds(120);
  /** The longest {@code deadline-js} warms up for, waiting for the compilers to go quiet. */
  private static final Duration WARM_UP_LIMIT = Duration.ofMinutes(3);
  /** The fewest environments {@code footprint-js} measures over (see {@link #footprint}). */
  static final int MIN_FOOTPRINT = 500;

  private JsDrivers() {}

  /**
   * Heap retained per idle warm JS environment (context, runtime layer, the function's module and its pool entry),
   * beside a bare context on a shared engine that evaluated the same cached source: the floor any context costs.
   */
  static boolean footprint(int n) throws Exception {
    if (n < MIN_FOOTPRINT) {
      throw new Drivers.UsageException("footprint-js needs at least " + MIN_FOOTPRINT + " environments, was " + n
          + ": the first environments also carry a one-time cost of 10-19 MB, which over fewer of them is most of"
          + " the figure (200 read 171 KB each, 1,000 read 85-93 KB, the marginal cost is 59-77 KB)");
    }
    // What one environment holds, without the blank contexts kept ready for cold starts: their number moves with
    // demand while the driver takes its two heap readings, and they are a fixed cost, not a per-environment one.
    System.setProperty("embla.nodejs.blankContexts", "0");
    // Hundreds of idle 128 MB environments: a memory budget of declared sizes would stop this at a few.
    try (FaasEngine engine = FaasEngine.builder().environmentMemoryBudgetMb(1L << 40).build()) {
      LocalEngine local = (LocalEngine) engine;
      engine.createFunction(FunctionConfig.builder("js").runtime("nodejs").handler("index.handler")
              .initTimeout(INIT_TIMEOUT).build(),
          FunctionCode.fromDirectory(FunctionPackages.directoryOfResources("js", "index.js")));
      InvocationResult first = engine.invoke("js", JsBenchmark.PAYLOAD);
      if (first.isError()) {
        throw new IllegalStateException("js function does not work: " + first.payloadAsString());
      }
      local.prewarm("js", 20); // classes loaded and shapes settled before the baseline is taken
      double perEnv = heapPerNewEnvironment(local, n);

      double perBare; // measured beside the first n only, as before the marginal figure was added
      try (Engine shared = Engine.newBuilder("js").option("engine.WarnInterpreterOnly", "false").build()) {
        Source source = Source.newBuilder("js", "(function (exports, require, module, __filename, __dirname) { "
            + FunctionPackages.resource("js/index.js") + "\n})", "/var/task/index.js").cached(true).buildLiteral();
        List<Context> bare = new ArrayList<>(n);
        for (int i = 0; i < 20; i++) {
          bareContext(shared, source).close();
        }
        long bareBefore = Drivers.usedHeap();
        for (int i = 0; i < n; i++) {
          bare.add(bareContext(shared, source));
        }
        long bareAfter = Drivers.usedHeap();
        perBare = (bareAfter - bareBefore) / (double) n;
        bare.forEach(Context::close);
      }
      // The first n also carry a one-time cost (10-19 MB here: the engine's and GraalJS's tables growing, compiled
      // code), which is what makes a small n meaningless; n more, measured the same way, show the marginal figure.
      double marginal = heapPerNewEnvironment(local, n);
      System.out.printf(Locale.ROOT,
          "footprint-js: %d idle warm JavaScript environments: %.0f bytes (%.1f KB) of heap each (goal <= 128 KB);"
              + " a bare context on a shared engine that evaluated the same cached source: %.0f bytes (%.1f KB)%n"
              + "footprint-js: %d more beside them (the marginal cost, without the first ones' one-time cost):"
              + " %.0f bytes (%.1f KB) each%n",
          n, perEnv, perEnv / 1024, perBare, perBare / 1024, n, marginal, marginal / 1024);
      return perEnv <= 128 * 1024; // judged on the first figure, which includes the one-time cost
    }
  }

  /** Creates {@code n} idle environments of the function {@code js} and returns the heap they added, each. */
  private static double heapPerNewEnvironment(LocalEngine local, int n) throws InterruptedException {
    long before = Drivers.usedHeap();
    int made = local.prewarm("js", n);
    long after = Drivers.usedHeap();
    if (made != n) {
      throw new IllegalStateException("only " + made + " of " + n + " environments initialised");
    }
    return (after - before) / (double) n;
  }

  private static Context bareContext(Engine shared, Source source) {
    Context c = Context.newBuilder("js").engine(shared).build();
    c.eval(source);
    return c;
  }

  /** How late the caller of a runaway loop (inside try/catch) gets its timeout error. */
  static boolean deadline(int samples) {
    try (FaasEngine engine = FaasEngine.create()) {
      LocalEngine local = (LocalEngine) engine;
      Duration timeout = Duration.ofSeconds(1);
      engine.createFunction(FunctionConfig.builder("runaway").runtime("nodejs").handler("runaway.handler")
              .timeout(timeout).initTimeout(INIT_TIMEOUT).build(),
          FunctionCode.fromDirectory(FunctionPackages.directoryOfResources("js", "runaway.js")));
      // As in Drivers.deadline: the first timeout of a JVM is reported on its own, three untimed ones warm the path.
      long firstEver = -1;
      for (int i = 0; i < 3; i++) {
        local.prewarm("runaway", 1);
        long t0 = System.nanoTime();
        timeoutOf(engine.invoke("runaway", "\"x\""));
        if (i == 0) {
          firstEver = System.nanoTime() - t0 - timeout.toNanos();
        }
      }
      System.out.printf(Locale.ROOT, "deadline-js: the first timeout of this JVM returned %.3f ms after its deadline%n",
          Drivers.ms(firstEver));
      // More runaway calls, untimed, until the compilers are quiet: on a stock JDK they compile the Graal compiler
      // itself for the first minute or so, on the core the watchdog and the cancelled call would otherwise have.
      CompilerQuiet compilers = new CompilerQuiet();
      System.out.println(compilers.warmUntilQuiet(() -> {
        local.prewarm("runaway", 1);
        timeoutOf(engine.invoke("runaway", "\"x\""));
      }, WARM_UP_LIMIT).describe("deadline-js"));
      CompilerQuiet.Span measuring = compilers.startSpan();
      long[] noticed = new long[samples];
      long[] stopped = new long[samples];
      for (int i = 0; i < samples; i++) {
        local.prewarm("runaway", 1); // Init is not what is measured here
        long t0 = System.nanoTime();
        InvocationResult r = engine.invoke("runaway", "\"x\"");
        stopped[i] = System.nanoTime() - t0 - timeout.toNanos();
        timeoutOf(r);
        noticed[i] = local.watchdog().lastLatenessNanos();
      }
      System.out.printf(Locale.ROOT, "deadline-js: the compilers were busy %.1f%% of a core while it measured%n",
          100 * measuring.busyShare());
      Arrays.sort(noticed);
      Arrays.sort(stopped);
      System.out.printf(Locale.ROOT,
          "deadline-js: %d runaway JavaScript invocations (a loop inside try/catch) with a 1 s timeout%n"
              + "  deadline noticed after: p50 %.3f ms, p99 %.3f ms, max %.3f ms%n"
              + "  timeout error returned after the deadline: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms"
              + " (goal p99 <= 10 ms)%n  all, sorted (ms): %s%n",
          samples, Drivers.ms(Drivers.pct(noticed, 50)), Drivers.ms(Drivers.pct(noticed, 99)),
          Drivers.ms(noticed[samples - 1]), Drivers.ms(Drivers.pct(stopped, 50)),
          Drivers.ms(Drivers.pct(stopped, 90)), Drivers.ms(Drivers.pct(stopped, 99)), Drivers.ms(stopped[samples - 1]),
          LongStream.of(stopped).mapToObj(v -> String.format(Locale.ROOT, "%.1f", Drivers.ms(v)))
              .collect(Collectors.joining(" ")));
      return Drivers.pct(stopped, 99) <= 10_000_000;
    }
  }

  private static void timeoutOf(InvocationResult r) {
    FunctionError e = r.error().orElseThrow(() -> new IllegalStateException("runaway loop returned: " + r));
    if (e.kind() != FunctionError.Kind.TIMEOUT) {
      throw new IllegalStateException("expected a timeout, got " + e);
    }
  }
}
