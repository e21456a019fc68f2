package dev.embla.faas.benchmarks.trace;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.KeepAlivePolicies;
import dev.embla.faas.KeepAlivePolicy;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.internal.pool.EnvironmentPool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Replays an {@link AzureLikeTrace} through the real engine (registry, invoker, pools, maintenance, keep-alive
 * controller) on simulated time, once per keep-alive policy, and counts what each costs: cold starts (invocations
 * that found no idle environment) and idle environment·seconds (the number of idle environments integrated over
 * simulated time, pre-warmed ones included).
 *
 * <p>Simulated time moves only here: to each arrival, and to every maintenance pass, which runs at the engine's own
 * maintenance period with the background thread paused. Functions run on a no-op runtime and take no simulated
 * time, so a function never has more than one environment; the trace has no durations to replay.
 *
 * <pre>
 *   ./embla bench keepalive [seed] [functions] [hours]
 * </pre>
 */
public final class KeepAliveReplay {

  /** The seed of the published figures. */
  public static final long DEFAULT_SEED = 2019;
  /** How many functions the published figures replay. */
  public static final int DEFAULT_FUNCTIONS = 400;
  private static final byte[] PAYLOAD = "{}".getBytes(StandardCharsets.US_ASCII);
  private static final int INDEX_BITS = 16;

  private KeepAliveReplay() {}

  /**
   * What one policy cost over a trace.
   *
   * @param policy the policy's name
   * @param invocations invocations replayed
   * @param coldStarts invocations that ran Init first
   * @param preWarms Init phases run ahead of an invocation by the policy
   * @param idleEnvironmentSeconds idle environments integrated over simulated time
   * @param wall how long the replay took in real time
   */
  public record Result(String policy, long invocations, long coldStarts, long preWarms,
      double idleEnvironmentSeconds, Duration wall, Map<AzureLikeTrace.Pattern, Cost> byPattern) {

    /** Returns the report: one line in all, then one per pattern. */
    public String describe() {
      StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
          "%-28s invocations %,10d  cold starts %,7d (%5.2f%%)  idle env·s %,12.0f (%,7.1f env·h)  pre-warms %,6d"
              + "  (replayed in %.1f s)",
          policy, invocations, coldStarts, 100.0 * coldStarts / invocations, idleEnvironmentSeconds,
          idleEnvironmentSeconds / 3600, preWarms, wall.toMillis() / 1000.0));
      byPattern.forEach((pattern, cost) -> out.append(String.format(Locale.ROOT,
          "%n    %-9s %3d functions  invocations %,10d  cold starts %,7d  idle env·s %,12.0f", pattern,
          cost.functions(), cost.invocations(), cost.coldStarts(), cost.idleEnvironmentSeconds())));
      return out.toString();
    }
  }

  /**
   * What one policy cost for the functions of one pattern.
   *
   * @param functions how many functions (invoked at least once)
   * @param invocations their invocations
   * @param coldStarts their cold starts
   * @param idleEnvironmentSeconds their idle environments integrated over simulated time
   */
  public record Cost(int functions, long invocations, long coldStarts, double idleEnvironmentSeconds) {}

  /** Runs the replay: {@code [seed] [functions] [hours]}; exits 1 if the adaptive policy misses the goal. */
  public static void main(String[] args) {
    long seed = args.length > 0 ? Long.parseLong(args[0]) : DEFAULT_SEED;
    int functions = args.length > 1 ? Integer.parseInt(args[1]) : DEFAULT_FUNCTIONS;
    Duration duration = Duration.ofHours(args.length > 2 ? Long.parseLong(args[2]) : 24);
    AzureLikeTrace trace = AzureLikeTrace.generate(seed, functions, duration);
    System.out.printf(Locale.ROOT, "trace: seed %d, %d functions, %s simulated%n", seed, functions, duration);
    System.out.println(TraceStatistics.of(trace).describe());
    Result fixed = replay(trace, KeepAlivePolicies.fixed(Duration.ofMinutes(10)), "fixed 10 min");
    System.out.println(fixed.describe());
    Result adaptive = replay(trace, KeepAlivePolicies.adaptive(), "adaptive (hybrid histogram)");
    System.out.println(adaptive.describe());
    boolean fewerColdStarts = adaptive.coldStarts() < fixed.coldStarts();
    boolean noMoreIdle = adaptive.idleEnvironmentSeconds() <= fixed.idleEnvironmentSeconds();
    System.out.printf(Locale.ROOT,
        "adaptive vs fixed: cold starts %+.1f%%, idle env·s %+.1f%% (goal: fewer cold starts at equal or lower idle"
            + " env·s: %s)%n",
        100.0 * (adaptive.coldStarts() - fixed.coldStarts()) / fixed.coldStarts(),
        100.0 * (adaptive.idleEnvironmentSeconds() - fixed.idleEnvironmentSeconds())
            / fixed.idleEnvironmentSeconds(),
        fewerColdStarts && noMoreIdle ? "met" : "MISSED");
    System.exit(fewerColdStarts && noMoreIdle ? 0 : 1);
  }

  /**
   * Replays a trace through a new engine with the given policy.
   *
   * @param name the policy's name in the result
   */
  public static Result replay(AzureLikeTrace trace, KeepAlivePolicy policy, String name) {
    long traceEnd = trace.duration().toNanos();
    if (traceEnd >= 1L << (63 - INDEX_BITS)) {
      throw new IllegalArgumentException("a replay lasts at most " + Duration.ofNanos(1L << (63 - INDEX_BITS))
          + ", was " + trace.duration());
    }
    List<AzureLikeTrace.Function> functions = trace.invokedFunctions();
    if (functions.size() >= 1 << INDEX_BITS) {
      throw new IllegalArgumentException("a replay takes fewer than 65536 invoked functions, was "
          + functions.size());
    }
    long started = System.nanoTime();
    SimulatedTime time = new SimulatedTime();
    NoopRuntime runtime = new NoopRuntime();
    Path code = emptyCodeDirectory();
    try (FaasEngine engine = FaasEngine.builder().ticker(time).clock(time).addRuntime(runtime)
        .keepAlivePolicy(policy).build()) {
      LocalEngine local = (LocalEngine) engine;
      local.pauseBackgroundMaintenance();
      long period = local.maintenancePeriod().toNanos();
      EnvironmentPool[] pools = new EnvironmentPool[functions.size()];
      String[] names = new String[functions.size()];
      for (int i = 0; i < pools.length; i++) {
        names[i] = functions.get(i).name();
        engine.createFunction(FunctionConfig.builder(names[i]).runtime("replay").handler("noop").build(),
            FunctionCode.fromDirectory(code));
        pools[i] = local.poolOf(names[i]);
      }
      long[] events = mergedArrivals(functions);

      int[] idle = new int[pools.length];
      long[] idleSince = new long[pools.length]; // when idle[i] last changed
      long[] idleNanos = new long[pools.length]; // environment·nanoseconds per function, up to idleSince[i]
      long[] colds = new long[pools.length];
      long idleNow = 0; // environments idle right now, over all functions
      long idleIntegral = 0; // environment·nanoseconds
      long now = 0;
      long nextPass = period;
      long coldStarts = 0;
      int next = 0;
      while (true) {
        long arrival = next < events.length ? events[next] >>> INDEX_BITS : Long.MAX_VALUE;
        long step = Math.min(arrival, nextPass);
        if (step > traceEnd) {
          break;
        }
        idleIntegral += idleNow * (step - now);
        now = step;
        time.set(now);
        if (nextPass <= arrival) { // a pass due at the same instant as an arrival runs first
          local.runMaintenance();
          for (int i = 0; i < pools.length; i++) {
            int n = pools[i].idleCount();
            if (n != idle[i]) {
              idleNanos[i] += idle[i] * (now - idleSince[i]);
              idleSince[i] = now;
              idleNow += n - idle[i];
              idle[i] = n;
            }
          }
          nextPass += period;
        } else {
          int i = (int) (events[next++] & ((1 << INDEX_BITS) - 1));
          InvocationResult result = engine.invoke(names[i], PAYLOAD);
          if (result.isError()) {
            throw new IllegalStateException("replayed invocation of " + names[i] + " failed: "
                + result.payloadAsString());
          }
          if (result.isColdStart()) {
            coldStarts++;
            colds[i]++;
          }
          int n = pools[i].idleCount();
          if (n != idle[i]) {
            idleNanos[i] += idle[i] * (now - idleSince[i]);
            idleSince[i] = now;
            idleNow += n - idle[i];
            idle[i] = n;
          }
        }
      }
      idleIntegral += idleNow * (traceEnd - now);
      Map<AzureLikeTrace.Pattern, Cost> byPattern = new EnumMap<>(AzureLikeTrace.Pattern.class);
      for (int i = 0; i < pools.length; i++) {
        idleNanos[i] += idle[i] * (traceEnd - idleSince[i]);
        Cost c = new Cost(1, functions.get(i).arrivals().length, colds[i], idleNanos[i] / 1e9);
        byPattern.merge(functions.get(i).pattern(), c, (a, b) -> new Cost(a.functions() + b.functions(),
            a.invocations() + b.invocations(), a.coldStarts() + b.coldStarts(),
            a.idleEnvironmentSeconds() + b.idleEnvironmentSeconds()));
      }
      return new Result(name, events.length, coldStarts, runtime.inits.get() - coldStarts, idleIntegral / 1e9,
          Duration.ofNanos(System.nanoTime() - started), java.util.Collections.unmodifiableMap(byPattern));
    } finally {
      deleteQuietly(code);
    }
  }

  /** Every arrival as {@code time << 16 | function index}, sorted: time order, ties by function. */
  private static long[] mergedArrivals(List<AzureLikeTrace.Function> functions) {
    int total = functions.stream().mapToInt(f -> f.arrivals().length).sum();
    long[] events = new long[total];
    int k = 0;
    for (int i = 0; i < functions.size(); i++) {
      for (long t : functions.get(i).arrivals()) {
        events[k++] = t << INDEX_BITS | i;
      }
    }
    Arrays.sort(events);
    return events;
  }

  private static Path emptyCodeDirectory() {
    try {
      Path dir = Files.createTempDirectory("embla-replay-");
      Files.writeString(dir.resolve("README"), "the replay runtime runs no code");
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a leftover temporary directory is harmless
    }
  }
}
