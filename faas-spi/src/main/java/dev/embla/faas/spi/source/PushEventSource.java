package dev.embla.faas.spi.source;

/**
 * A source that invokes its function itself when an event happens: HTTP, schedules, object stores, topics.
 *
 * @since 0.1
 */
public non-sealed interface PushEventSource extends EventSource {

  /**
   * Starts producing events. Called once, when the source is connected to a function.
   *
   * @param context how to invoke the function and where time comes from
   */
  void start(SourceContext context);
}
