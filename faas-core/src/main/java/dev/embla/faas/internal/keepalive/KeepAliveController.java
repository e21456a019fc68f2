package dev.embla.faas.internal.keepalive;

import dev.embla.faas.KeepAlivePolicy;
import dev.embla.faas.KeepAlivePolicy.Estimator;
import dev.embla.faas.KeepAlivePolicy.Window;
import dev.embla.faas.internal.pool.EnvironmentPool;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a {@link KeepAlivePolicy} to the pools, once per maintenance pass: it turns each pool's arrival counter into
 * idle times for the function's estimator, then evicts idle environments and asks for pre-warms as the estimator's
 * window says.
 *
 * <p>The invoke path only increments the pool's arrival counter. A function counts as active in a pass when
 * invocations arrived since the previous pass or are running now; an idle time is the time from the last active
 * pass to the pass that sees the next arrival, so it is measured to within one maintenance period, and several
 * arrivals within one pass make one idle time (the paper's simulator works on per-minute counts the same way).
 *
 * <p>Passes are serialised ({@code synchronized}): the background thread and a test or benchmark driving maintenance
 * on a fake clock never interleave, and estimators are only ever called by one thread at a time.
 */
public final class KeepAliveController {

  /** A pool and its function's name, as the controller needs them. */
  public record Target(String functionName, EnvironmentPool pool) {}

  private static final Logger LOG = LoggerFactory.getLogger(KeepAliveController.class);
  private static final Window FALLBACK = Window.keepAlive(Duration.ofMinutes(10));

  private final KeepAlivePolicy policy;
  private final Map<String, FunctionState> states = new HashMap<>();

  /** Creates a controller for a policy. */
  public KeepAliveController(KeepAlivePolicy policy) {
    this.policy = policy;
  }

  /** Returns the policy. */
  public KeepAlivePolicy policy() {
    return policy;
  }

  /**
   * Runs one pass at ticker reading {@code now} over the current revisions of every function.
   *
   * @param prewarm called with the name of each function that should get one environment created now
   * @return how many idle environments were shut down
   */
  public synchronized int maintain(List<Target> targets, long now, Consumer<String> prewarm) {
    int evicted = 0;
    Set<String> seen = new HashSet<>(targets.size() * 2);
    for (Target target : targets) {
      String name = target.functionName();
      EnvironmentPool pool = target.pool();
      seen.add(name);
      FunctionState state = states.get(name);
      if (state == null) {
        state = new FunctionState(policy.newEstimator(name));
        states.put(name, state);
      }
      if (state.pool != pool) { // a new revision counts arrivals from zero
        state.pool = pool;
        state.arrivalsSeen = 0;
      }
      long arrivals = pool.arrivals();
      boolean arrived = arrivals != state.arrivalsSeen;
      state.arrivalsSeen = arrivals;
      Window window;
      try {
        if (arrived && state.active) {
          state.estimator.recordIdleTime(Duration.ofNanos(Math.max(0, now - state.lastActiveNanos)));
        }
        window = Objects.requireNonNull(state.estimator.window(), "window");
      } catch (RuntimeException e) {
        // A policy's bug must not stop keep-alive for every function: this one gets Lambda's keep-alive meanwhile.
        if (!state.failed) {
          state.failed = true;
          LOG.warn("function {}: keep-alive policy {} failed; keeping idle environments for {} instead", name,
              policy, FALLBACK.keepAlive(), e);
        }
        window = FALLBACK;
      }
      if (arrived || pool.busyCount() > 0) {
        state.lastActiveNanos = now;
        state.active = true;
      }
      evicted += apply(name, state, window, pool, now, prewarm);
    }
    states.keySet().retainAll(seen); // deleted functions
    return evicted;
  }

  private static int apply(String name, FunctionState state, Window window, EnvironmentPool pool, long now,
      Consumer<String> prewarm) {
    if (!window.preWarms() || !state.active) {
      return pool.evictIdle(window.keepAlive().toNanos());
    }
    long since = now - state.lastActiveNanos;
    long preWarm = window.preWarm().toNanos();
    if (since < preWarm || since - preWarm >= window.keepAlive().toNanos()) {
      return pool.evictIdle(0); // before the predicted arrival, or after the window: nothing is kept
    }
    if (!state.preWarmed || state.preWarmedFor != state.lastActiveNanos) {
      state.preWarmed = true;
      state.preWarmedFor = state.lastActiveNanos;
      if (pool.idleCount() == 0) {
        prewarm.accept(name);
      }
    }
    return 0;
  }

  /** What the controller remembers of one function between passes. */
  private static final class FunctionState {
    final Estimator estimator;
    EnvironmentPool pool;
    long arrivalsSeen;
    boolean active;
    long lastActiveNanos;
    boolean preWarmed;
    long preWarmedFor;
    boolean failed;

    FunctionState(Estimator estimator) {
      this.estimator = estimator;
    }
  }
}
