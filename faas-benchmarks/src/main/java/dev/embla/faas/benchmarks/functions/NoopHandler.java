package dev.embla.faas.benchmarks.functions;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.RequestHandler;

/** The no-op function of the benchmarks: returns its input. Packaged into a function directory at setup. */
public class NoopHandler implements RequestHandler<String, String> {

  /** Returns {@code input}. */
  @Override
  public String handle(String input, Context context) {
    return input;
  }
}
