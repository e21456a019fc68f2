package dev.embla.faas.spi.runtime;

import java.util.Set;

/**
 * A language runtime: {@code java21} on isolated class loaders, {@code nodejs} and {@code python3} on GraalVM, or a
 * plugin's own. Found through {@link java.util.ServiceLoader} or registered with the engine's builder; implementations
 * need a public no-argument constructor when loaded as services.
 *
 * <p>Implementations must be thread-safe: the engine prepares versions and creates environments from many threads.
 *
 * @since 0.1
 */
public interface RuntimeProvider {

  /** Returns the runtime identifiers this provider serves, for example {@code java21}. */
  Set<String> runtimes();

  /**
   * Prepares one immutable version of a function: validates the handler string against the code and does the work
   * every environment would otherwise repeat (parsing, bytecode transformation). Called once per version, before any
   * environment of it is created.
   *
   * @param definition the version's code and configuration
   * @return the prepared version
   * @throws FunctionFailure with {@link FunctionFailure.Kind#INIT} if the code or handler is unusable
   */
  PreparedFunction prepare(FunctionDefinition definition);

  /**
   * Starts the runtime's language ahead of the first function, so that no invocation pays for it: GraalPy's first
   * context of a process takes seconds, later ones tens of milliseconds. Called by the engine when it is built, for
   * the runtimes the host names with {@code FaasEngine.Builder#warmUpRuntime}; returns once the runtime is warm. Must be
   * idempotent and thread-safe. The default does nothing, for runtimes that start fast.
   *
   * @since 0.1
   */
  default void warmUp() {}

  /**
   * Returns how many invocations one execution environment of this runtime can run at once, for functions that ask
   * for more than one ({@code maxConcurrencyPerEnvironment}); the engine refuses a function that asks for more. A
   * runtime that returns more than 1 must accept concurrent {@link ExecutionEnvironment#invoke} calls on one
   * environment from different threads. The default, 1, suits runtimes whose guest is single-threaded (a GraalVM
   * JavaScript or Python context).
   *
   * @since 0.1
   */
  default int maxConcurrencyPerEnvironment() {
    return 1;
  }

  /** Releases what the provider holds across all versions; called once when the engine closes. */
  default void close() {}
}
