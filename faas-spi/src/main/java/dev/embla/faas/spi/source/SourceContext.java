package dev.embla.faas.spi.source;

import java.time.Clock;
import java.time.Instant;

/**
 * What the engine gives a connected event source: its function, its clock and timers, and a way to invoke.
 *
 * @since 0.1
 */
public interface SourceContext {

  /** Returns the function reference this source is connected to, for example {@code hello} or {@code hello:live}. */
  String functionRef();

  /** Returns the engine's clock; sources must take time from it, so that tests can drive them. */
  Clock clock();

  /**
   * Runs {@code task} once the engine's clock reaches {@code at}, on an engine thread.
   *
   * @return a handle that cancels the task if it has not started
   */
  Cancellable schedule(Instant at, Runnable task);

  /**
   * Invokes the function synchronously with one event.
   *
   * @param event the event as JSON bytes
   * @return the outcome; function errors are outcomes, not exceptions
   */
  InvocationOutcome invoke(byte[] event);

  /** Records a failure of the source itself (not of the function), logged once with the function's name. */
  void reportFailure(String message, Throwable cause);

  /** A scheduled task that can be cancelled. */
  @FunctionalInterface
  interface Cancellable {
    /** Cancels the task if it has not started. */
    void cancel();
  }
}
