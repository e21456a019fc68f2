package dev.embla.faas.benchmarks.trace;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A synthetic multi-function invocation trace shaped like the Azure Functions 2019 trace published with Shahrad et
 * al., "Serverless in the Wild" (USENIX ATC 2020): mean invocation rates spanning eight orders of magnitude, about
 * 45% of functions invoked at most once an hour and 81% at most once a minute, and about 40% with an inter-arrival
 * coefficient of variation above 1. It mixes four kinds of function:
 * <ul>
 *   <li>{@link Pattern#RARE}: Poisson arrivals at 10^-2.6 to 20 per day (the exponent skewed towards the top, so
 *       that most rare functions are seen at least once in a day);
 *   <li>{@link Pattern#PERIODIC}: timers (every 1 minute to 1 day) with a random phase and a few seconds of jitter;
 *   <li>{@link Pattern#POISSON}: steady Poisson traffic at 100 to 10^5.4 per day;
 *   <li>{@link Pattern#BURSTY}: ON/OFF traffic, exponential ON (1 to 20 minutes) and OFF (20 minutes to 6 hours)
 *       periods, Poisson at 0.2 to 30 per minute while ON.
 * </ul>
 * The same seed always gives the same trace: each function draws from its own stream split off the seed.
 */
public final class AzureLikeTrace {

  private static final long MINUTE = Duration.ofMinutes(1).toNanos();
  private static final long DAY = Duration.ofDays(1).toNanos();
  private static final long[] TIMER_PERIODS_MIN = {1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440};
  /** Timer periods are drawn with these weights: hourly and rarer timers are the common kind, as in Azure. */
  private static final double[] TIMER_WEIGHTS = {2, 1, 3, 3, 3, 2, 3, 5, 3, 2, 2, 2, 2, 2};

  /** How a function's arrivals are generated. */
  public enum Pattern { RARE, PERIODIC, POISSON, BURSTY }

  /**
   * One function of the trace.
   *
   * @param name its name
   * @param pattern how its arrivals were generated
   * @param meanPerDay the generating process's mean invocations per day
   * @param arrivals arrival times in nanoseconds from the start of the trace, ascending
   */
  public record Function(String name, Pattern pattern, double meanPerDay, long[] arrivals) {}

  private final long seed;
  private final long durationNanos;
  private final List<Function> functions;

  private AzureLikeTrace(long seed, long durationNanos, List<Function> functions) {
    this.seed = seed;
    this.durationNanos = durationNanos;
    this.functions = functions;
  }

  /**
   * Generates a trace.
   *
   * @param seed the seed; the same seed gives the same trace
   * @param functionCount how many functions
   * @param duration how long the trace lasts
   */
  public static AzureLikeTrace generate(long seed, int functionCount, Duration duration) {
    if (functionCount <= 0 || duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("functionCount and duration must be positive, were " + functionCount
          + ", " + duration);
    }
    long length = duration.toNanos();
    SplittableRandom root = new SplittableRandom(seed);
    List<Function> functions = new ArrayList<>(functionCount);
    for (int i = 0; i < functionCount; i++) {
      SplittableRandom r = root.split();
      double u = r.nextDouble();
      Pattern pattern = u < 0.40 ? Pattern.RARE : u < 0.66 ? Pattern.PERIODIC : u < 0.88 ? Pattern.POISSON
          : Pattern.BURSTY;
      String name = String.format(java.util.Locale.ROOT, "f%03d-%s", i, pattern.name().toLowerCase(java.util.Locale.ROOT));
      functions.add(switch (pattern) {
        case RARE -> poisson(name, pattern, Math.pow(10, 1.3 - 3.9 * square(r.nextDouble())), r, length);
        case POISSON -> poisson(name, pattern, logUniform(r, 2.0, 5.4), r, length);
        case PERIODIC -> periodic(name, r, length);
        case BURSTY -> bursty(name, r, length);
      });
    }
    return new AzureLikeTrace(seed, length, List.copyOf(functions));
  }

  /**
   * Returns a trace of the given functions, for checking a replay against figures worked out by hand.
   *
   * @throws IllegalArgumentException if an arrival is unsorted or outside the trace
   */
  public static AzureLikeTrace of(Duration duration, List<Function> functions) {
    long length = duration.toNanos();
    for (Function f : functions) {
      long previous = 0;
      for (long t : f.arrivals()) {
        if (t < previous || t >= length) {
          throw new IllegalArgumentException("arrivals of " + f.name() + " must be ascending and within " + duration);
        }
        previous = t;
      }
    }
    return new AzureLikeTrace(0, length, List.copyOf(functions));
  }

  /** Returns the functions, in the order generated. */
  public List<Function> functions() {
    return functions;
  }

  /** Returns the functions invoked at least once. */
  public List<Function> invokedFunctions() {
    return functions.stream().filter(f -> f.arrivals().length > 0).toList();
  }

  /** Returns how long the trace lasts. */
  public Duration duration() {
    return Duration.ofNanos(durationNanos);
  }

  /** Returns the seed. */
  public long seed() {
    return seed;
  }

  /** Returns the total number of invocations. */
  public long invocations() {
    return functions.stream().mapToLong(f -> f.arrivals().length).sum();
  }

  private static double logUniform(SplittableRandom r, double lowExp, double highExp) {
    return Math.pow(10, lowExp + r.nextDouble() * (highExp - lowExp));
  }

  private static double square(double x) {
    return x * x;
  }

  private static double exponential(SplittableRandom r, double mean) {
    return -mean * Math.log(1 - r.nextDouble());
  }

  private static Function poisson(String name, Pattern pattern, double perDay, SplittableRandom r, long length) {
    double meanGap = DAY / perDay;
    LongList out = new LongList();
    for (double t = exponential(r, meanGap); t < length; t += exponential(r, meanGap)) {
      out.add((long) t);
    }
    return new Function(name, pattern, perDay, out.toArray());
  }

  private static Function periodic(String name, SplittableRandom r, long length) {
    double total = Arrays.stream(TIMER_WEIGHTS).sum();
    double pick = r.nextDouble() * total;
    int k = 0;
    while (pick >= TIMER_WEIGHTS[k] && k < TIMER_WEIGHTS.length - 1) {
      pick -= TIMER_WEIGHTS[k++];
    }
    long period = TIMER_PERIODS_MIN[k] * MINUTE;
    long phase = (long) (r.nextDouble() * period);
    LongList out = new LongList();
    for (long t = phase; t < length; t += period) {
      long jitter = (long) (r.nextDouble() * 2e9); // a timer fires up to 2 s late
      if (t + jitter < length) {
        out.add(t + jitter);
      }
    }
    return new Function(name, Pattern.PERIODIC, (double) DAY / period, out.toArray());
  }

  private static Function bursty(String name, SplittableRandom r, long length) {
    double meanOn = logUniform(r, 0, Math.log10(20)) * MINUTE;
    double meanOff = logUniform(r, Math.log10(20), Math.log10(360)) * MINUTE;
    double ratePerMinute = logUniform(r, Math.log10(0.2), Math.log10(30));
    double meanGapOn = MINUTE / ratePerMinute;
    LongList out = new LongList();
    double t = exponential(r, meanOff) * r.nextDouble(); // start somewhere in an OFF period
    while (t < length) {
      double onEnd = t + exponential(r, meanOn);
      for (double a = t; a < Math.min(onEnd, length); a += exponential(r, meanGapOn)) {
        out.add((long) a);
      }
      t = onEnd + exponential(r, meanOff);
    }
    double perDay = ratePerMinute * 1440 * meanOn / (meanOn + meanOff);
    return new Function(name, Pattern.BURSTY, perDay, out.toArray());
  }

  /** A growable array of longs, so that millions of arrivals are not boxed. */
  private static final class LongList {
    private long[] values = new long[16];
    private int size;

    void add(long v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    long[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
