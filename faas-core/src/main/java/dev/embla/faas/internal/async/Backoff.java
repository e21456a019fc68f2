package dev.embla.faas.internal.async;

import java.time.Duration;

/**
 * Exponential backoff with jitter between attempts of an asynchronous event: the {@code n}-th retry waits
 * {@code d = min(cap, base * 2^(n-1))} scaled into {@code [d/2, d]} ("equal jitter"), so that events that failed
 * together do not all come back in the same instant, and no retry comes sooner than half its step.
 *
 * <p>The jitter is a hash of the request id and the retry number rather than a random draw: spread across events just
 * as well, and reproducible, so that tests on the injected clock know the exact due time.
 */
public final class Backoff {

  private final long baseMillis;
  private final long capMillis;

  /** Creates a backoff doubling from {@code base} up to {@code cap}. */
  public Backoff(Duration base, Duration cap) {
    this.baseMillis = Math.max(1, base.toMillis());
    this.capMillis = Math.max(baseMillis, cap.toMillis());
  }

  /** Returns the delay before retry {@code retry} (1 for the first retry) of the event {@code requestId}. */
  public long delayMillis(String requestId, int retry) {
    int shift = Math.min(Math.max(0, retry - 1), 40);
    long step = baseMillis > (capMillis >> shift) ? capMillis : Math.min(capMillis, baseMillis << shift);
    long half = step / 2;
    return step - half + Math.floorMod(mix(requestId.hashCode() * 31L + retry), half + 1);
  }

  private static long mix(long z) {
    // SplitMix64's finaliser: neighbouring inputs give unrelated outputs.
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
