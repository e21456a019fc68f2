package dev.embla.faas.internal.keepalive;

/**
 * Counts idle times in fixed-width bins over a bounded range, plus one count of those beyond the range ("out of
 * bounds"), as the hybrid histogram policy keeps them. Adding is O(1); the statistics scan the bins. Not thread-safe:
 * one maintenance thread owns it.
 */
public final class IdleTimeHistogram {

  private final long binNanos;
  private final long[] bins;
  private long inRange;
  private long outOfRange;

  /**
   * Creates an empty histogram.
   *
   * @param binNanos the width of one bin
   * @param binCount how many bins; the range is {@code binNanos * binCount}
   */
  public IdleTimeHistogram(long binNanos, int binCount) {
    if (binNanos <= 0 || binCount <= 0) {
      throw new IllegalArgumentException("binNanos and binCount must be positive, were " + binNanos + ", " + binCount);
    }
    this.binNanos = binNanos;
    this.bins = new long[binCount];
  }

  /** Adds one idle time. */
  public void add(long idleNanos) {
    long bin = Math.max(0, idleNanos) / binNanos;
    if (bin >= bins.length) {
      outOfRange++;
    } else {
      bins[(int) bin]++;
      inRange++;
    }
  }

  /** Returns how many idle times fell in bin {@code i}. */
  public long count(int i) {
    return bins[i];
  }

  /** Returns how many idle times fell inside the range. */
  public long inRange() {
    return inRange;
  }

  /** Returns how many idle times were longer than the range. */
  public long outOfRange() {
    return outOfRange;
  }

  /** Returns the width of one bin in nanoseconds. */
  public long binNanos() {
    return binNanos;
  }

  /**
   * Returns the index of the bin holding the {@code percentile}-th in-range idle time (nearest rank), or -1 when the
   * range holds none.
   */
  public int binOfPercentile(double percentile) {
    if (inRange == 0) {
      return -1;
    }
    long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * inRange));
    long seen = 0;
    for (int i = 0; i < bins.length; i++) {
      seen += bins[i];
      if (seen >= rank) {
        return i;
      }
    }
    return bins.length - 1;
  }

  /**
   * Returns the coefficient of variation (standard deviation over mean) of the bin counts: high when the idle times
   * are concentrated in a few bins, zero when they are spread evenly over the range. Zero for an empty range.
   */
  public double binCountCv() {
    if (inRange == 0) {
      return 0;
    }
    double mean = inRange / (double) bins.length;
    double squares = 0;
    for (long count : bins) {
      double d = count - mean;
      squares += d * d;
    }
    return Math.sqrt(squares / bins.length) / mean;
  }
}
