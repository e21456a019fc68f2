package dev.embla.faas.spi.source;

/**
 * Something that produces events for a function. Implement {@link PushEventSource} or {@link PullEventSource}.
 *
 * @since 0.1
 */
public sealed interface EventSource extends AutoCloseable permits PushEventSource, PullEventSource {

  /** Returns a short description for logs and metrics, for example {@code schedule rate(5 minutes)}. */
  String describe();

  /** Stops producing events and releases resources. Called once, when the source is disconnected. */
  @Override
  default void close() {}
}
