package dev.embla.faas.spi.runtime;

import java.nio.file.Path;

/**
 * What the engine gives one execution environment.
 *
 * @since 0.1
 */
public interface EnvironmentContext {

  /** Returns the environment's id, unique within the engine. */
  String environmentId();

  /** Returns the environment's private, writable {@code /tmp} directory; deleted after Shutdown. */
  Path tmpDirectory();

  /**
   * Returns the sink for the function's own output (standard output, standard error, its logger): lines written
   * during an invocation land in that invocation's log, lines written during Init or Shutdown in the environment's.
   */
  FunctionOutput output();
}
