package dev.embla.faas.internal.async;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A runtime ({@code host}) whose functions call {@link #code} on the invocation's thread, as a function calls into an
 * API its host gave it (which may send to a queue or invoke asynchronously), then answer {@code "ok"}.
 */
final class HostCallRuntime implements RuntimeProvider {

  /** Host code a function calls into. */
  @FunctionalInterface
  interface HostCode {
    void call(String function, String payload);
  }

  /** What the functions call; set by the test once the engine it calls exists. */
  volatile HostCode code = (function, payload) -> {};

  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  /** Returns how many times {@code function} ran. */
  int runs(String function) {
    AtomicInteger n = runs.get(function);
    return n == null ? 0 : n.get();
  }

  @Override
  public Set<String> runtimes() {
    return Set.of("host");
  }

  @Override
  public PreparedFunction prepare(FunctionDefinition definition) {
    String function = definition.functionName();
    return context -> new ExecutionEnvironment() {
      @Override
      public void init() {}

      @Override
      public byte[] invoke(byte[] payload, Context ctx) {
        runs.computeIfAbsent(function, f -> new AtomicInteger()).incrementAndGet();
        code.call(function, new String(payload, StandardCharsets.UTF_8));
        return "\"ok\"".getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public void cancel() {}

      @Override
      public void shutdown(Duration bound) {}
    };
  }
}
