package dev.embla.faas;

import java.time.Duration;
import java.util.Objects;

/**
 * Decides, per function, how long idle execution environments are kept after an invocation and whether one is
 * created ahead of a predicted arrival. Lambda keeps an environment for a fixed time after its last invocation; a
 * policy can instead learn each function's idle times and keep environments only when they are likely to be reused.
 *
 * <p>The engine gives each function its own {@link Estimator}, feeds it the function's idle times and applies the
 * {@link Window} it returns. Both happen on the engine's maintenance thread, never on the invoke path: an invocation
 * only increments a counter. Idle times are therefore measured at the resolution of a maintenance pass (at most one
 * second), which is fine for windows counted in minutes.
 *
 * <p>Stock policies: {@link KeepAlivePolicies#fixed(Duration)} and {@link KeepAlivePolicies#adaptive()}.
 *
 * @since 0.2
 */
public interface KeepAlivePolicy {

  /**
   * Returns the estimator of one function, called once when the engine first sees the function. The estimator
   * survives code and configuration updates of the function, and is dropped when the function is deleted.
   *
   * @param functionName the function's name
   */
  Estimator newEstimator(String functionName);

  /**
   * What a policy knows about one function. The engine calls it from one thread at a time, so an implementation
   * needs no synchronization; it should answer quickly, because every function's estimator is asked on every
   * maintenance pass.
   */
  interface Estimator {

    /**
     * Records one idle time of the function: how long it had been idle (no invocation arriving or running) when an
     * invocation arrived. Several arrivals within one maintenance pass count as one.
     *
     * @param idleTime the idle time, never negative
     */
    void recordIdleTime(Duration idleTime);

    /** Returns the window to apply now; called on every maintenance pass, after any new idle times were recorded. */
    Window window();
  }

  /**
   * When environments of a function are kept, counted from the end of its last invocation.
   *
   * <p>With a zero {@code preWarm}, each idle environment is kept for {@code keepAlive} after its last use (Lambda's
   * fixed keep-alive). With a positive {@code preWarm}, idle environments are shut down right after the invocation,
   * one environment is created and initialised {@code preWarm} after it (before the arrival the policy predicts), and
   * that environment is kept for {@code keepAlive} and shut down if no invocation used it.
   *
   * @param preWarm how long after the last invocation one environment is created again; zero for none
   * @param keepAlive how long an idle environment is kept (after its last use, or after the pre-warm)
   * @since 0.2
   */
  record Window(Duration preWarm, Duration keepAlive) {

    /** Validates the window. */
    public Window {
      Objects.requireNonNull(preWarm, "preWarm");
      Objects.requireNonNull(keepAlive, "keepAlive");
      if (preWarm.isNegative()) {
        throw new IllegalArgumentException("preWarm must not be negative, was " + preWarm);
      }
      if (keepAlive.isNegative()) {
        throw new IllegalArgumentException("keepAlive must not be negative, was " + keepAlive);
      }
      if (!preWarm.isZero() && keepAlive.isZero()) {
        throw new IllegalArgumentException("keepAlive must be positive when preWarm is set, was " + keepAlive
            + " with preWarm " + preWarm);
      }
    }

    /** Returns a window without pre-warming: idle environments are kept for {@code keepAlive} after their last use. */
    public static Window keepAlive(Duration keepAlive) {
      return new Window(Duration.ZERO, keepAlive);
    }

    /** Returns whether this window creates an environment ahead of the next arrival. */
    public boolean preWarms() {
      return !preWarm.isZero();
    }
  }
}
