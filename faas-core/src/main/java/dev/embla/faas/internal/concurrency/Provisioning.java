package dev.embla.faas.internal.concurrency;

import dev.embla.faas.FaasException;
import dev.embla.faas.FunctionError;
import dev.embla.faas.ProvisionedConcurrencyConfig;
import dev.embla.faas.ProvisionedConcurrencyConfig.Status;
import dev.embla.faas.internal.pool.EnvironmentPool;
import dev.embla.faas.internal.pool.PooledEnvironment;
import dev.embla.faas.internal.registry.FunctionRegistry;
import dev.embla.faas.internal.registry.FunctionVersion;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provisioned concurrency: keeps the requested number of initialised environments in each function's current pool.
 *
 * <p>All the work (creating, initialising and retiring environments) happens on one background thread, so that
 * {@code putProvisionedConcurrency} returns at once and two reconciliations of one function never race each other.
 * A reconciliation compares what the function's pool holds with what was asked and closes the gap: it creates and
 * initialises the missing environments one after another and leaves them idle (marked provisioned, so keep-alive and
 * the memory budget leave them alone), or retires the surplus, idle ones first. It runs when the figure changes, when
 * an update replaced the function's revision (whose pool starts empty), and from the engine's maintenance whenever a
 * provisioned environment was lost (a timeout or crash discards it).
 */
public final class Provisioning implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Provisioning.class);

  private final FunctionRegistry registry;
  private final ConcurrencyControl control;
  private final BiFunction<FunctionVersion, PooledEnvironment, FunctionError> init;
  private final Clock clock;
  private final ExecutorService worker = Executors.newSingleThreadExecutor(
      Thread.ofPlatform().daemon().name("embla-provisioning").factory());
  private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();

  /** What was asked for one function, and how far it got. */
  private static final class State {
    final int requested;
    final Instant lastModified;
    volatile Status status = Status.IN_PROGRESS;
    volatile String reason = "";

    State(int requested, Instant lastModified) {
      this.requested = requested;
      this.lastModified = lastModified;
    }
  }

  /**
   * Creates the provisioning worker.
   *
   * @param init runs an environment's Init under the init timeout; returns null or the Init error
   */
  public Provisioning(FunctionRegistry registry, ConcurrencyControl control,
      BiFunction<FunctionVersion, PooledEnvironment, FunctionError> init, Clock clock) {
    this.registry = registry;
    this.control = control;
    this.init = init;
    this.clock = clock;
  }

  /** Sets a function's provisioned concurrency and starts reaching it in the background. */
  public ProvisionedConcurrencyConfig put(String name, int environments) {
    FunctionVersion version = registry.get(name);
    if (environments < 1) {
      throw new dev.embla.faas.InvalidConfigurationException(
          "provisionedConcurrentExecutions must be at least 1, was " + environments);
    }
    State state = new State(environments, clock.instant());
    synchronized (this) {
      control.putProvisioned(name, environments); // validates against reserved concurrency and the floor
      states.put(name, state);
    }
    schedule(name);
    return view(name, state, version.pool());
  }

  /** Returns a function's provisioned concurrency, if any. */
  public Optional<ProvisionedConcurrencyConfig> get(String name) {
    FunctionVersion version = registry.get(name);
    State state = states.get(name);
    return state == null ? Optional.empty() : Optional.of(view(name, state, version.pool()));
  }

  /** Removes a function's provisioned concurrency; its environments become ordinary ones. */
  public void delete(String name) {
    registry.get(name);
    synchronized (this) {
      if (states.remove(name) != null) {
        control.putProvisioned(name, 0);
      }
    }
    schedule(name);
  }

  /** Forgets a deleted function. */
  public void remove(String name) {
    states.remove(name);
  }

  /** Called when a function's revision was replaced: its new pool must be provisioned too. */
  public void revisionReplaced(String name) {
    if (states.containsKey(name)) {
      schedule(name);
    }
  }

  /** Called by the engine's maintenance: reprovisions functions that lost a provisioned environment. */
  public void checkAll() {
    states.forEach((name, state) -> {
      FunctionVersion v = registry.find(name);
      if (v != null && state.status != Status.FAILED && v.pool().provisionedCount() != state.requested) {
        schedule(name);
      }
    });
  }

  /** Returns how many environments provisioned concurrency keeps for a function now. */
  public int allocated(String name) {
    FunctionVersion v = registry.find(name);
    return v == null || !states.containsKey(name) ? 0 : v.pool().provisionedCount();
  }

  private void schedule(String name) {
    try {
      worker.execute(() -> {
        try {
          reconcile(name);
        } catch (RuntimeException e) {
          LOG.warn("function {}: provisioned concurrency could not be reconciled", name, e);
        }
      });
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  private void reconcile(String name) {
    FunctionVersion version = registry.find(name);
    State state = states.get(name);
    if (version == null) {
      return;
    }
    EnvironmentPool pool = version.pool();
    if (state == null) {
      pool.unprovisionAll();
      return;
    }
    state.status = Status.IN_PROGRESS;
    int have = pool.provisionedCount();
    while (have < state.requested && states.get(name) == state) {
      PooledEnvironment env;
      try {
        env = pool.createProvisioned();
      } catch (FaasException e) { // the memory budget is short
        fail(name, state, e.getMessage());
        return;
      }
      if (env == null) {
        return; // the revision was replaced meanwhile; revisionReplaced scheduled its successor
      }
      FunctionError error;
      try {
        error = init.apply(version, env);
      } finally {
        pool.release(env);
      }
      if (error != null) {
        fail(name, state, "Init failed: " + error.errorType() + ": " + error.errorMessage());
        return;
      }
      have++;
    }
    if (have > state.requested) {
      pool.deprovision(have - state.requested);
    }
    if (states.get(name) == state) {
      state.status = Status.READY;
      state.reason = "";
    }
  }

  private void fail(String name, State state, String reason) {
    state.reason = reason;
    state.status = Status.FAILED;
    LOG.warn("function {}: provisioned concurrency failed: {}", name, reason);
  }

  private ProvisionedConcurrencyConfig view(String name, State state, EnvironmentPool pool) {
    int allocated = pool.provisionedCount();
    Status status = state.status;
    if (status == Status.READY && allocated != state.requested) {
      status = Status.IN_PROGRESS; // one was lost and is being replaced
    }
    return new ProvisionedConcurrencyConfig(name, FunctionVersion.LATEST, state.requested,
        Math.min(allocated, state.requested), status, state.reason, state.lastModified);
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
