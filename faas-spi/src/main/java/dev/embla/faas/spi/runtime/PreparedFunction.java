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

  /** Called when the version is retired and its last environment has shut down. */
  default void close() {}
}
