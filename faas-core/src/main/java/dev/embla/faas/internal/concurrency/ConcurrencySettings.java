package dev.embla.faas.internal.concurrency;

/**
 * The engine's concurrency settings, validated.
 *
 * @param limit how many invocations may run at once in the engine
 * @param unreservedFloor how much of {@code limit} reservations must leave unreserved
 * @param memoryBudgetMb how many megabytes all live environments may reserve together
 */
public record ConcurrencySettings(int limit, int unreservedFloor, long memoryBudgetMb) {

  /** Lambda's default account concurrency limit. */
  public static final int DEFAULT_LIMIT = 1000;
  /** Lambda's minimum unreserved concurrency. */
  public static final int DEFAULT_FLOOR = 100;
  /** The default environment memory budget, as a share of the maximum heap. */
  public static final double DEFAULT_MEMORY_SHARE = 0.5;

  /**
   * Applies the defaults to what the builder was given (null when unset).
   *
   * @throws IllegalArgumentException if the floor is above the limit
   */
  public static ConcurrencySettings of(Integer limit, Integer floor, Long memoryBudgetMb, Double memoryShare) {
    int l = limit == null ? DEFAULT_LIMIT : limit;
    int f;
    if (floor == null) {
      // Lambda's 100 against a limit of 1000; a small limit keeps a tenth, so reservations stay possible.
      f = Math.min(DEFAULT_FLOOR, Math.max(1, l / 10));
    } else if (floor > l) {
      throw new IllegalArgumentException(
          "unreservedConcurrencyFloor must be at most concurrencyLimit " + l + ", was " + floor);
    } else {
      f = floor;
    }
    long mb = memoryBudgetMb != null ? memoryBudgetMb
        : Math.max(1, (long) (Runtime.getRuntime().maxMemory()
            * (memoryShare == null ? DEFAULT_MEMORY_SHARE : memoryShare) / (1024 * 1024)));
    return new ConcurrencySettings(l, f, mb);
  }

  /** Settings that never throttle; for pools built outside an engine (tests). */
  public static ConcurrencySettings unlimited() {
    return new ConcurrencySettings(Integer.MAX_VALUE / 2, 0, Long.MAX_VALUE / 4);
  }
}
