package dev.embla.faas.benchmarks;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.benchmarks.functions.NoopHandler;
import dev.embla.faas.benchmarks.functions.RunawayHandler;
import dev.embla.faas.internal.engine.LocalEngine;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Measurements that are not timings of a hot method, so not JMH benchmarks: memory held per idle warm environment,
 * and how promptly deadlines are noticed and runaway code stopped. Each prints its figures and fails (exit 1) when
 * the goal is missed, so the figure cannot be quietly weakened.
 *
 * <pre>
 *   java -cp faas-benchmarks/target/benchmarks.jar dev.embla.faas.benchmarks.Drivers footprint
 *   java -cp faas-benchmarks/target/benchmarks.jar dev.embla.faas.benchmarks.Drivers deadline
 *   ./embla bench footprint-js 1000      (the JS drivers need the launcher's Graal compiler flags)
 *   ./embla bench deadline-js 40
 * </pre>
 */
public final class Drivers {

  private Drivers() {}

  /**
   * Runs the driver named by {@code args[0]}: {@code footprint} or {@code deadline} (Java), {@code footprint-js} or
   * {@code deadline-js} (the nodejs runtime, {@link JsDrivers}), {@code burst [n] [java21|nodejs] [warm-up bursts] [measured bursts]},
   * {@code burst-floor [n] [warm-up bursts] [measured bursts]} ({@link ClassLoadingFloor}), or {@code async [events]
   * [producers]}; {@code args[1]}, if given, is the count. Burst and asynchronous throughput are not part of
   * {@code drivers}.
   */
  public static void main(String[] args) throws Exception {
    try {
      run(args);
    } catch (UsageException e) {
      System.err.println("drivers: " + e.getMessage());
      System.exit(2);
    }
  }

  /** A driver's arguments cannot give a meaningful figure: reported in one line, exit code 2, no stack trace. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  private static void run(String[] args) throws Exception {
    if (args.length > 0 && args[0].endsWith("-py")) System.exit(PyDrivers.run(args) ? 0 : 1); // python3 runtime
    String which = args.length == 0 || args[0].equals("drivers") ? "all" : args[0];
    boolean ok = true;
    if (which.equals("footprint") || which.equals("all")) {
      ok &= footprint(args.length > 1 ? Integer.parseInt(args[1]) : 5000);
    }
    if (which.equals("burst")) {
      String runtime = args.length > 2 ? args[2] : "java21";
      ok &= ConcurrencyDrivers.burst(args.length > 1 ? Integer.parseInt(args[1]) : 1000, runtime,
          args.length > 3 ? Integer.parseInt(args[3]) : runtime.equals("nodejs") ? 40 : 10,
          args.length > 4 ? Integer.parseInt(args[4]) : 5);
    }
    if (which.equals("burst-floor")) {
      ok &= ClassLoadingFloor.run(args.length > 1 ? Integer.parseInt(args[1]) : 1000,
          args.length > 2 ? Integer.parseInt(args[2]) : 10, args.length > 3 ? Integer.parseInt(args[3]) : 5);
    }
    if (which.equals("deadline") || which.equals("all")) {
      ok &= deadline(args.length > 1 && !which.equals("all") ? Integer.parseInt(args[1]) : 40);
    }
    if (which.equals("async")) {
      ok &= AsyncThroughput.run(args.length > 1 ? Integer.parseInt(args[1]) : 500_000,
          args.length > 2 ? Integer.parseInt(args[2]) : 1);
    }
    if (which.equals("footprint-js")) {
      ok &= JsDrivers.footprint(args.length > 1 ? Integer.parseInt(args[1]) : 1000);
    }
    if (which.equals("deadline-js")) {
      ok &= JsDrivers.deadline(args.length > 1 ? Integer.parseInt(args[1]) : 40);
    }
    System.exit(ok ? 0 : 1);
  }

  /** Memory per idle warm Java environment, beyond what a bare class loader defining the same class costs. */
  static boolean footprint(int n) throws Exception {
    // Thousands of idle 128 MB environments: a memory budget of declared sizes would stop this at a few.
    try (FaasEngine engine = FaasEngine.builder().environmentMemoryBudgetMb(1L << 40).build()) {
      LocalEngine local = (LocalEngine) engine;
      engine.createFunction(
          FunctionConfig.builder("noop").runtime("java21").handler(NoopHandler.class.getName()).build(),
          FunctionCode.fromDirectory(FunctionPackages.directoryOf(NoopHandler.class)));
      engine.invoke("noop", "\"warm-up\"");
      local.prewarm("noop", 100);
      long before = usedHeap();
      long metaBefore = metaspace();
      int made = local.prewarm("noop", n);
      long after = usedHeap();
      long metaAfter = metaspace();
      if (made != n) {
        throw new IllegalStateException("only " + made + " of " + n + " environments initialised");
      }
      double perEnv = (after - before) / (double) n;

      byte[] bytes;
      try (InputStream in = NoopHandler.class.getResourceAsStream("NoopHandler.class")) {
        bytes = in.readAllBytes();
      }
      List<Object> bare = new ArrayList<>(n);
      long bareBefore = usedHeap();
      for (int i = 0; i < n; i++) {
        bare.add(new BareLoader(bytes).instance());
      }
      long bareAfter = usedHeap();
      double perBare = (bareAfter - bareBefore) / (double) n;
      System.out.printf(Locale.ROOT,
          "footprint: %d idle warm environments: %.0f bytes each in all; a bare class loader defining and"
              + " instantiating the same handler: %.0f bytes; held by the engine beyond that: %.0f bytes (goal <= 16384)%n",
          n, perEnv, perBare, perEnv - perBare);
      System.out.printf(Locale.ROOT,
          "footprint: native class metadata (metaspace) per environment, the function's own class: %.0f bytes%n",
          (metaAfter - metaBefore) / (double) n);
      if (bare.size() != n) {
        throw new AssertionError();
      }
      return perEnv - perBare <= 16 * 1024;
    }
  }

  /** How late deadlines are noticed, and how late a runaway loop's caller gets its timeout error. */
  static boolean deadline(int samples) {
    try (FaasEngine engine = FaasEngine.create()) {
      LocalEngine local = (LocalEngine) engine;
      engine.createFunction(
          FunctionConfig.builder("runaway").runtime("java21").handler(RunawayHandler.class.getName() + "::handle")
              .timeout(Duration.ofSeconds(1)).build(),
          FunctionCode.fromDirectory(FunctionPackages.directoryOf(RunawayHandler.class)));
      // The first timeout of a fresh JVM also loads and initialises the classes of the timeout path; it is reported
      // on its own, and three untimed timeouts warm that path up, as JMH's warm-up iterations would.
      int warmup = 3;
      long firstEver = -1;
      long firstNoticed = -1;
      for (int i = 0; i < warmup; i++) {
        local.prewarm("runaway", 1);
        long t0 = System.nanoTime();
        engine.invoke("runaway", "\"x\"");
        if (i == 0) {
          firstEver = System.nanoTime() - t0 - Duration.ofSeconds(1).toNanos();
          firstNoticed = local.watchdog().lastLatenessNanos();
        }
      }
      System.out.printf(Locale.ROOT, "deadline: the first timeout of this JVM was noticed %.3f ms and returned %.3f ms"
          + " after its deadline%n", ms(firstNoticed), ms(firstEver));
      long[] noticed = new long[samples];
      long[] stopped = new long[samples];
      for (int i = 0; i < samples; i++) {
        local.prewarm("runaway", 1); // keep the timed call warm: Init is not what is measured here
        long t0 = System.nanoTime();
        InvocationResult r = engine.invoke("runaway", "\"x\"");
        long elapsed = System.nanoTime() - t0;
        FunctionError e = r.error().orElseThrow(() -> new IllegalStateException("runaway loop returned: " + r));
        if (e.kind() != FunctionError.Kind.TIMEOUT) {
          throw new IllegalStateException("expected a timeout, got " + e);
        }
        stopped[i] = elapsed - Duration.ofSeconds(1).toNanos();
        noticed[i] = local.watchdog().lastLatenessNanos();
      }
      Arrays.sort(noticed);
      Arrays.sort(stopped);
      System.out.printf(Locale.ROOT,
          "deadline: %d runaway invocations with a 1 s timeout%n"
              + "  deadline noticed after: p50 %.3f ms, p99 %.3f ms, max %.3f ms (goal p99 <= 1 ms)%n"
              + "  timeout error returned after the deadline: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms"
              + " (goal <= 10 ms)%n  all, sorted (ms): %s%n",
          samples, ms(pct(noticed, 50)), ms(pct(noticed, 99)), ms(noticed[samples - 1]),
          ms(pct(stopped, 50)), ms(pct(stopped, 90)), ms(pct(stopped, 99)), ms(stopped[samples - 1]),
          java.util.stream.LongStream.of(stopped).mapToObj(v -> String.format(Locale.ROOT, "%.1f", ms(v)))
              .collect(java.util.stream.Collectors.joining(" ")));
      return pct(noticed, 99) <= 1_000_000 && stopped[samples - 1] <= 10_000_000;
    }
  }

  static long pct(long[] sorted, int p) {
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }

  static double ms(long nanos) {
    return nanos / 1_000_000.0;
  }

  private static long metaspace() {
    return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getName().equals("Metaspace"))
        .mapToLong(p -> p.getUsage().getUsed()).sum();
  }

  static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** A class loader that defines one class from bytes, the floor of what any per-environment loader costs. */
  private static final class BareLoader extends ClassLoader {
    private final Class<?> type;

    BareLoader(byte[] bytes) {
      super(ClassLoader.getSystemClassLoader());
      this.type = defineClass(null, bytes, 0, bytes.length);
    }

    Object instance() throws ReflectiveOperationException {
      return type.getDeclaredConstructor().newInstance();
    }
  }
}
