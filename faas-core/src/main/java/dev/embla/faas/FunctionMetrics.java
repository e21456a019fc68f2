package dev.embla.faas;

/**
 * A snapshot of one function's scaling figures, read without stopping it: what runs now, what is provisioned and
 * used, and what was throttled, started cold or stopped as a recursive loop since the function was created.
 *
 * @param functionName the function's name
 * @param concurrentExecutions invocations running now
 * @param environments execution environments alive now, busy or idle
 * @param provisionedConcurrency provisioned environments initialised and ready (see
 *     {@link FaasEngine#putProvisionedConcurrency(String, int)})
 * @param provisionedInUse invocations running now in provisioned environments (a function with
 *     {@link FunctionConfig#maxConcurrencyPerEnvironment()} above 1 runs up to that many in each)
 * @param throttles invocations refused with {@link TooManyRequestsException}
 * @param coldStarts invocations that had to create and initialise an environment
 * @param recursiveInvocationsDropped events that recursive loop detection stopped before they reached the function
 *     (Lambda's {@code RecursiveInvocationsDropped}): asynchronous events, and messages of a queue connected to it,
 *     that would have run it for the 17th time in one chain of events (at least once: a queue message whose
 *     delete fails comes back and is stopped, and counted, again)
 * @since 0.1
 */
public record FunctionMetrics(
    String functionName,
    int concurrentExecutions,
    int environments,
    int provisionedConcurrency,
    int provisionedInUse,
    long throttles,
    long coldStarts,
    long recursiveInvocationsDropped) {

  /**
   * Returns the share of provisioned concurrency in use now, 0 to 1 (Lambda's
   * {@code ProvisionedConcurrencyUtilization}): invocations in provisioned environments over provisioned
   * environments, capped at 1 (so for a function that runs several invocations per environment it reaches 1 once
   * there are as many invocations as environments); 0 when nothing is provisioned.
   */
  public double provisionedUtilization() {
    return provisionedConcurrency == 0 ? 0 : Math.min(1.0, (double) provisionedInUse / provisionedConcurrency);
  }
}
