package dev.embla.faas.internal.invoke;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids in Lambda's format (random UUIDs). {@link UUID#randomUUID()} draws from {@code SecureRandom}, which is
 * far too slow for the invocation path; request ids need to be unique, not unpredictable.
 */
public final class RequestIds {

  private RequestIds() {}

  /** Returns a new random request id in UUID form. */
  public static String next() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L; // version 4
    long lsb = (r.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48); // IETF variant
    return new UUID(msb, lsb).toString();
  }
}
