package dev.embla.faas;

/**
 * A source of monotonic nanoseconds, injected so that keep-alive, deadlines and durations can be tested without
 * sleeping.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface Ticker {

  /** Returns the current reading in nanoseconds; only differences between readings are meaningful. */
  long read();

  /** Returns the ticker backed by {@link System#nanoTime()}. */
  static Ticker system() {
    return System::nanoTime;
  }
}
