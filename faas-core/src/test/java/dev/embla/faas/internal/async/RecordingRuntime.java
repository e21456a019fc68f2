package dev.embla.faas.internal.async;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;

/** A runtime ({@code recording}) whose functions hand each invocation's request id to a consumer and echo. */
final class RecordingRuntime implements RuntimeProvider {

  private final Consumer<String> delivered;

  RecordingRuntime(Consumer<String> delivered) {
    this.delivered = delivered;
  }

  @Override
  public Set<String> runtimes() {
    return Set.of("recording");
  }

  @Override
  public PreparedFunction prepare(FunctionDefinition definition) {
    return context -> new ExecutionEnvironment() {
      @Override
      public void init() {}

      @Override
      public byte[] invoke(byte[] payload, Context ctx) {
        delivered.accept(ctx.getAwsRequestId());
        return payload;
      }

      @Override
      public void cancel() {}

      @Override
      public void shutdown(Duration bound) {}
    };
  }
}
