package dev.embla.faas.internal.pool;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Names the log streams of one revision's execution environments as Lambda does: {@code yyyy/MM/dd/[version]} and 32
 * hex digits, dated (UTC) by the engine's clock when the environment is created. Every runtime shows this name, so a
 * function reads the same shape whatever its language.
 *
 * <p>The digits are random rather than derived from the environment's id: ids restart with every engine, and an
 * environment must not be given the name of one from an earlier run. They name a stream, not a secret, so
 * {@link ThreadLocalRandom} is enough, and keeps {@code SecureRandom}'s seeding off the cold-start path.
 */
public final class LogStreamNames {

  private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("uuuu/MM/dd");
  private static final HexFormat HEX = HexFormat.of();

  private final Clock clock;
  private final String version;

  /** Names streams of environments running {@code version} ({@code $LATEST} or a number), dated by {@code clock}. */
  public LogStreamNames(Clock clock, String version) {
    this.clock = clock;
    this.version = version;
  }

  /** Returns a new environment's stream name: fixed now, written out when first asked for. */
  Name next() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new Name(clock.instant(), version, random.nextLong(), random.nextLong());
  }

  /**
   * One environment's stream name. Formatting a date costs about a microsecond, which a cold start should not pay
   * for a name most functions never read, so only the instant and the digits are taken when the environment is made.
   */
  static final class Name {
    private final Instant created;
    private final String version;
    private final long high;
    private final long low;
    private volatile String text;

    private Name(Instant created, String version, long high, long low) {
      this.created = created;
      this.version = version;
      this.high = high;
      this.low = low;
    }

    @Override
    public String toString() {
      String t = text;
      if (t == null) {
        // Racing threads write equal strings: the unsynchronised publication is harmless.
        text = t = format(LocalDate.ofInstant(created, ZoneOffset.UTC), version, high, low);
      }
      return t;
    }
  }

  static String format(LocalDate date, String version, long high, long low) {
    return DATE.format(date) + "/[" + version + "]" + HEX.toHexDigits(high) + HEX.toHexDigits(low);
  }
}
