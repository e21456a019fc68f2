package dev.embla.faas.internal.router;

import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.spi.source.EventSource;
import dev.embla.faas.spi.source.PushEventSource;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** A push source connected to a function: the source invokes through its context, this only counts and closes. */
final class PushConnection implements EventSourceConnection {

  private final String id;
  private final PushEventSource source;
  private final RouterSourceContext context;
  private final Consumer<EventSourceConnection> onClose;
  private final AtomicBoolean closed = new AtomicBoolean();

  PushConnection(String id, PushEventSource source, RouterSourceContext context,
      Consumer<EventSourceConnection> onClose) {
    this.id = id;
    this.source = source;
    this.context = context;
    this.onClose = onClose;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public EventSource source() {
    return source;
  }

  @Override
  public String functionRef() {
    return context.functionRef();
  }

  @Override
  public long succeeded() {
    return context.succeeded();
  }

  @Override
  public long failed() {
    return context.failed();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // Closing the context first means a timer that fires while the source closes does nothing.
    context.close();
    try {
      source.close();
    } catch (RuntimeException e) {
      context.reportFailure("close failed", e);
    }
    onClose.accept(this);
  }

  @Override
  public String toString() {
    return "EventSourceConnection{id=" + id + ", source=" + source.describe() + ", function=" + functionRef() + "}";
  }
}
