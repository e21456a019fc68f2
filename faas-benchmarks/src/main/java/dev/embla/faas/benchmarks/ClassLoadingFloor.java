package dev.embla.faas.benchmarks;

import dev.embla.faas.benchmarks.functions.HoldHandler;
import dev.embla.faas.spi.RequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JVM's own floor under the Java burst ratio of issue 4: the burst of {@link ConcurrencyDrivers} with no engine
 * at all.
 *
 * <pre>
 *   ./embla bench burst-floor 1000            # 10 warm-up bursts, then 5 measured ones
 *   ./embla bench burst-floor N WARMUPS MEASURED
 * </pre>
 *
 * <p>Each cold start here is the least that any engine giving each environment a class loader of its own must do: a
 * new loader (parent: the application class loader, so no filtering), defining {@link HoldHandler} from its plain
 * bytes (not rewritten for the sandbox), initialising it, constructing it through reflection and calling it. There
 * is no pool, no limit, no watchdog, no metrics, no log line and no JSON. The shape is the burst driver's: N virtual
 * threads parked, all unparked at once; each one's latency runs from its call to the handler's entry, and its p99
 * over the measured bursts is set against the p99 of the same cold starts run one after another, both after a
 * warm-up that lasts until the compilers are quiet ({@link CompilerQuiet}).
 *
 * <p>A reference, not a goal: it says what ratio the JVM and the kernel leave on this machine for any design that
 * keeps Lambda's per-environment statics, so the driver always exits 0.
 */
final class ClassLoadingFloor {

  private ClassLoadingFloor() {}

  /**
   * One environment's class loader: defines the handler itself, everything else comes from the application. Classes of
   * the parent are kept in a map after their first lookup, as the engine's loader keeps them: without it, each cold
   * start walks every JDK class it links to through three loaders, and the floor would be slower than the engine.
   */
  private static final class EnvironmentLoader extends ClassLoader {
    private static final ConcurrentHashMap<String, Class<?>> PARENT_CLASSES = new ConcurrentHashMap<>();
    private final byte[] bytes;

    EnvironmentLoader(byte[] bytes) {
      super(ClassLoader.getSystemClassLoader());
      this.bytes = bytes;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (name.equals(HoldHandler.class.getName())) {
        Class<?> c = findLoadedClass(name);
        return c != null ? c : defineClass(name, bytes, 0, bytes.length);
      }
      Class<?> shared = PARENT_CLASSES.get(name);
      if (shared == null) {
        shared = getParent().loadClass(name);
        PARENT_CLASSES.putIfAbsent(name, shared);
      }
      return shared;
    }
  }

  /** The handler's class file as compiled, not rewritten for the sandbox. */
  static byte[] handlerBytes() throws IOException {
    try (InputStream in = HoldHandler.class.getResourceAsStream(HoldHandler.class.getSimpleName() + ".class")) {
      return in.readAllBytes();
    }
  }

  /** A bare cold start: a new loader defines and initialises the handler class, and reflection constructs it. */
  @SuppressWarnings("unchecked")
  static RequestHandler<Integer, long[]> coldStart(byte[] bytes) throws ReflectiveOperationException {
    Class<?> type = Class.forName(HoldHandler.class.getName(), true, new EnvironmentLoader(bytes));
    return (RequestHandler<Integer, long[]>) type.getConstructor().newInstance();
  }

  /** A bare cold start and one call: returns the handler's {@code [entered, left]} stamps. */
  private static long[] coldCall(byte[] bytes, int holdMillis) throws ReflectiveOperationException {
    return coldStart(bytes).handle(holdMillis, null);
  }

  static boolean run(int n, int warmups, int measured) throws Exception {
    byte[] bytes = handlerBytes();
    int steady = 5_000;
    CompilerQuiet compilers = new CompilerQuiet();
    for (int i = 0; i < steady; i++) {
      coldCall(bytes, 0);
    }
    System.out.println(compilers.warmUntilQuiet(() -> {
      try {
        coldCall(bytes, 0);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }, CompilerQuiet.LIMIT).describe("bare steady-state cold start"));
    // One pass to compile the measuring loop itself (its first run is an on-stack replacement of a new loop), then the
    // pass that counts.
    steadySample(bytes, new long[steady]);
    CompilerQuiet.Span steadySpan = compilers.startSpan();
    long[] cold = steadySample(bytes, new long[steady]);
    Arrays.sort(cold);
    long coldP99 = ConcurrencyDrivers.pct(cold, 99);
    System.out.printf(Locale.ROOT, "bare steady-state cold start (%d sequential, to the handler's entry): p50 %.1f us,"
        + " p99 %.1f us; compilers busy %.1f%% of a core meanwhile%n", steady, ConcurrencyDrivers.pct(cold, 50) / 1e3, coldP99 / 1e3,
        100 * steadySpan.busyShare());
    System.gc();

    int b = 0;
    for (; b < warmups; b++) {
      cycle(bytes, n, b, true, compilers);
    }
    int[] next = {b};
    System.out.println(compilers.warmUntilQuiet(() -> {
      try {
        cycle(bytes, n, next[0]++, true, compilers);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, CompilerQuiet.LIMIT).describe("bare bursts"));
    long[] all = new long[measured * n];
    long rampNanos = 0;
    for (int m = 0; m < measured; m++) {
      long[][] burst = cycle(bytes, n, next[0] + m, false, compilers);
      System.arraycopy(burst[0], 0, all, m * n, n);
      rampNanos += burst[1][0];
    }
    Arrays.sort(all);
    System.out.printf(Locale.ROOT, "bare burst: %d measured bursts of %d: %.0f new class loaders/s; from the call to"
            + " the handler's entry p50 %.1f us, p99 %.1f us; bare steady-state p99 %.1f us; ratio %.2f (reference:"
            + " the floor the JVM and the kernel leave for the burst goal's <= 2)%n", measured, n,
        measured * n / (rampNanos / 1e9), ConcurrencyDrivers.pct(all, 50) / 1e3, ConcurrencyDrivers.pct(all, 99) / 1e3, coldP99 / 1e3,
        ConcurrencyDrivers.pct(all, 99) / (double) coldP99);
    return true;
  }

  /** Sequential cold starts, each one's latency from the call to the handler's entry. */
  private static long[] steadySample(byte[] bytes, long[] into) throws ReflectiveOperationException {
    for (int i = 0; i < into.length; i++) {
      long t0 = System.nanoTime();
      into[i] = coldCall(bytes, 0)[0] - t0;
    }
    return into;
  }

  /** One burst; returns the sorted latencies and, as {@code [1][0]}, the ramp (release to the last handler entry). */
  private static long[][] cycle(byte[] bytes, int n, int b, boolean warmup, CompilerQuiet compilers) throws Exception {
    long[] called = new long[n];
    long[][] stamps = new long[n][];
    CompilerQuiet.Span span = compilers.startSpan();
    // Parked one by one and unparked all at once, as in the burst driver.
    long start = ConcurrencyDrivers.releaseAtOnce(n, k -> {
      long t0 = System.nanoTime();
      stamps[k] = coldCall(bytes, ConcurrencyDrivers.HOLD_MS);
      called[k] = t0;
    });
    long[] latency = new long[n];
    long lastEntry = 0;
    for (int k = 0; k < n; k++) {
      latency[k] = stamps[k][0] - called[k];
      lastEntry = Math.max(lastEntry, stamps[k][0]);
    }
    Arrays.sort(latency);
    long ramp = lastEntry - start;
    System.out.printf(Locale.ROOT, "%s bare burst %d: %d cold starts in %.1f ms: %.0f/s; from the call to the entry"
            + " p50 %.1f us, p99 %.1f us; compilers %.1f ms%n", warmup ? "warm-up" : "measured", b + 1, n, ramp / 1e6,
        n / (ramp / 1e9), ConcurrencyDrivers.pct(latency, 50) / 1e3, ConcurrencyDrivers.pct(latency, 99) / 1e3, span.compiledNanos() / 1e6);
    Thread.sleep(300);
    System.gc();
    return new long[][] {latency, {ramp}};
  }
}
