package dev.embla.faas.benchmarks.functions;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.RequestHandler;

/** Holds its environment for the given number of milliseconds, so that concurrent calls need one environment each. */
public class HoldHandler implements RequestHandler<Integer, Integer> {

  /** Sleeps {@code millis} and returns it. */
  @Override
  public Integer handle(Integer millis, Context context) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return millis;
  }
}
