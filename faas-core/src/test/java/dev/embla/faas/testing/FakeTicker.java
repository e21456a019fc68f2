package dev.embla.faas.testing;

import dev.embla.faas.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ticker and wall clock that move only when a test advances them, so that keep-alive, schedules and retries are
 * tested without sleeping. Both views move together.
 */
public final class FakeTicker extends Clock implements Ticker {

  private final AtomicLong nanos = new AtomicLong();
  private final Instant origin;

  /** Starts at {@code origin} on the wall clock. */
  public FakeTicker(Instant origin) {
    this.origin = origin;
  }

  /** Starts at 2026-01-01T00:00:00Z. */
  public FakeTicker() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  /** Moves time forward. */
  public FakeTicker advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    return this;
  }

  @Override
  public long read() {
    return nanos.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("FakeTicker is UTC only");
  }

  @Override
  public Instant instant() {
    return origin.plusNanos(nanos.get());
  }
}
