package dev.embla.faas.benchmarks;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.benchmarks.functions.HoldHandler;
import dev.embla.faas.benchmarks.functions.NoopHandler;
import dev.embla.faas.internal.engine.LocalEngine;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The burst measurement of issue 4: from 0 to N concurrent invocations of a Java function, each of which holds its
 * environment for {@link #HOLD_MS} ms so that all N need an environment of their own (N cold starts).
 *
 * <pre>
 *   ./embla bench burst 1000            # java21
 *   ./embla bench burst 200 nodejs      # the nodejs runtime
 * </pre>
 *
 * <p>Figures: new environments per second (N over the time from release to the N-th Init finished, taken as the time
 * until every invocation returned minus the hold), and the p99 of each invocation's latency minus the hold, against
 * the steady-state cold-start p99 of the same engine (sequential {@code invokeCold}). Goals: at least 10,000 new Java
 * environments per second (1,000 for JavaScript), and burst p99 at most twice the steady-state cold-start p99.
 */
final class ConcurrencyDrivers {

  /** How long each burst invocation holds its environment. */
  static final int HOLD_MS = 200;

  private ConcurrencyDrivers() {}

  static boolean burst(int n) throws Exception {
    return burst(n, "java21");
  }

  static boolean burst(int n, String runtime) throws Exception {
    boolean js = runtime.equals("nodejs");
    int goal = js ? 1_000 : 10_000;
    int steady = js ? 300 : 2_000;
    try (FaasEngine engine = FaasEngine.builder().concurrencyLimit(n + 10).environmentMemoryBudgetMb(1L << 40)
        .build()) {
      LocalEngine local = (LocalEngine) engine;
      if (js) {
        java.nio.file.Path code = java.nio.file.Files.createTempDirectory("embla-burst-js");
        java.nio.file.Files.writeString(code.resolve("noop.js"), "exports.handler = async (event) => event;");
        java.nio.file.Files.writeString(code.resolve("hold.js"),
            "exports.handler = (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms));");
        engine.createFunction(FunctionConfig.builder("noop").runtime("nodejs").handler("noop.handler").build(),
            FunctionCode.fromDirectory(code));
        engine.createFunction(FunctionConfig.builder("hold").runtime("nodejs").handler("hold.handler")
            .timeout(java.time.Duration.ofSeconds(60)).initTimeout(java.time.Duration.ofSeconds(60)).build(),
            FunctionCode.fromDirectory(code));
      } else {
        engine.createFunction(FunctionConfig.builder("noop").runtime("java21").handler(NoopHandler.class.getName())
            .build(), FunctionCode.fromDirectory(FunctionPackages.directoryOf(NoopHandler.class)));
        engine.createFunction(FunctionConfig.builder("hold").runtime("java21").handler(HoldHandler.class.getName())
            .build(), FunctionCode.fromDirectory(FunctionPackages.directoryOf(HoldHandler.class)));
      }
      // Steady state: sequential cold starts, warmed up first.
      for (int i = 0; i < steady; i++) {
        local.invokeCold("noop", "\"w\"".getBytes());
      }
      long[] cold = new long[steady];
      for (int i = 0; i < cold.length; i++) {
        long t0 = System.nanoTime();
        local.invokeCold("noop", "\"c\"".getBytes());
        cold[i] = System.nanoTime() - t0;
      }
      Arrays.sort(cold);
      long coldP99 = cold[cold.length * 99 / 100];

      long holdNanos = TimeUnit.MILLISECONDS.toNanos(HOLD_MS);
      ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
      CountDownLatch go = new CountDownLatch(1);
      Future<?>[] calls = new Future<?>[n];
      long[] latency = new long[n];
      for (int i = 0; i < n; i++) {
        int k = i;
        calls[i] = threads.submit(() -> {
          go.await();
          long t0 = System.nanoTime();
          InvocationResult r = engine.invoke("hold", Integer.toString(HOLD_MS));
          latency[k] = System.nanoTime() - t0 - holdNanos;
          if (r.isError()) {
            throw new IllegalStateException(r.payloadAsString());
          }
          return null;
        });
      }
      long start = System.nanoTime();
      go.countDown();
      for (Future<?> f : calls) {
        f.get(5, TimeUnit.MINUTES);
      }
      long elapsed = System.nanoTime() - start - holdNanos;
      threads.shutdown();
      long colds = engine.getFunctionMetrics("hold").coldStarts();
      Arrays.sort(latency);
      long burstP99 = latency[n * 99 / 100];
      double perSecond = colds / (elapsed / 1e9);
      System.out.printf(Locale.ROOT, "burst (%s): %d concurrent invocations, %d cold starts, %.0f new environments/s"
          + " (goal >= %d)%n", runtime, n, colds, perSecond, goal);
      System.out.printf(Locale.ROOT, "burst: invoke latency minus the %d ms hold: p50 %.1f us, p99 %.1f us;"
          + " steady-state cold start p99 %.1f us; ratio %.2f (goal <= 2)%n", HOLD_MS, latency[n / 2] / 1e3,
          burstP99 / 1e3, coldP99 / 1e3, burstP99 / (double) coldP99);
      return perSecond >= goal && burstP99 <= 2 * coldP99;
    }
  }
}
