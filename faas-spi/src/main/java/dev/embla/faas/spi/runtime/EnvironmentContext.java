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

  /**
   * Returns the environment's log stream name in Lambda's format, {@code yyyy/MM/dd/[version]} followed by 32 hex
   * digits (for example {@code 2026/01/01/[$LATEST]0f3a...}): dated when the environment was created, the same for
   * its whole life, different for every environment. A runtime shows it to the function as Lambda does (the
   * context's log stream name, {@code AWS_LAMBDA_LOG_STREAM_NAME}).
   */
  String logStreamName();

  /** Returns the environment's private, writable {@code /tmp} directory; deleted after Shutdown. */
  Path tmpDirectory();

  /**
   * Returns the sink for the function's own output (standard output, standard error, its logger): lines written
   * during an invocation land in that invocation's log, lines written during Init or Shutdown in the environment's.
   */
  FunctionOutput output();
}
