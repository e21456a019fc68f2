package dev.embla.faas.spi.runtime;

/**
 * One version of a function, prepared by a {@link RuntimeProvider}: the factory of its execution environments.
 *
 * @since 0.1
 */
public interface PreparedFunction {

  /**
   * Creates a new, uninitialised execution environment. Must be cheap: the expensive work belongs in
   * {@link ExecutionEnvironment#init}, which runs under the function's init timeout.
   *
   * @param context what the engine gives this environment (its id, private {@code /tmp}, its log)
   */
  ExecutionEnvironment newEnvironment(EnvironmentContext context);

  /**
   * Returns whether this version's environments parse every payload as exactly one JSON document and report one that
   * is not JSON (or has content after the document) as a {@link FunctionFailure} of kind
   * {@link FunctionFailure.Kind#BAD_PAYLOAD}. The engine then skips its own syntax check before each invocation and
   * checks only the payloads the runtime rejected, so that invalid JSON is still reported to the caller as invalid
   * request content. Runtimes that hand the raw bytes to the function (stream handlers) must return false.
   */
  default boolean checksPayloadSyntax() {
    return false;
  }

  /** Called when the version is retired and its last environment has shut down. */
  default void close() {}
}
