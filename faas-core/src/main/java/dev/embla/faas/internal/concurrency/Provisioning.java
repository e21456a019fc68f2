package dev.embla.faas.internal.concurrency;

import dev.embla.faas.FaasException;
import dev.embla.faas.FunctionError;
import dev.embla.faas.ProvisionedConcurrencyConfig;
import dev.embla.faas.ProvisionedConcurrencyConfig.Status;
import dev.embla.faas.ResourceConflictException;
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
 * Provisioned concurrency: keeps the requested number of initialised environments in the pool of each function
 * version or alias that asked for it ({@code $LATEST}, a published version, or the version an alias points at).
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
  /** Keyed by {@code name:qualifier}: a function may have provisioned concurrency on several versions and aliases. */
  private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();

  /** What was asked for one function version or alias, and how far it got. */
  private static final class State {
    final String name;
    final String qualifier;
    final int requested;
    final Instant lastModified;
    volatile Status status = Status.IN_PROGRESS;
    volatile String reason = "";
    /** The pool last provisioned for this qualifier: an alias moved or an update replaced it when it differs. */
    volatile EnvironmentPool provisionedPool;

    State(String name, String qualifier, int requested, Instant lastModified) {
      this.name = name;
      this.qualifier = qualifier;
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

  private static String key(String name, String qualifier) {
    return name + ":" + qualifier;
  }

  /**
   * Sets the provisioned concurrency of a function's version or alias ({@code $LATEST} included) and starts reaching it
   * in the background. Every qualifier's figure counts against the function's reserved concurrency, or is set aside
   * from the unreserved concurrency, as in Lambda.
   */
  public ProvisionedConcurrencyConfig put(String name, String qualifier, int environments) {
    FunctionVersion version = registry.resolve(name, qualifier); // throws for an unknown version or alias
    if (environments < 1) {
      throw new dev.embla.faas.InvalidConfigurationException(
          "provisionedConcurrentExecutions must be at least 1, was " + environments);
    }
    State state = new State(name, qualifier, environments, clock.instant());
    synchronized (this) {
      refuseShared(name, qualifier, version);
      State old = states.get(key(name, qualifier));
      int total = totalFor(name) - (old == null ? 0 : old.requested) + environments;
      control.putProvisioned(name, total); // validates against reserved concurrency and the floor
      states.put(key(name, qualifier), state);
    }
    schedule(state);
    return view(state, version.pool());
  }

  /**
   * Refuses to move an alias that has provisioned concurrency onto a version whose environments another qualifier
   * already provisions: call before the alias moves.
   */
  public synchronized void checkAliasMove(String name, String alias, String targetVersion) {
    if (states.containsKey(key(name, alias))) {
      refuseShared(name, alias, registry.resolve(name, targetVersion));
    }
  }

  /**
   * An alias and the version it points at share one pool of environments, so two figures for it would undo each
   * other's work on every reconciliation: one of them must go.
   */
  private void refuseShared(String name, String qualifier, FunctionVersion version) {
    for (State s : states.values()) {
      if (s.name.equals(name) && !s.qualifier.equals(qualifier) && currentPool(s) == version.pool()) {
        throw new ResourceConflictException("function '" + name + "': '" + qualifier + "' would run version "
            + version.version() + ", whose environments '" + s.qualifier + "' already provisions; an alias and the"
            + " version it points to cannot both have provisioned concurrency, so delete one configuration first");
      }
    }
  }

  private int totalFor(String name) {
    int total = 0;
    for (State s : states.values()) {
      if (s.name.equals(name)) {
        total += s.requested;
      }
    }
    return total;
  }

  /** Returns the provisioned concurrency of a function's version or alias, if any. */
  public Optional<ProvisionedConcurrencyConfig> get(String name, String qualifier) {
    FunctionVersion version = registry.resolve(name, qualifier);
    State state = states.get(key(name, qualifier));
    return state == null ? Optional.empty() : Optional.of(view(state, version.pool()));
  }

  /** Removes the provisioned concurrency of a version or alias; its environments become ordinary ones. */
  public void delete(String name, String qualifier) {
    registry.resolve(name, qualifier);
    forget(name, qualifier);
  }

  /**
   * Forgets the provisioned concurrency of a version or alias that was deleted, as Lambda deletes it with them: its
   * figure is no longer set aside, and the environments it kept become ordinary ones that keep-alive can retire.
   */
  public void forget(String name, String qualifier) {
    State removed;
    synchronized (this) {
      removed = states.remove(key(name, qualifier));
      if (removed != null) {
        control.putProvisioned(name, totalFor(name));
      }
    }
    if (removed != null) {
      release(removed);
    }
  }

  /** Forgets a deleted function. */
  public void remove(String name) {
    states.values().removeIf(s -> s.name.equals(name));
  }

  /** Called when a function's revision was replaced: the new pool must be provisioned too. */
  public void revisionReplaced(String name) {
    for (State s : states.values()) {
      if (s.name.equals(name)) {
        schedule(s);
      }
    }
  }

  /**
   * Called by the engine's maintenance: reprovisions qualifiers that lost a provisioned environment, and follows
   * aliases that moved to another version.
   */
  public void checkAll() {
    for (State state : states.values()) {
      EnvironmentPool pool = currentPool(state);
      if (pool != null && (pool != state.provisionedPool
          || state.status != Status.FAILED && pool.provisionedCount() != state.requested)) {
        schedule(state);
      }
    }
  }

  /** Returns how many environments provisioned concurrency keeps for a function now, over all its qualifiers. */
  public int allocated(String name) {
    int allocated = 0;
    for (State state : states.values()) {
      EnvironmentPool pool = state.name.equals(name) ? currentPool(state) : null;
      if (pool != null) {
        allocated += Math.min(pool.provisionedCount(), state.requested);
      }
    }
    return allocated;
  }

  private EnvironmentPool currentPool(State state) {
    try {
      return registry.resolve(state.name, state.qualifier).pool();
    } catch (FaasException e) {
      return null; // the version or alias is gone
    }
  }

  private void schedule(State state) {
    try {
      worker.execute(() -> {
        try {
          reconcile(state);
        } catch (RuntimeException e) {
          LOG.warn("function {}:{}: provisioned concurrency could not be reconciled", state.name, state.qualifier, e);
        }
      });
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  /** Makes a removed qualifier's environments ordinary ones, on the worker (it may race a reconciliation). */
  private void release(State removed) {
    try {
      worker.execute(() -> {
        EnvironmentPool pool = removed.provisionedPool;
        if (pool != null && !usedByOther(pool, removed)) {
          pool.unprovisionAll();
        }
      });
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  private boolean usedByOther(EnvironmentPool pool, State except) {
    for (State s : states.values()) {
      if (s != except && currentPool(s) == pool) {
        return true;
      }
    }
    return false;
  }

  private void reconcile(State state) {
    if (states.get(key(state.name, state.qualifier)) != state) {
      return; // replaced or deleted meanwhile; its successor is scheduled on its own
    }
    FunctionVersion version;
    try {
      version = registry.resolve(state.name, state.qualifier);
    } catch (FaasException e) {
      return; // the version or alias was deleted
    }
    EnvironmentPool pool = version.pool();
    EnvironmentPool previous = state.provisionedPool;
    if (previous != null && previous != pool && !usedByOther(previous, state)) {
      previous.unprovisionAll(); // the alias moved: the old version's environments become ordinary ones
    }
    state.provisionedPool = pool;
    state.status = Status.IN_PROGRESS;
    int have = pool.provisionedCount();
    while (have < state.requested && states.get(key(state.name, state.qualifier)) == state) {
      PooledEnvironment env;
      try {
        env = pool.createProvisioned();
      } catch (FaasException e) { // the memory budget is short
        fail(state, e.getMessage());
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
        fail(state, "Init failed: " + error.errorType() + ": " + error.errorMessage());
        return;
      }
      have++;
    }
    if (have > state.requested) {
      pool.deprovision(have - state.requested);
    }
    if (states.get(key(state.name, state.qualifier)) == state) {
      state.status = Status.READY;
      state.reason = "";
    }
  }

  private void fail(State state, String reason) {
    state.reason = reason;
    state.status = Status.FAILED;
    LOG.warn("function {}:{}: provisioned concurrency failed: {}", state.name, state.qualifier, reason);
  }

  private ProvisionedConcurrencyConfig view(State state, EnvironmentPool pool) {
    int allocated = pool.provisionedCount();
    Status status = state.status;
    if (status == Status.READY && allocated != state.requested) {
      status = Status.IN_PROGRESS; // one was lost and is being replaced
    }
    return new ProvisionedConcurrencyConfig(state.name, state.qualifier, state.requested,
        Math.min(allocated, state.requested), status, state.reason, state.lastModified);
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
