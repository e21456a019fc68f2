package dev.embla.faas.internal.recursion;

import java.util.Arrays;

/**
 * How many times the chain of events that led to an event has passed through each function: Lambda's recursive loop
 * detection. An event produced while an invocation runs (an asynchronous invoke made from inside it, a destination
 * record of its outcome) inherits the chain of that invocation, with the invoked function counted once more. Small and
 * immutable: a chain rarely names more than a few functions.
 *
 * <p>The chain of the invocation a thread is running sits in a thread-local for the length of that invocation, so that
 * host code the function calls into (which then calls {@code invokeAsync}) passes it on without any parameter.
 *
 * <p>A message sent to an in-memory queue keeps the sending thread's chain as the {@link #RECORD_ATTRIBUTE} of its
 * records, in {@link #encode()}'s text form, and the event source mapping that reads the queue runs its invocation
 * with that chain: so a loop through a queue is counted like a loop through destinations.
 */
public final class HopChain {

  /** An event that would run a function for the 17th time in one chain is stopped, as in Lambda. */
  public static final int MAX_HOPS_PER_FUNCTION = 16;

  /** The chain of an event that no invocation produced. */
  public static final HopChain EMPTY = new HopChain(new String[0], new int[0]);

  /**
   * The {@link dev.embla.faas.spi.source.SourceRecord} attribute that carries the chain of the message a record holds,
   * as {@link #encode()} writes it. Internal: sources leave it out of the events they build.
   */
  public static final String RECORD_ATTRIBUTE = "embla.hopChain";

  private static final ThreadLocal<HopChain> CURRENT = new ThreadLocal<>();

  private final String[] functions;
  private final int[] counts;

  private HopChain(String[] functions, int[] counts) {
    this.functions = functions;
    this.counts = counts;
  }

  /** Returns the chain of the invocation running on this thread, or {@link #EMPTY}. */
  public static HopChain current() {
    HopChain c = CURRENT.get();
    return c == null ? EMPTY : c;
  }

  /** Makes {@code chain} the current thread's chain and returns the one it replaces, for {@link #restore}. */
  public static HopChain enter(HopChain chain) {
    HopChain previous = CURRENT.get();
    CURRENT.set(chain);
    return previous;
  }

  /** Puts back the chain {@link #enter} returned. */
  public static void restore(HopChain previous) {
    CURRENT.set(previous); // not remove(): a set after a remove makes a new map entry, on every invocation
  }

  /** Returns how many times the chain has run {@code function}. */
  public int count(String function) {
    for (int i = 0; i < functions.length; i++) {
      if (functions[i].equals(function)) {
        return counts[i];
      }
    }
    return 0;
  }

  /** Returns this chain with {@code function} counted once more. */
  public HopChain plus(String function) {
    for (int i = 0; i < functions.length; i++) {
      if (functions[i].equals(function)) {
        int[] c = counts.clone();
        c[i]++;
        return new HopChain(functions, c);
      }
    }
    String[] f = Arrays.copyOf(functions, functions.length + 1);
    int[] c = Arrays.copyOf(counts, counts.length + 1);
    f[functions.length] = function;
    c[counts.length] = 1;
    return new HopChain(f, c);
  }

  /**
   * Returns, per function, the larger count of this chain and {@code other}: the chain of an invocation that several
   * messages led to, each of which may come from a different chain.
   */
  public HopChain max(HopChain other) {
    if (other.functions.length == 0) {
      return this;
    }
    if (functions.length == 0) {
      return other;
    }
    String[] f = Arrays.copyOf(functions, functions.length + other.functions.length);
    int[] c = Arrays.copyOf(counts, counts.length + other.counts.length);
    int n = functions.length;
    for (int j = 0; j < other.functions.length; j++) {
      int i = indexOf(f, n, other.functions[j]);
      if (i < 0) {
        f[n] = other.functions[j];
        c[n++] = other.counts[j];
      } else {
        c[i] = Math.max(c[i], other.counts[j]);
      }
    }
    return new HopChain(Arrays.copyOf(f, n), Arrays.copyOf(c, n));
  }

  /** Returns true if the chain names no function: no invocation produced the event. */
  public boolean isEmpty() {
    return functions.length == 0;
  }

  /**
   * Returns the chain as text, {@code a=2,b=1}, for a {@link #RECORD_ATTRIBUTE}; empty for {@link #EMPTY}. Function
   * names are {@code [A-Za-z0-9_-]}, so neither separator can occur in one.
   */
  public String encode() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < functions.length; i++) {
      sb.append(i == 0 ? "" : ",").append(functions[i]).append('=').append(counts[i]);
    }
    return sb.toString();
  }

  /**
   * Reads {@link #encode()}'s text. Null, empty or malformed text is {@link #EMPTY}: only the engine writes the
   * attribute, so text it cannot read came from elsewhere and names no chain the engine made.
   */
  public static HopChain decode(String text) {
    if (text == null || text.isEmpty()) {
      return EMPTY;
    }
    String[] parts = text.split(",", -1);
    String[] f = new String[parts.length];
    int[] c = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      int eq = parts[i].lastIndexOf('=');
      if (eq <= 0) {
        return EMPTY;
      }
      f[i] = parts[i].substring(0, eq);
      try {
        c[i] = Integer.parseInt(parts[i], eq + 1, parts[i].length(), 10);
      } catch (NumberFormatException e) {
        return EMPTY;
      }
      if (c[i] < 1 || indexOf(f, i, f[i]) >= 0) {
        return EMPTY;
      }
    }
    return new HopChain(f, c);
  }

  /**
   * Returns the function a reference names, {@code hello} for {@code hello:live}: chains count functions, whatever
   * version or alias ran.
   */
  public static String functionOf(String functionRef) {
    int colon = functionRef.indexOf(':');
    return colon < 0 ? functionRef : functionRef.substring(0, colon);
  }

  private static int indexOf(String[] names, int length, String name) {
    for (int i = 0; i < length; i++) {
      if (names[i].equals(name)) {
        return i;
      }
    }
    return -1;
  }

  // Index access, for the asynchronous queue's binary record of an event (internal.async.QueuedEvent).

  /** Returns how many functions the chain names. */
  public int size() {
    return functions.length;
  }

  /** Returns the name of the {@code i}th function the chain names, {@code 0 <= i < size()}. */
  public String function(int i) {
    return functions[i];
  }

  /** Returns how many times the chain ran its {@code i}th function, {@code 0 <= i < size()}. */
  public int count(int i) {
    return counts[i];
  }

  /** Returns the chain of these functions and counts, in the order {@link #function} and {@link #count} give. */
  public static HopChain of(String[] functions, int[] counts) {
    return functions.length == 0 ? EMPTY : new HopChain(functions, counts);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HopChain h && Arrays.equals(functions, h.functions) && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(functions) * 31 + Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < functions.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(functions[i]).append('=').append(counts[i]);
    }
    return sb.append('}').toString();
  }
}
