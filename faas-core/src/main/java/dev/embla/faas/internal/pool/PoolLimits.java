package dev.embla.faas.internal.pool;

import dev.embla.faas.internal.concurrency.ConcurrencyControl;
import dev.embla.faas.internal.concurrency.ConcurrencySettings;
import dev.embla.faas.internal.concurrency.FunctionConcurrency;
import dev.embla.faas.internal.concurrency.MemoryBudget;

/**
 * What the concurrency gate asks of a pool: the function's gate, the memory budget its environments reserve from, and
 * how many invocations one environment may run at once.
 *
 * @param concurrency the function's gate (permits, throttle and cold-start counts)
 * @param memory the engine's environment memory budget
 * @param memoryMb what one environment of this revision reserves: the function's memory size
 * @param maxConcurrencyPerEnvironment 1, or more for a function that declared itself safe for concurrent invocations
 */
public record PoolLimits(FunctionConcurrency concurrency, MemoryBudget memory, int memoryMb,
    int maxConcurrencyPerEnvironment) {

  /** Limits that never throttle, one invocation per environment; for pools built outside an engine. */
  public static PoolLimits unlimited(String functionName) {
    return new PoolLimits(new ConcurrencyControl(ConcurrencySettings.unlimited()).function(functionName),
        MemoryBudget.unlimited(), 0, 1);
  }
}
