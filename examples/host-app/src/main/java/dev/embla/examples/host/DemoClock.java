package dev.embla.examples.host;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A UTC wall clock that stands still until {@link #advance} moves it. Given to
 * {@code FaasEngine.builder().clock(...)}, it lets a demo or a test show minutes of schedule time, or a visibility
 * timeout expiring, without waiting for them in real time.
 *
 * <p>Only wall-clock time is affected: schedules, visibility timeouts and timestamps follow it, while invocation
 * durations, deadlines and keep-alive run on the engine's monotonic {@code Ticker}. The engine is not told when the
 * clock moves; its timer thread re-reads the clock at least every 20 ms of real time, so whoever advances it should
 * wait (in real time) for what that move is expected to cause.
 *
 * <p>Thread-safe: the engine's threads read the clock while the demo advances it.
 *
 * @since 0.1
 */
public final class DemoClock extends Clock {

  private final AtomicReference<Instant> now;

  /**
   * Creates a clock that reads {@code start} until it is advanced.
   *
   * @param start the first reading
   */
  public DemoClock(Instant start) {
    this.now = new AtomicReference<>(Objects.requireNonNull(start, "start"));
  }

  /**
   * Moves the clock forward.
   *
   * @param amount how far; zero or positive, since schedules and timeouts assume wall time does not run backwards
   * @return the new reading
   */
  public Instant advance(Duration amount) {
    Objects.requireNonNull(amount, "amount");
    if (amount.isNegative()) {
      throw new IllegalArgumentException("a demo clock only moves forward, not by " + amount);
    }
    return now.updateAndGet(t -> t.plus(amount));
  }

  /** Returns the current reading. */
  @Override
  public Instant instant() {
    return now.get();
  }

  /** Returns UTC, the only zone this clock has. */
  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /**
   * Returns this clock for UTC. Other zones are refused: the engine reads instants only, so a zoned view of the same
   * hand-moved time would be code no demo needs.
   *
   * @throws UnsupportedOperationException for any zone other than UTC
   */
  @Override
  public Clock withZone(ZoneId zone) {
    if (ZoneOffset.UTC.equals(Objects.requireNonNull(zone, "zone").normalized())) {
      return this;
    }
    throw new UnsupportedOperationException("a demo clock is UTC only, not " + zone);
  }

  @Override
  public String toString() {
    return "DemoClock[" + instant() + "]";
  }
}
