package dev.embla.faas.internal.async;

import java.util.Arrays;

/**
 * How many times the chain of events that led to an event has passed through each function: Lambda's recursive loop
 * detection. An event produced while an invocation runs (an asynchronous invoke made from inside it, a destination
 * record of its outcome) inherits the chain of that invocation, with the invoked function counted once more. Small and
 * immutable: a chain rarely names more than a few functions.
 *
 * <p>The chain of the invocation a thread is running sits in a thread-local for the length of that invocation, so that
 * host code the function calls into (which then calls {@code invokeAsync}) passes it on without any parameter.
 */
public final class HopChain {

  /** An event that would run a function for the 17th time in one chain is stopped, as in Lambda. */
  public static final int MAX_HOPS_PER_FUNCTION = 16;

  /** The chain of an event that no invocation produced. */
  public static final HopChain EMPTY = new HopChain(new String[0], new int[0]);

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
  static HopChain enter(HopChain chain) {
    HopChain previous = CURRENT.get();
    CURRENT.set(chain);
    return previous;
  }

  /** Puts back the chain {@link #enter} returned. */
  static void restore(HopChain previous) {
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

  /** Returns how many functions the chain names. */
  int size() {
    return functions.length;
  }

  String function(int i) {
    return functions[i];
  }

  int count(int i) {
    return counts[i];
  }

  static HopChain of(String[] functions, int[] counts) {
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
