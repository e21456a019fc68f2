package dev.embla.faas.internal.router;

import dev.embla.faas.InvocationResult;

/**
 * The engine's synchronous invoke, as the router sees it. Kept to one abstract method so that the router can be tested
 * with a lambda and never depends on the engine's other parts.
 */
@FunctionalInterface
public interface Invoker {

  /**
   * Invokes a function synchronously and waits for its result.
   *
   * @param functionRef the function reference, for example {@code hello} or {@code hello:live}
   * @param payload the event as JSON bytes
   * @return the result; a function error is a result, not an exception
   * @throws dev.embla.faas.FaasException if the invocation could not be made (function not found, engine closed,
   *     throttled); the router treats it as a failed invocation
   */
  InvocationResult invoke(String functionRef, byte[] payload);

  /**
   * Told when a mapping deletes messages that recursive loop detection stopped, so that the function's metrics count
   * them; does nothing unless the engine overrides it.
   *
   * @param functionName the function the messages would have run (its name, without alias or version)
   * @param events how many messages were stopped
   */
  default void recursionStopped(String functionName, int events) {}
}
