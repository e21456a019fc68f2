package dev.embla.faas.benchmarks.trace;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A runtime ({@code replay}) whose environments do nothing but count their Init phases, so that a trace replay
 * measures the engine's pool and keep-alive rather than a language runtime.
 */
final class NoopRuntime implements RuntimeProvider {

  /** Every Init run, whether for an invocation (a cold start) or a pre-warm. */
  final AtomicLong inits = new AtomicLong();

  @Override
  public Set<String> runtimes() {
    return Set.of("replay");
  }

  @Override
  public PreparedFunction prepare(FunctionDefinition definition) {
    return context -> new ExecutionEnvironment() {
      @Override
      public void init() {
        inits.incrementAndGet();
      }

      @Override
      public byte[] invoke(byte[] payload, Context ctx) {
        return payload;
      }

      @Override
      public void cancel() {}

      @Override
      public void shutdown(Duration bound) {}
    };
  }
}
