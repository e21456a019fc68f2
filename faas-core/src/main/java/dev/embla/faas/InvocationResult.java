package dev.embla.faas;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one synchronous invocation: the response payload, or a {@link FunctionError}, with the figures of
 * its {@code REPORT} line.
 *
 * @since 0.1
 */
public final class InvocationResult {

  private final String requestId;
  private final String executedVersion;
  private final byte[] payload;
  private final FunctionError error;
  private final long durationNanos;
  private final long initDurationNanos;
  private final int maxMemoryUsedMb;

  /**
   * Creates a result; engines create these, callers read them.
   *
   * @param requestId the invocation's request id
   * @param executedVersion the version that ran
   * @param payload the response bytes; for an error, its JSON document
   * @param error the function error, or null on success
   * @param durationNanos how long the handler ran
   * @param initDurationNanos how long Init ran when this invocation was a cold start, else -1
   * @param maxMemoryUsedMb the memory figure of the REPORT line
   */
  public InvocationResult(String requestId, String executedVersion, byte[] payload, FunctionError error,
      long durationNanos, long initDurationNanos, int maxMemoryUsedMb) {
    this.requestId = Objects.requireNonNull(requestId, "requestId");
    this.executedVersion = Objects.requireNonNull(executedVersion, "executedVersion");
    this.payload = Objects.requireNonNull(payload, "payload");
    this.error = error;
    this.durationNanos = durationNanos;
    this.initDurationNanos = initDurationNanos;
    this.maxMemoryUsedMb = maxMemoryUsedMb;
  }

  /** Returns the invocation's request id. */
  public String requestId() {
    return requestId;
  }

  /** Returns the version that ran, {@code $LATEST} or a published version. */
  public String executedVersion() {
    return executedVersion;
  }

  /** Returns the response bytes (for an error, Lambda's error JSON); the array is not copied, do not modify it. */
  public byte[] payload() {
    return payload;
  }

  /** Returns the response as UTF-8 text. */
  public String payloadAsString() {
    return new String(payload, StandardCharsets.UTF_8);
  }

  /** Returns true if the function failed. */
  public boolean isError() {
    return error != null;
  }

  /** Returns the function error, if the function failed. */
  public Optional<FunctionError> error() {
    return Optional.ofNullable(error);
  }

  /** Returns how long the handler ran. */
  public Duration duration() {
    return Duration.ofNanos(durationNanos);
  }

  /** Returns the duration rounded up to the next millisecond, as Lambda bills it. */
  public Duration billedDuration() {
    return Duration.ofMillis(billedMillis(durationNanos));
  }

  /** Returns how long Init ran, when this invocation was a cold start. */
  public Optional<Duration> initDuration() {
    return initDurationNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(initDurationNanos));
  }

  /** Returns true if this invocation created its execution environment. */
  public boolean isColdStart() {
    return initDurationNanos >= 0;
  }

  /** Returns the {@code Max Memory Used} figure of the REPORT line, in megabytes. */
  public int maxMemoryUsedMb() {
    return maxMemoryUsedMb;
  }

  /** Returns {@code nanos} rounded up to whole milliseconds, at least 1. */
  static long billedMillis(long nanos) {
    return Math.max(1, (nanos + 999_999) / 1_000_000);
  }

  @Override
  public String toString() {
    return "InvocationResult{requestId=" + requestId + (error == null ? ", payload=" + payloadAsString()
        : ", error=" + error.errorType() + ": " + error.errorMessage()) + ", duration=" + duration() + "}";
  }
}
