package dev.embla.faas.internal.router;

import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.spi.source.PushEventSource;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** A push source connected to a function: the source invokes through its context, this only counts and closes. */
final class PushConnection extends Connection<PushEventSource> {

  private final Consumer<EventSourceConnection> onClose;
  private final AtomicBoolean closed = new AtomicBoolean();

  PushConnection(String id, PushEventSource source, RouterSourceContext context,
      Consumer<EventSourceConnection> onClose) {
    super(id, source, context);
    this.onClose = onClose;
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
