package dev.embla.faas.internal.invoke;

import dev.embla.faas.FunctionError;
import java.util.List;
import java.util.Locale;

/**
 * The rule that turns a function's memory size into the allocation budget of each of its phases (Init, and each
 * Invoke): memory size × factor bytes allocated on the invoking thread, or no budget when the factor is 0.
 *
 * <p>Why a multiple of the memory size rather than the memory size itself: what can be measured per invocation is
 * allocation, and allocation counts garbage. A function that parses a payload, maps it and answers allocates many
 * times what it keeps (see the README's "Limits" section for measured figures), so a budget equal to the memory size
 * would stop healthy functions.
 */
public final class AllocationBudget {

  /** The default factor. */
  public static final double DEFAULT_FACTOR = 4;
  /** The error type of a phase stopped over budget, as Lambda names a function that ran out of memory. */
  public static final String ERROR_TYPE = "Runtime.OutOfMemory";
  private static final long MB = 1024 * 1024;

  private final double factor;
  private final long bytesPerMb; // precomputed, so the warm path pays one multiplication

  /**
   * Creates the rule.
   *
   * @param factor the multiple of the memory size, 0 for no budget
   */
  public AllocationBudget(double factor) {
    if (!(factor >= 0) || Double.isInfinite(factor)) {
      throw new IllegalArgumentException("allocationBudgetFactor must be 0 (no budget) or a positive finite number, "
          + "was " + factor);
    }
    this.factor = factor;
    this.bytesPerMb = (long) (MB * factor);
  }

  /** Returns the multiple of the memory size; 0 for no budget. */
  public double factor() {
    return factor;
  }

  /** Returns the budget in bytes of one phase of a function of {@code memorySizeMb}, or 0 for none. */
  public long bytesFor(int memorySizeMb) {
    return memorySizeMb * bytesPerMb;
  }

  /** Returns the error of a phase stopped over budget after allocating {@code allocatedBytes}. */
  FunctionError exceeded(FunctionError.Kind kind, String phase, int memorySizeMb, long allocatedBytes) {
    return new FunctionError(kind, ERROR_TYPE, String.format(Locale.ROOT,
        "%s allocated %.1f MB on its thread, over its allocation budget of %d MB (memory size %d MB x allocation "
            + "budget factor %s); the execution environment was stopped",
        phase, allocatedBytes / (double) MB, bytesFor(memorySizeMb) / MB, memorySizeMb, factorText()), List.of());
  }

  private String factorText() {
    return factor == Math.rint(factor) ? Long.toString((long) factor) : Double.toString(factor);
  }
}
