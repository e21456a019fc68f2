package dev.embla.faas.benchmarks.trace;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The statistics by which the Azure Functions 2019 trace is usually summarised, computed from a generated trace.
 * Shares are over the functions invoked at least once (the published trace lists only those); a function counts as
 * invoked "at most once an hour" when its invocations over the trace average at most one per hour.
 *
 * @param functions functions in the trace
 * @param invoked functions invoked at least once
 * @param invocations invocations in all
 * @param atMostHourly share of invoked functions averaging at most one invocation an hour
 * @param atMostMinutely share of invoked functions averaging at most one invocation a minute
 * @param cvAboveOne share of functions with at least {@link #MIN_INVOCATIONS_FOR_CV} invocations whose inter-arrival
 *     times have a coefficient of variation above 1
 * @param cvFunctions how many functions that share is over
 * @param meanRateOrders orders of magnitude between the lowest and highest mean rate of the generating processes
 * @param observedRateOrders orders of magnitude between the fewest (at least one) and most invocations observed
 * @param byPattern how many functions of each pattern
 */
public record TraceStatistics(int functions, int invoked, long invocations, double atMostHourly,
    double atMostMinutely, double cvAboveOne, int cvFunctions, double meanRateOrders, double observedRateOrders,
    Map<AzureLikeTrace.Pattern, Integer> byPattern) {

  /** Functions with fewer invocations have too few inter-arrival times for a meaningful coefficient of variation. */
  public static final int MIN_INVOCATIONS_FOR_CV = 10;

  /** Computes the statistics of a trace. */
  public static TraceStatistics of(AzureLikeTrace trace) {
    double hours = trace.duration().toNanos() / 3.6e12;
    List<AzureLikeTrace.Function> invoked = trace.invokedFunctions();
    int hourly = 0;
    int minutely = 0;
    int cvCount = 0;
    int cvHigh = 0;
    long minCount = Long.MAX_VALUE;
    long maxCount = 0;
    for (AzureLikeTrace.Function f : invoked) {
      int n = f.arrivals().length;
      minCount = Math.min(minCount, n);
      maxCount = Math.max(maxCount, n);
      if (n <= hours) {
        hourly++;
      }
      if (n <= hours * 60) {
        minutely++;
      }
      if (n >= MIN_INVOCATIONS_FOR_CV) {
        cvCount++;
        if (cv(f.arrivals()) > 1) {
          cvHigh++;
        }
      }
    }
    double minRate = trace.functions().stream().mapToDouble(AzureLikeTrace.Function::meanPerDay).min().orElse(1);
    double maxRate = trace.functions().stream().mapToDouble(AzureLikeTrace.Function::meanPerDay).max().orElse(1);
    Map<AzureLikeTrace.Pattern, Integer> byPattern = new EnumMap<>(AzureLikeTrace.Pattern.class);
    trace.functions().forEach(f -> byPattern.merge(f.pattern(), 1, Integer::sum));
    int k = invoked.size();
    return new TraceStatistics(trace.functions().size(), k, trace.invocations(), hourly / (double) k,
        minutely / (double) k, cvCount == 0 ? 0 : cvHigh / (double) cvCount, cvCount,
        Math.log10(maxRate / minRate), k == 0 ? 0 : Math.log10((double) maxCount / minCount), Map.copyOf(byPattern));
  }

  /** Returns the coefficient of variation of the gaps between ascending arrival times. */
  static double cv(long[] arrivals) {
    int gaps = arrivals.length - 1;
    double mean = (arrivals[gaps] - arrivals[0]) / (double) gaps;
    double squares = 0;
    for (int i = 1; i < arrivals.length; i++) {
      double d = (arrivals[i] - arrivals[i - 1]) - mean;
      squares += d * d;
    }
    return Math.sqrt(squares / gaps) / mean;
  }

  /** Returns the statistics as lines of text, next to the Azure trace's figures. */
  public String describe() {
    return String.format(Locale.ROOT, """
        functions: %d (%s), invoked at least once: %d, invocations: %d
        invoked at most once an hour:   %5.1f%% of invoked functions (Azure 2019: ~45%%)
        invoked at most once a minute:  %5.1f%% (Azure 2019: ~81%%)
        inter-arrival CV above 1:       %5.1f%% of the %d functions with >= %d invocations (Azure 2019: ~40%%)
        mean rates span %.1f orders of magnitude (Azure 2019: ~8); counts observed span %.1f""",
        functions, byPattern, invoked, invocations, 100 * atMostHourly, 100 * atMostMinutely, 100 * cvAboveOne,
        cvFunctions, MIN_INVOCATIONS_FOR_CV, meanRateOrders, observedRateOrders);
  }
}
