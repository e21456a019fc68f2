package dev.embla.faas.internal.async;

import dev.embla.faas.InvocationResult;

/**
 * The engine as the asynchronous queue sees it: its ordinary invoke, the ARN of a function for records, and the
 * function metrics that count what recursive loop detection stopped.
 */
public interface AsyncTarget {

  /**
   * Invokes a function synchronously under {@code requestId}.
   *
   * @throws dev.embla.faas.FunctionNotFoundException if the function is not (or no longer, or not yet) registered
   * @throws dev.embla.faas.EngineClosedException if the engine is closing
   * @throws dev.embla.faas.FaasException if the invocation could not be made (a throttle, for one)
   */
  InvocationResult invoke(String functionRef, byte[] payload, String requestId);

  /**
   * Returns the ARN of a function reference, as destination records carry it.
   *
   * @throws dev.embla.faas.FunctionNotFoundException if there is no such function
   */
  String functionArn(String functionRef);

  /** Counts one event that recursive loop detection stopped before it reached {@code functionName}. */
  void recursionStopped(String functionName);
}
