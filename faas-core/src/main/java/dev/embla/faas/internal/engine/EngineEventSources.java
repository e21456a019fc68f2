package dev.embla.faas.internal.engine;

import dev.embla.faas.BatchOptions;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.spi.source.EventSource;
import java.time.Clock;
import java.util.function.BiFunction;

/** Placeholder until the event router lands. */
final class EngineEventSources {
  EngineEventSources(Clock clock, BiFunction<String, byte[], InvocationResult> invoker) {}

  EventSourceConnection connect(EventSource source, String functionRef, BatchOptions options) {
    throw new UnsupportedOperationException("event sources are not wired yet");
  }

  void close() {}
}
