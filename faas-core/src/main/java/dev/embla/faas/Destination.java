package dev.embla.faas;

import dev.embla.faas.spi.destination.DestinationSink;
import java.util.Objects;

/**
 * Where the outcome of an asynchronous invocation goes: another function (invoked asynchronously with the record as
 * its event), an {@link InMemoryQueue} (the record as a message body), or a {@link DestinationSink}. Used by
 * {@link EventInvokeConfig} for the on-success and on-failure destinations and the dead-letter target.
 *
 * @since 0.1
 */
public final class Destination {

  /** What a destination sends to. */
  public enum Type {
    /** Another function, invoked asynchronously. */
    FUNCTION,
    /** An {@link InMemoryQueue}. */
    QUEUE,
    /** A {@link DestinationSink}. */
    SINK
  }

  private final Type type;
  private final String name;
  private final InMemoryQueue queue;
  private final DestinationSink sink;

  private Destination(Type type, String name, InMemoryQueue queue, DestinationSink sink) {
    this.type = type;
    this.name = name;
    this.queue = queue;
    this.sink = sink;
  }

  /**
   * Returns a destination that invokes a function asynchronously with the record as its event.
   *
   * @param functionRef {@code name} or {@code name:qualifier}; checked when a record is sent, not now
   */
  public static Destination function(String functionRef) {
    Objects.requireNonNull(functionRef, "functionRef");
    if (functionRef.isBlank()) {
      throw new IllegalArgumentException("functionRef must not be blank");
    }
    return new Destination(Type.FUNCTION, functionRef, null, null);
  }

  /** Returns a destination that sends the record to a queue as one message. */
  public static Destination queue(InMemoryQueue queue) {
    Objects.requireNonNull(queue, "queue");
    return new Destination(Type.QUEUE, queue.name(), queue, null);
  }

  /**
   * Returns a destination that hands the record to a sink.
   *
   * @param name a name for logs and {@link #toString()}
   */
  public static Destination sink(String name, DestinationSink sink) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(sink, "sink");
    return new Destination(Type.SINK, name, null, sink);
  }

  /** Returns what this destination sends to. */
  public Type type() {
    return type;
  }

  /** Returns the function reference, the queue's name, or the sink's name. */
  public String name() {
    return name;
  }

  /** Returns the queue of a {@link Type#QUEUE} destination, else null. */
  public InMemoryQueue queue() {
    return queue;
  }

  /** Returns the sink of a {@link Type#SINK} destination, else null. */
  public DestinationSink sink() {
    return sink;
  }

  @Override
  public String toString() {
    return type.name().toLowerCase(java.util.Locale.ROOT) + ":" + name;
  }
}
