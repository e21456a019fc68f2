package dev.embla.faas.internal.keepalive;

import dev.embla.faas.KeepAlivePolicy;
import java.time.Duration;

/** Lambda's policy: every idle environment is kept for the same time after its last use. Learns nothing. */
public final class FixedKeepAlivePolicy implements KeepAlivePolicy {

  private final Window window;
  private final Estimator estimator;

  /** Creates the policy; {@code keepAlive} is validated by the caller. */
  public FixedKeepAlivePolicy(Duration keepAlive) {
    this.window = Window.keepAlive(keepAlive);
    Window w = window;
    this.estimator = new Estimator() {
      @Override
      public void recordIdleTime(Duration idleTime) {}

      @Override
      public Window window() {
        return w;
      }
    };
  }

  /** Returns the keep-alive. */
  public Duration keepAlive() {
    return window.keepAlive();
  }

  @Override
  public Estimator newEstimator(String functionName) {
    return estimator; // stateless, so one serves every function
  }

  @Override
  public String toString() {
    return "fixed(" + window.keepAlive() + ")";
  }
}
