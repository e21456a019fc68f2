package dev.embla.faas;

import java.util.Objects;

/**
 * An invocation was throttled: a concurrency limit or the environment memory budget left no room for it (Lambda's
 * {@code TooManyRequestsException}). A synchronous caller gets it at once, before any environment is created; retry
 * later, or raise the limit that {@link #reason()} names.
 *
 * @since 0.1
 */
public class TooManyRequestsException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Which limit throttled the invocation; {@link #code()} is the name Lambda gives it. */
  public enum Reason {
    /** The function's reserved concurrency is in use ({@code ReservedFunctionConcurrentInvocationLimitExceeded}). */
    RESERVED_FUNCTION_CONCURRENT_INVOCATION_LIMIT_EXCEEDED("ReservedFunctionConcurrentInvocationLimitExceeded"),
    /**
     * The engine's unreserved concurrency (its concurrency limit minus every function's reserved and provisioned
     * concurrency) is in use ({@code ConcurrentInvocationLimitExceeded}).
     */
    CONCURRENT_INVOCATION_LIMIT_EXCEEDED("ConcurrentInvocationLimitExceeded"),
    /**
     * A new execution environment would not fit in the engine's environment memory budget, even after shutting down
     * the idle environments of other functions and versions ({@code EnvironmentMemoryBudgetExceeded}; Embla's own
     * reason, since Lambda's capacity is not bounded by one heap).
     */
    ENVIRONMENT_MEMORY_BUDGET_EXCEEDED("EnvironmentMemoryBudgetExceeded");

    private final String code;

    Reason(String code) {
      this.code = code;
    }

    /** Returns the reason as Lambda spells it, for example {@code ConcurrentInvocationLimitExceeded}. */
    public String code() {
      return code;
    }
  }

  private final Reason reason;

  /**
   * Creates the exception.
   *
   * @param reason which limit was hit
   * @param message what was throttled, naming the limit and its figures
   */
  public TooManyRequestsException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Returns which limit was hit. */
  public Reason reason() {
    return reason;
  }
}
