package dev.embla.faas.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waits for a condition that another thread makes true, with a bound, instead of sleeping for a guessed time. */
public final class Await {

  /** The bound tests use unless they assert a tighter one. */
  public static final Duration DEFAULT = Duration.ofSeconds(10);

  private Await() {}

  /** Waits until {@code condition} holds, failing with {@code what} if it does not within {@link #DEFAULT}. */
  public static void until(String what, BooleanSupplier condition) {
    until(what, DEFAULT, condition);
  }

  /** Waits until {@code condition} holds, failing with {@code what} if it does not within {@code timeout}. */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }
}
