package dev.embla.faas;

import dev.embla.faas.spi.source.EventSource;

/**
 * An event source connected to a function by {@link FaasEngine#connect}. Closing it stops the source (and, for a pull
 * source, its polling) and leaves unacknowledged records in the source.
 *
 * @since 0.1
 */
public interface EventSourceConnection extends AutoCloseable {

  /** Returns the connection's id, unique within the engine. */
  String id();

  /** Returns the connected source. */
  EventSource source();

  /** Returns the function reference events go to. */
  String functionRef();

  /** Returns how many invocations this connection has made that succeeded. */
  long succeeded();

  /** Returns how many invocations this connection has made that failed. */
  long failed();

  /** Disconnects the source. Idempotent. */
  @Override
  void close();
}
