package dev.embla.faas.internal.keepalive;

import dev.embla.faas.KeepAlivePolicy;
import java.time.Duration;

/**
 * The hybrid histogram keep-alive policy of Shahrad et al., "Serverless in the Wild: Characterizing and Optimizing
 * the Serverless Workload at a Large Cloud Provider" (USENIX ATC 2020), section 4.2.
 *
 * <p>Per function, a histogram of idle times (one-minute bins over four hours by default) decides the window:
 * <ul>
 *   <li>Too few idle times seen ({@code minSamples}): not representative yet, so the standard keep-alive
 *       ({@code fallbackKeepAlive}, no pre-warm).
 *   <li>Most idle times longer than the histogram's range ({@code outOfRangeShare}): the paper forecasts the next idle
 *       time with ARIMA; this implementation uses an exponentially weighted moving average of the idle times instead
 *       (weight {@code ewmaWeight} on the newest), and pre-warms at the forecast less {@code forecastMargin}, keeping
 *       the environment until the forecast plus that margin.
 *   <li>Idle times spread evenly over the range (coefficient of variation of the bin counts under
 *       {@code minBinCountCv}): no pattern to exploit, so the standard keep-alive.
 *   <li>Otherwise: the head (5th percentile, lower edge of its bin) less {@code margin} is the pre-warm time; the
 *       tail (99th percentile, upper edge of its bin) plus {@code margin} is when the environment is let go, so the
 *       keep-alive is the tail less the pre-warm. A head in the first bin means no pre-warm: environments are kept
 *       from the end of the invocation.
 *   <li>A cost check the paper does not have: that window is priced on the function's own histogram (the idle
 *       environment time it would have cost over the idle times seen, each taken at its bin's middle and those beyond
 *       the range as endless), and when it costs more than {@code maxIdleRatio} times what the standard keep-alive
 *       would have, the standard keep-alive is used. Without it, a function with few or widely spread idle times
 *       (rare Poisson traffic, ON/OFF bursts with hours between them) has a sparse, "concentrated-looking" histogram
 *       whose 99th percentile keeps an environment idle for hours; on the trace replay that cost more idle time than
 *       all the pre-warming saved.
 * </ul>
 *
 * <p>Like the paper's, this policy reasons about a function as a whole: a pre-warm creates one environment.
 */
public final class HybridHistogramPolicy implements KeepAlivePolicy {

  /**
   * The policy's parameters.
   *
   * @param binWidth the width of one histogram bin
   * @param binCount how many bins; the range is their product
   * @param minSamples how many idle times a histogram needs before it is trusted
   * @param minBinCountCv the coefficient of variation of the bin counts below which idle times count as spread evenly
   * @param headPercentile the percentile of idle time that sets the pre-warm
   * @param tailPercentile the percentile of idle time that sets the end of the keep-alive
   * @param margin the share taken off the head and added to the tail
   * @param fallbackKeepAlive the standard keep-alive used while the histogram is not representative
   * @param outOfRangeShare the share of idle times beyond the range above which the forecast decides
   * @param ewmaWeight the weight of the newest idle time in the forecast
   * @param forecastMargin the share of the forecast taken off for the pre-warm and added for the end of the keep-alive
   * @param maxIdleRatio how much idle time the histogram's window may cost, relative to the standard keep-alive,
   *     over the idle times seen
   */
  public record Parameters(Duration binWidth, int binCount, int minSamples, double minBinCountCv,
      double headPercentile, double tailPercentile, double margin, Duration fallbackKeepAlive,
      double outOfRangeShare, double ewmaWeight, double forecastMargin, double maxIdleRatio) {

    /** Validates the parameters. */
    public Parameters {
      if (binWidth.isNegative() || binWidth.isZero() || binCount <= 0 || minSamples <= 0) {
        throw new IllegalArgumentException("binWidth, binCount and minSamples must be positive");
      }
      if (!(headPercentile >= 0 && headPercentile < tailPercentile && tailPercentile <= 100)) {
        throw new IllegalArgumentException("percentiles must satisfy 0 <= head < tail <= 100, were "
            + headPercentile + ", " + tailPercentile);
      }
      if (!(margin >= 0 && margin < 1 && forecastMargin >= 0 && forecastMargin < 1)) {
        throw new IllegalArgumentException("margins must be in [0, 1)");
      }
      if (!(ewmaWeight > 0 && ewmaWeight <= 1 && outOfRangeShare >= 0 && outOfRangeShare <= 1)) {
        throw new IllegalArgumentException("ewmaWeight must be in (0, 1] and outOfRangeShare in [0, 1]");
      }
      if (!(maxIdleRatio > 0)) {
        throw new IllegalArgumentException("maxIdleRatio must be positive, was " + maxIdleRatio);
      }
      if (fallbackKeepAlive.isNegative() || fallbackKeepAlive.isZero()) {
        throw new IllegalArgumentException("fallbackKeepAlive must be positive, was " + fallbackKeepAlive);
      }
    }

    /** Returns these parameters with another minimum sample count. */
    public Parameters withMinSamples(int n) {
      return new Parameters(binWidth, binCount, n, minBinCountCv, headPercentile, tailPercentile, margin,
          fallbackKeepAlive, outOfRangeShare, ewmaWeight, forecastMargin, maxIdleRatio);
    }

    /** Returns these parameters with another idle-cost ratio. */
    public Parameters withMaxIdleRatio(double ratio) {
      return new Parameters(binWidth, binCount, minSamples, minBinCountCv, headPercentile, tailPercentile, margin,
          fallbackKeepAlive, outOfRangeShare, ewmaWeight, forecastMargin, ratio);
    }
  }

  /**
   * The defaults: the paper's one-minute bins over four hours, 5th and 99th percentiles with a 10% margin, a
   * bin-count CV of 2 (the paper's threshold), a 10-minute fallback (Lambda's keep-alive rather than the paper's
   * four hours, so that a function the policy cannot predict costs what it costs under Lambda's policy), and a
   * forecast when over half the idle times are beyond four hours, and a histogram window that may cost no more idle
   * time than the fallback would have.
   */
  public static final Parameters DEFAULTS = new Parameters(Duration.ofMinutes(1), 240, 10, 2.0, 5, 99, 0.10,
      Duration.ofMinutes(10), 0.5, 0.5, 0.15, 1.0);

  private final Parameters parameters;

  /** Creates the policy with the given parameters. */
  public HybridHistogramPolicy(Parameters parameters) {
    this.parameters = parameters;
  }

  /** Returns the policy with {@link #DEFAULTS}. */
  public static HybridHistogramPolicy defaults() {
    return new HybridHistogramPolicy(DEFAULTS);
  }

  @Override
  public Estimator newEstimator(String functionName) {
    return new HistogramEstimator(parameters);
  }

  @Override
  public String toString() {
    return "adaptive(hybrid histogram)";
  }

  /** One function's histogram and forecast; the window is recomputed only after a new idle time. */
  static final class HistogramEstimator implements Estimator {
    private final Parameters p;
    private final IdleTimeHistogram histogram;
    private final Window fallback;
    private double forecastNanos = Double.NaN;
    private Window window;

    HistogramEstimator(Parameters p) {
      this.p = p;
      this.histogram = new IdleTimeHistogram(p.binWidth().toNanos(), p.binCount());
      this.fallback = Window.keepAlive(p.fallbackKeepAlive());
      this.window = fallback;
    }

    @Override
    public void recordIdleTime(Duration idleTime) {
      long nanos = Math.max(0, idleTime.toNanos());
      histogram.add(nanos);
      forecastNanos = Double.isNaN(forecastNanos) ? nanos
          : p.ewmaWeight() * nanos + (1 - p.ewmaWeight()) * forecastNanos;
      window = null;
    }

    @Override
    public Window window() {
      if (window == null) {
        window = compute();
      }
      return window;
    }

    IdleTimeHistogram histogram() {
      return histogram;
    }

    private Window compute() {
      long total = histogram.inRange() + histogram.outOfRange();
      if (total < p.minSamples()) {
        return fallback;
      }
      if (histogram.outOfRange() > p.outOfRangeShare() * total) {
        long preWarm = (long) (forecastNanos * (1 - p.forecastMargin()));
        long keepAlive = Math.max(1, (long) (forecastNanos * 2 * p.forecastMargin()));
        return new Window(Duration.ofNanos(preWarm), Duration.ofNanos(keepAlive));
      }
      if (histogram.binCountCv() < p.minBinCountCv()) {
        return fallback;
      }
      long bin = histogram.binNanos();
      long head = histogram.binOfPercentile(p.headPercentile()) * bin;
      long tail = (histogram.binOfPercentile(p.tailPercentile()) + 1L) * bin;
      long preWarm = (long) (head * (1 - p.margin()));
      long until = (long) (tail * (1 + p.margin()));
      Window window = new Window(Duration.ofNanos(preWarm), Duration.ofNanos(until - preWarm));
      return idleCost(window) <= p.maxIdleRatio() * idleCost(fallback) ? window : fallback;
    }

    /**
     * Returns the idle environment time a window would have cost over the idle times seen, in bin widths: each idle
     * time taken at the middle of its bin, and one beyond the range as longer than any window.
     */
    double idleCost(Window window) {
      double bin = histogram.binNanos();
      double preWarm = window.preWarm().toNanos() / bin;
      double keepAlive = window.keepAlive().toNanos() / bin;
      double cost = histogram.outOfRange() * keepAlive;
      for (int i = 0; i < p.binCount(); i++) {
        long count = histogram.count(i);
        if (count != 0) {
          double idle = i + 0.5;
          // before the pre-warm nothing is kept; then the environment waits until the call or the window's end
          cost += count * (idle < preWarm ? 0 : Math.min(idle - preWarm, keepAlive));
        }
      }
      return cost;
    }
  }
}
