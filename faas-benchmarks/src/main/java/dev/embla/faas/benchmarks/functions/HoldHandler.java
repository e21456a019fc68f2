package dev.embla.faas.benchmarks.functions;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.RequestHandler;

/**
 * Holds its environment for the given number of milliseconds, so that concurrent calls need one environment each, and
 * returns {@code [entered, left]}: {@link System#nanoTime()} when the handler started and when it returned. The burst
 * driver runs in the same JVM, so it can tell when each environment became ready (the handler's entry) and subtract
 * the time the handler itself held the call (the sleep's real length, not the one asked for) from each latency.
 */
public class HoldHandler implements RequestHandler<Integer, long[]> {

  /** Sleeps {@code millis} and returns when it started and ended, in {@code System.nanoTime()}. */
  @Override
  public long[] handle(Integer millis, Context context) {
    long entered = System.nanoTime();
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return new long[] {entered, System.nanoTime()};
  }
}
