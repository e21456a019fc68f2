package dev.embla.faas;

import dev.embla.faas.internal.keepalive.FixedKeepAlivePolicy;
import dev.embla.faas.internal.keepalive.HybridHistogramPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * The stock {@link KeepAlivePolicy keep-alive policies}.
 *
 * @since 0.2
 */
public final class KeepAlivePolicies {

  private KeepAlivePolicies() {}

  /**
   * Returns Lambda's policy: every idle environment is kept for {@code keepAlive} after its last use, then shut down.
   * {@link FaasEngine.Builder#keepAlive(Duration)} is a shorthand for it.
   *
   * @throws IllegalArgumentException if {@code keepAlive} is not positive
   */
  public static KeepAlivePolicy fixed(Duration keepAlive) {
    Objects.requireNonNull(keepAlive, "keepAlive");
    if (keepAlive.isNegative() || keepAlive.isZero()) {
      throw new IllegalArgumentException("keepAlive must be positive, was " + keepAlive);
    }
    return new FixedKeepAlivePolicy(keepAlive);
  }

  /**
   * Returns the hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC 2020). It keeps a
   * histogram of each function's idle times (one-minute bins over four hours). Once the histogram has enough samples
   * and they are concentrated, an environment is created just before the 5th percentile of the idle time (less a
   * 10% margin) and kept until the 99th percentile (plus 10%); when the head is under a minute, environments are
   * simply kept until the 99th percentile. That window is used only if, priced on the function's own idle times, it
   * would have cost no more idle environment time than a 10-minute keep-alive. While a function has too few samples,
   * its idle times are spread evenly, or its window would cost more, the policy keeps environments for 10 minutes as
   * Lambda does. When most idle times are longer than four hours, it pre-warms around an exponentially weighted
   * moving average of the idle times (the paper uses an ARIMA forecast).
   */
  public static KeepAlivePolicy adaptive() {
    return HybridHistogramPolicy.defaults();
  }
}
