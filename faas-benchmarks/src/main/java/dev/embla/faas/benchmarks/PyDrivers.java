package dev.embla.faas.benchmarks;

import static dev.embla.faas.benchmarks.Drivers.ms;
import static dev.embla.faas.benchmarks.Drivers.pct;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.internal.engine.LocalEngine;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.graalvm.polyglot.Engine;

/**
 * The python3 runtime's measurements that are not timings of a hot method (issue 3): memory held per idle warm
 * environment, how late a runaway {@code while True: pass} gets its timeout error, and whether invocations on
 * pre-initialised environments ever see a cold start. Each prints its figures and exits 1 when the goal is
 * missed. Run through {@link Drivers} ({@code ./embla bench footprint-py|deadline-py|provisioned-py [n]}), which starts
 * the JVM with the Graal compiler flags; {@code deadline-py} on ZGC, since a stop-the-world young collection of what
 * Python cold starts leave alive outlasts the 10 ms a timeout may be late.
 */
final class PyDrivers {

  /** The handler every measurement but the runaway uses: it returns its event. */
  static final String ECHO_SOURCE = "def handler(event, context):\n    return event\n";
  /** The payload sent to it, in the form {@code json.dumps} gives back, so the round trip compares equal. */
  static final String ECHO_PAYLOAD = "{\"hello\": \"world\"}";

  private static final String RUNAWAY_SOURCE = "def handler(event, context):\n    while True:\n        pass\n";
  // Holds the invocation long enough that N callers started together overlap, so each needs an environment of its own.
  private static final String SLOW_SOURCE = "import time\n\ndef handler(event, context):\n    time.sleep(0.5)\n"
      + "    return event\n";
  private static final long FOOTPRINT_GOAL = 4L * 1024 * 1024;
  private static final long STOP_GOAL_NANOS = 10_000_000;

  private PyDrivers() {}

  /**
   * Runs the driver named by {@code args[0]}: {@code footprint-py}, {@code deadline-py}, {@code provisioned-py} or
   * {@code cancel-py}.
   */
  static boolean run(String[] args) throws Exception {
    int n = args.length > 1 ? Integer.parseInt(args[1]) : -1;
    return switch (args[0]) {
      case "footprint-py" -> footprint(n > 0 ? n : 50);
      case "deadline-py" -> deadline(n > 0 ? n : 40);
      case "provisioned-py" -> provisioned(n > 0 ? n : 8);
      case "cancel-py" -> bareCancel(n > 0 ? n : 60);
      default -> throw new IllegalArgumentException(
          "unknown driver '" + args[0] + "' (footprint-py, deadline-py, provisioned-py, cancel-py)");
    };
  }

  /**
   * Retained heap per idle warm Python environment: the GC'd heap delta over {@code n} environments initialised
   * ahead of traffic, after GraalPy's first start and a few environments (so the shared engine's caches are full).
   * For comparison, the same delta for bare GraalPy contexts on an engine of their own, without and with the modules
   * the runtime layer imports.
   */
  static boolean footprint(int n) throws Exception {
    // What one environment holds, without the blank contexts kept ready for cold starts: their number moves with
    // demand while the driver takes its two heap readings, and they are a fixed cost, not a per-environment one.
    System.setProperty("embla.python.blankContexts", "0");
    double perEnv;
    try (FaasEngine engine = FaasEngine.builder().warmUpRuntime("python3")
        .environmentMemoryBudgetMb(1L << 40).build()) {
      LocalEngine local = (LocalEngine) engine;
      createPythonFunction(engine, "echo", ECHO_SOURCE, 3);
      engine.invoke("echo", ECHO_PAYLOAD);
      local.prewarm("echo", 10);
      long before = usedHeap();
      long t0 = System.nanoTime();
      int made = local.prewarm("echo", n);
      long elapsed = System.nanoTime() - t0;
      long after = usedHeap();
      if (made != n) {
        throw new IllegalStateException("only " + made + " of " + n + " environments initialised");
      }
      perEnv = (after - before) / (double) n;
      System.out.printf(Locale.ROOT, "footprint-py: %d idle warm Python environments: %.0f KB of heap each"
          + " (goal <= %d KB); initialised in %.1f ms each%n", n, perEnv / 1024, FOOTPRINT_GOAL / 1024,
          elapsed / 1e6 / n);
    }
    try (Engine bare = Engine.newBuilder("python").option("engine.WarnInterpreterOnly", "false")
        .out(OutputStream.nullOutputStream()).err(OutputStream.nullOutputStream()).build()) {
      double plain = bareContexts(bare, n, "None");
      double imports = bareContexts(bare, n, "import importlib, json, logging, os, sys, time, traceback");
      System.out.printf(Locale.ROOT, "footprint-py: for comparison, a bare GraalPy context on a shared engine: %.0f KB;"
          + " one that has imported what the runtime layer imports: %.0f KB%n", plain / 1024, imports / 1024);
    }
    return perEnv <= FOOTPRINT_GOAL;
  }

  private static double bareContexts(Engine engine, int n, String code) throws InterruptedException {
    List<org.graalvm.polyglot.Context> warm = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      org.graalvm.polyglot.Context c = org.graalvm.polyglot.Context.newBuilder("python").engine(engine).build();
      c.eval("python", code);
      warm.add(c);
    }
    List<org.graalvm.polyglot.Context> held = new ArrayList<>(n);
    long before = usedHeap();
    for (int i = 0; i < n; i++) {
      org.graalvm.polyglot.Context c = org.graalvm.polyglot.Context.newBuilder("python").engine(engine).build();
      c.eval("python", code);
      held.add(c);
    }
    long after = usedHeap();
    held.forEach(org.graalvm.polyglot.Context::close);
    warm.forEach(org.graalvm.polyglot.Context::close);
    return (after - before) / (double) n;
  }

  /**
   * How late the caller of a runaway {@code while True: pass} gets its timeout error: the time from the deadline
   * (a 1 s timeout, Lambda's least) to the caller's return, over {@code samples} invocations, each in a fresh
   * environment initialised before the timed call (Init is not what is measured).
   */
  static boolean deadline(int samples) {
    Duration timeout = Duration.ofSeconds(1);
    try (FaasEngine engine = FaasEngine.builder().warmUpRuntime("python3")
        .environmentMemoryBudgetMb(1L << 40).build()) {
      LocalEngine local = (LocalEngine) engine;
      createPythonFunction(engine, "runaway", RUNAWAY_SOURCE, (int) timeout.toSeconds());
      long firstEver = -1;
      for (int i = 0; i < 3; i++) { // the first timeouts of a JVM load the timeout path: reported, not sampled
        local.prewarm("runaway", 1);
        long t0 = System.nanoTime();
        engine.invoke("runaway", "{}");
        if (i == 0) {
          firstEver = System.nanoTime() - t0 - timeout.toNanos();
        }
      }
      System.out.printf(Locale.ROOT, "deadline-py: the first Python timeout of this JVM returned %.3f ms after its"
          + " deadline%n", ms(firstEver));
      long[] noticed = new long[samples];
      long[] stopped = new long[samples];
      for (int i = 0; i < samples; i++) {
        local.prewarm("runaway", 1);
        long t0 = System.nanoTime();
        InvocationResult r = engine.invoke("runaway", "{}");
        long elapsed = System.nanoTime() - t0;
        FunctionError e = r.error().orElseThrow(() -> new IllegalStateException("runaway loop returned: " + r));
        if (e.kind() != FunctionError.Kind.TIMEOUT) {
          throw new IllegalStateException("expected a timeout, got " + e);
        }
        if (r.isColdStart()) {
          throw new IllegalStateException("the timed runaway call cold-started; the pre-warmed environment was lost");
        }
        stopped[i] = elapsed - timeout.toNanos();
        noticed[i] = local.watchdog().lastLatenessNanos();
      }
      String inOrder = LongStream.of(stopped).mapToObj(v -> String.format(Locale.ROOT, "%.1f", ms(v)))
          .collect(Collectors.joining(" "));
      Arrays.sort(noticed);
      Arrays.sort(stopped);
      System.out.printf(Locale.ROOT, "deadline-py: in the order taken (ms): %s%n", inOrder);
      System.out.printf(Locale.ROOT,
          "deadline-py: %d runaway 'while True: pass' invocations with a 1 s timeout%n"
              + "  deadline noticed after: p50 %.3f ms, p99 %.3f ms, max %.3f ms%n"
              + "  timeout error returned after the deadline: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms"
              + " (goal p99 <= 10 ms)%n  all, sorted (ms): %s%n",
          samples, ms(pct(noticed, 50)), ms(pct(noticed, 99)), ms(noticed[samples - 1]),
          ms(pct(stopped, 50)), ms(pct(stopped, 90)), ms(pct(stopped, 99)), ms(stopped[samples - 1]),
          LongStream.of(stopped).mapToObj(v -> String.format(Locale.ROOT, "%.1f", ms(v)))
              .collect(Collectors.joining(" ")));
      return pct(stopped, 99) <= STOP_GOAL_NANOS;
    }
  }

  /**
   * Provisioned-style environments: {@code n} environments of a function are initialised ahead of traffic, then
   * {@code n} callers started together each invoke once (the handler holds each call 0.5 s, so all overlap and each
   * needs an environment of its own). None may see a cold start. The same burst on a function with no environments
   * ready is the control: it must see cold starts, or the check could not fail.
   */
  static boolean provisioned(int n) throws Exception {
    try (FaasEngine engine = FaasEngine.builder().warmUpRuntime("python3")
        .environmentMemoryBudgetMb(1L << 40).build()) {
      createPythonFunction(engine, "provisioned", SLOW_SOURCE, 30);
      createPythonFunction(engine, "on-demand", SLOW_SOURCE, 30);
      long t0 = System.nanoTime();
      // Provisioned concurrency as a host asks for it; the environments are initialised in the background.
      engine.putProvisionedConcurrency("provisioned", n);
      while (engine.getProvisionedConcurrency("provisioned").orElseThrow().status()
          != dev.embla.faas.ProvisionedConcurrencyConfig.Status.READY) {
        if (engine.getProvisionedConcurrency("provisioned").orElseThrow().status()
            == dev.embla.faas.ProvisionedConcurrencyConfig.Status.FAILED) {
          throw new IllegalStateException("provisioning failed: "
              + engine.getProvisionedConcurrency("provisioned").orElseThrow().statusReason());
        }
        Thread.sleep(5);
      }
      long prewarmNanos = System.nanoTime() - t0;
      Burst ready = burst(engine, "provisioned", n);
      Burst control = burst(engine, "on-demand", n);
      System.out.printf(Locale.ROOT,
          "provisioned-py: %d environments initialised ahead of traffic in %.0f ms (%.1f ms each)%n"
              + "  %d concurrent invocations on them: %d cold starts, latency beyond the handler's 500 ms: max %.1f ms%n"
              + "  control, the same burst with no environment ready: %d cold starts, latency beyond 500 ms:"
              + " max %.1f ms%n",
          n, prewarmNanos / 1e6, prewarmNanos / 1e6 / n, n, ready.coldStarts, ms(ready.maxNanos - 500_000_000L),
          control.coldStarts, ms(control.maxNanos - 500_000_000L));
      if (control.coldStarts == 0) {
        throw new IllegalStateException("the control burst saw no cold start: the check cannot tell anything apart");
      }
      return ready.coldStarts == 0 && ready.errors == 0 && control.errors == 0;
    }
  }

  private record Burst(int coldStarts, int errors, long maxNanos) {}

  private static Burst burst(FaasEngine engine, String function, int n) throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    InvocationResult[] results = new InvocationResult[n];
    long[] nanos = new long[n];
    List<Thread> callers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      callers.add(Thread.ofPlatform().name("py-caller-" + i).start(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        long t0 = System.nanoTime();
        results[k] = engine.invoke(function, ECHO_PAYLOAD);
        nanos[k] = System.nanoTime() - t0;
      }));
    }
    start.countDown();
    for (Thread t : callers) {
      t.join();
    }
    int cold = 0;
    int errors = 0;
    for (InvocationResult r : results) {
      if (r == null || r.isError()) {
        System.out.println("provisioned-py: " + function + " failed: " + r);
        errors++;
      } else if (r.isColdStart()) {
        cold++;
      }
    }
    return new Burst(cold, errors, LongStream.of(nanos).max().orElse(0));
  }

  /** Registers a python3 function {@code app.handler} whose {@code app.py} is {@code source}. */
  static void createPythonFunction(FaasEngine engine, String name, String source, int timeoutSeconds) {
    try {
      Path dir = FunctionPackages.temporaryDirectory("embla-bench-py-");
      Files.writeString(dir.resolve("app.py"), source);
      engine.createFunction(FunctionConfig.builder(name).runtime("python3").handler("app.handler")
          .timeout(Duration.ofSeconds(timeoutSeconds)).initTimeout(Duration.ofSeconds(60)).build(),
          FunctionCode.fromDirectory(dir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /**
   * GraalPy's own cancellation, without the engine: a bare context on a shared engine runs {@code while True: pass} on
   * a platform thread, and after 300 ms another thread calls {@code Context.close(true)}. Prints how long the looping
   * thread took to get its exception, and how long {@code close(true)} took to return. This is the cost a caller whose
   * own thread ran the guest would wait for; it is why python3 runs guest code on a thread of the environment's own.
   * Reported, no goal: always returns true.
   */
  static boolean bareCancel(int samples) throws InterruptedException {
    try (Engine shared = Engine.newBuilder("python").option("engine.WarnInterpreterOnly", "false").build()) {
      org.graalvm.polyglot.Source loop = org.graalvm.polyglot.Source.create("python",
          "def f():\n    while True:\n        pass\nf");
      long[] unwound = new long[samples];
      long[] closed = new long[samples];
      for (int i = -3; i < samples; i++) { // three unmeasured, to compile the loop and the cancellation path
        org.graalvm.polyglot.Context c = org.graalvm.polyglot.Context.newBuilder("python").engine(shared).build();
        org.graalvm.polyglot.Value f = c.eval(loop);
        long[] caught = new long[1];
        Thread guest = Thread.ofPlatform().start(() -> {
          try {
            f.executeVoid();
          } catch (org.graalvm.polyglot.PolyglotException e) {
            caught[0] = System.nanoTime();
          }
        });
        Thread.sleep(300);
        long t0 = System.nanoTime();
        c.close(true);
        long t1 = System.nanoTime();
        guest.join();
        if (i >= 0) {
          unwound[i] = caught[0] - t0;
          closed[i] = t1 - t0;
        }
      }
      Arrays.sort(unwound);
      Arrays.sort(closed);
      System.out.printf(Locale.ROOT, "cancel-py: %d bare GraalPy contexts running 'while True: pass', close(true) from"
              + " another thread%n  the looping thread got its exception after: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms,"
              + " max %.3f ms%n  close(true) returned after: p50 %.3f ms, p90 %.3f ms, max %.3f ms%n", samples,
          ms(pct(unwound, 50)), ms(pct(unwound, 90)),
          ms(pct(unwound, 99)), ms(unwound[samples - 1]), ms(pct(closed, 50)),
          ms(pct(closed, 90)), ms(closed[samples - 1]));
      return true;
    }
  }
}
