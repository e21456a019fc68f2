package dev.embla.faas.benchmarks.trace;

import dev.embla.faas.Ticker;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** The replay's clock: a ticker and wall clock that move only when the driver sets them. */
final class SimulatedTime extends Clock implements Ticker {

  private static final Instant ORIGIN = Instant.parse("2019-07-15T00:00:00Z");
  private volatile long nanos;

  void set(long nanos) {
    this.nanos = nanos;
  }

  @Override
  public long read() {
    return nanos;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("simulated time is UTC only");
  }

  @Override
  public Instant instant() {
    return ORIGIN.plusNanos(nanos);
  }
}
