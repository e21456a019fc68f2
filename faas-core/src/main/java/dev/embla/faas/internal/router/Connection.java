package dev.embla.faas.internal.router;

import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.spi.source.EventSource;

/** What every connection holds: its id, its source, and the source context that counts its invocations. */
abstract class Connection<S extends EventSource> implements EventSourceConnection {

  final String id;
  final S source;
  final RouterSourceContext context;

  Connection(String id, S source, RouterSourceContext context) {
    this.id = id;
    this.source = source;
    this.context = context;
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
}
