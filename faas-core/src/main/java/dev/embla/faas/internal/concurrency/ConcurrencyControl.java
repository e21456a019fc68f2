package dev.embla.faas.internal.concurrency;

import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.TooManyRequestsException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The engine-wide concurrency limit, split between reservations and the unreserved pool. Invocations touch only
 * {@link FunctionConcurrency#admit()} and {@link PermitPool}, never a lock; changes of reserved or provisioned
 * concurrency are rare administrative calls and are serialised here.
 *
 * <p>The arithmetic is Lambda's: every function's reserved concurrency, and the provisioned concurrency of functions
 * without a reservation, is set aside from the limit; the rest is the unreserved pool, shared by all other
 * invocations, and it may not be made smaller than the floor.
 */
public final class ConcurrencyControl {

  private final ConcurrencySettings settings;
  private final PermitPool unreserved;
  private final ConcurrentHashMap<String, FunctionConcurrency> functions = new ConcurrentHashMap<>();
  private volatile int setAside; // written under this; read without it only to word a throttle
  /** Own pools dropped while their invocations still held permits; guarded by this. */
  private final List<PermitPool> detached = new ArrayList<>();

  /** Creates the gate for an engine. */
  public ConcurrencyControl(ConcurrencySettings settings) {
    this.settings = settings;
    this.unreserved = new PermitPool(settings.limit());
  }

  /** Returns the settings. */
  public ConcurrencySettings settings() {
    return settings;
  }

  /** Returns the gate of a function, creating it on the function's first revision. */
  public FunctionConcurrency function(String name) {
    return functions.computeIfAbsent(name, n -> new FunctionConcurrency(n, this));
  }

  /**
   * Returns the gate of a registered function. Never creates one: a change that raced the function's deletion (it
   * checked the registry, then the function was deleted) would otherwise bring the gate back with its figure set
   * aside from the unreserved pool for good, and a function created later under the name would inherit it.
   */
  private FunctionConcurrency existing(String name) {
    FunctionConcurrency f = functions.get(name);
    if (f == null) {
      throw new FunctionNotFoundException("function '" + name + "' does not exist");
    }
    return f;
  }

  /** Forgets a deleted function, giving back what it had set aside. */
  public synchronized void remove(FunctionConcurrency f) {
    if (functions.remove(f.functionName(), f)) {
      setAside -= f.setAside();
      keep(f.detach());
      rebalance();
    }
  }

  /**
   * Gives back the capacity that changes held back while invocations admitted under an earlier figure still ran;
   * called by the engine's maintenance.
   */
  public synchronized void settle() {
    rebalance();
  }

  /**
   * Sets a function's reserved concurrency.
   *
   * @throws InvalidConfigurationException if it is negative, below the provisioned figure, or leaves less than the
   *     floor unreserved
   */
  public synchronized void putReserved(String name, int reserved) {
    if (reserved < 0) {
      throw invalid("reservedConcurrentExecutions must be 0 or more, was %d", reserved);
    }
    FunctionConcurrency f = existing(name);
    if (reserved < f.provisioned) {
      throw invalid("reservedConcurrentExecutions of function '%s' must be at least its provisioned concurrency %d,"
          + " was %d", name, f.provisioned, reserved);
    }
    change(f, reserved, f.provisioned, "reserved concurrency");
  }

  /** Removes a function's reserved concurrency (its provisioned concurrency, if any, is then set aside instead). */
  public synchronized void deleteReserved(String name) {
    FunctionConcurrency f = existing(name);
    if (f.reserved >= 0) {
      change(f, -1, f.provisioned, "provisioned concurrency");
    }
  }

  /** Returns a function's reserved concurrency, or empty. */
  public synchronized OptionalInt reserved(String name) {
    FunctionConcurrency f = functions.get(name);
    return f == null || f.reserved < 0 ? OptionalInt.empty() : OptionalInt.of(f.reserved);
  }

  /**
   * Sets a function's provisioned concurrency (0 to remove it).
   *
   * @throws InvalidConfigurationException if it is above the function's reservation or leaves less than the floor
   *     unreserved
   */
  public synchronized void putProvisioned(String name, int provisioned) {
    FunctionConcurrency f = existing(name);
    if (f.reserved >= 0 && provisioned > f.reserved) {
      throw invalid("provisioned concurrency of function '%s' must be at most its reserved concurrency %d, was %d",
          name, f.reserved, provisioned);
    }
    change(f, f.reserved, provisioned, "provisioned concurrency");
  }

  private void change(FunctionConcurrency f, int reserved, int provisioned, String what) {
    int wanted = reserved >= 0 ? reserved : provisioned;
    int others = setAside - f.setAside();
    int max = settings.limit() - settings.unreservedFloor() - others;
    if (wanted > f.setAside() && wanted > max) {
      throw invalid("%s %d for function '%s' would leave %d of the engine's concurrency limit %d unreserved, below"
          + " its floor of %d (other functions set aside %d); at most %d can be set aside for it", what, wanted,
          f.functionName(), settings.limit() - others - wanted, settings.limit(), settings.unreservedFloor(), others,
          Math.max(0, max));
    }
    int growth = wanted - f.setAside();
    setAside = others + wanted;
    if (growth > 0) {
      // Admission takes no lock, so no pool may grow while another may still hand out what it gives up: the
      // unreserved pool shrinks first, and what its invocations hold beyond its new size is withheld from the growing
      // pool before that pool exists or grows, never taken back from it afterwards.
      resizeUnreserved(owed());
      int missing = unreserved.debt() - withheld();
      if (missing > 0) {
        f.withheld += Math.min(missing, growth);
      }
    }
    // A pool that shrinks does so in apply, before rebalance lets the unreserved pool grow by what it gave up.
    keep(f.apply(reserved, provisioned));
    rebalance();
  }

  private void resizeUnreserved(int owed) {
    int capacity = settings.limit() - setAside - owed;
    if (capacity != unreserved.capacity()) {
      unreserved.resize(capacity);
    }
  }

  /** Returns what every own pool, live or dropped, holds beyond its capacity; retires dropped ones that hold none. */
  private int owed() {
    int owed = 0;
    for (Iterator<PermitPool> it = detached.iterator(); it.hasNext(); ) {
      PermitPool p = it.next();
      int debt = p.settledDebt();
      if (debt == 0) {
        p.retire();
        it.remove();
      } else {
        owed += debt;
      }
    }
    for (FunctionConcurrency f : functions.values()) {
      owed += f.ownDebt();
    }
    return owed;
  }

  private int withheld() {
    int withheld = 0;
    for (FunctionConcurrency f : functions.values()) {
      withheld += f.withheld;
    }
    return withheld;
  }

  private void keep(PermitPool dropped) {
    if (dropped != null) {
      detached.add(dropped);
    }
  }

  /**
   * Sizes the unreserved pool so that no more invocations run than the limit, even across a change. The figures
   * move at once, but permits already held do not: a pool made smaller, or dropped, keeps its invocations until they
   * end, so the unreserved pool is made smaller by what they hold beyond their pool's capacity (its debt); and when
   * the unreserved pool itself holds more than its new capacity, the function whose pool grew keeps that many of
   * its new permits back ({@link #change} withholds them before the pool grows). {@link #settle} hands both back as
   * those invocations end.
   */
  private void rebalance() {
    resizeUnreserved(owed());
    int withheld = withheld();
    int missing = unreserved.debt() - withheld;
    if (missing < 0) {
      int give = -missing;
      for (FunctionConcurrency f : functions.values()) {
        int g = Math.min(give, f.withheld);
        if (g > 0) {
          f.withhold(-g);
          give -= g;
        }
      }
    } else if (missing > 0) {
      // A fallback: change withholds before a pool grows, so this is not expected; take free permits where they are.
      for (FunctionConcurrency f : functions.values()) {
        int t = Math.min(missing, f.ownFree());
        if (t > 0) {
          f.withhold(t);
          missing -= t;
        }
      }
    }
  }

  /** Returns the pool shared by invocations of functions without a reservation. */
  PermitPool unreserved() {
    return unreserved;
  }

  /** Returns the unreserved concurrency: the limit minus everything set aside. */
  public synchronized int unreservedConcurrency() {
    return settings.limit() - setAside;
  }

  TooManyRequestsException reservedThrottle(String function, int reserved) {
    return new TooManyRequestsException(TooManyRequestsException.Reason.RESERVED_FUNCTION_CONCURRENT_INVOCATION_LIMIT_EXCEEDED,
        String.format(Locale.ROOT, "Rate exceeded: function '%s' is running its reserved concurrency of %d"
            + " invocations (ReservedFunctionConcurrentInvocationLimitExceeded)", function, reserved));
  }

  TooManyRequestsException unreservedThrottle(String function) {
    int capacity = unreserved.capacity();
    int aside = setAside;
    int heldBack = settings.limit() - capacity - aside; // still held under figures changed a moment ago
    return new TooManyRequestsException(TooManyRequestsException.Reason.CONCURRENT_INVOCATION_LIMIT_EXCEEDED,
        String.format(Locale.ROOT, "Rate exceeded: function '%s' found the engine's unreserved concurrency of %d in use"
            + " (concurrency limit %d, %d set aside for reserved and provisioned concurrency%s)"
            + " (ConcurrentInvocationLimitExceeded)", function, capacity, settings.limit(), aside,
            heldBack > 0 ? ", " + heldBack + " held by invocations admitted under earlier figures" : ""));
  }

  private static InvalidConfigurationException invalid(String format, Object... args) {
    return new InvalidConfigurationException(String.format(Locale.ROOT, format, args));
  }
}
