package dev.embla.faas;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How a function's asynchronous invocations are retried and where their outcomes go, as Lambda's
 * {@code PutFunctionEventInvokeConfig}: {@code MaximumRetryAttempts} (0 to 2, default 2),
 * {@code MaximumEventAgeInSeconds} (60 to 21,600, default 21,600), an on-success and an on-failure
 * {@link Destination}, and, where Lambda has it in the function's {@code DeadLetterConfig}, a dead-letter target.
 *
 * <p>A failed invocation (the function's error, a timeout, an Init failure) is retried up to
 * {@code maximumRetryAttempts} times; a throttled one is retried without counting against them, as in Lambda. An
 * event older than {@code maximumEventAge} is not invoked again. An event that is given up on goes to the on-failure
 * destination (a destination record) and to the dead-letter target (the event itself); a success goes to the
 * on-success destination.
 *
 * @since 0.1
 */
public final class EventInvokeConfig {

  /** The default and largest number of retries, as in Lambda. */
  public static final int MAX_RETRY_ATTEMPTS = 2;
  /** The smallest maximum event age, as in Lambda. */
  public static final Duration MIN_EVENT_AGE = Duration.ofSeconds(60);
  /** The default and largest maximum event age, as in Lambda: 6 hours. */
  public static final Duration MAX_EVENT_AGE = Duration.ofSeconds(21_600);

  private static final EventInvokeConfig DEFAULTS = builder().build();

  private final int maximumRetryAttempts;
  private final Duration maximumEventAge;
  private final Destination onSuccess;
  private final Destination onFailure;
  private final Destination deadLetter;

  private EventInvokeConfig(Builder b) {
    this.maximumRetryAttempts = b.maximumRetryAttempts == null ? MAX_RETRY_ATTEMPTS : b.maximumRetryAttempts;
    this.maximumEventAge = b.maximumEventAge == null ? MAX_EVENT_AGE : b.maximumEventAge;
    this.onSuccess = b.onSuccess;
    this.onFailure = b.onFailure;
    this.deadLetter = b.deadLetter;
  }

  /** Returns Lambda's defaults: 2 retries, 6 hours, no destinations. */
  public static EventInvokeConfig defaults() {
    return DEFAULTS;
  }

  /** Returns a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns how many times a failed invocation is retried, 0 to 2. */
  public int maximumRetryAttempts() {
    return maximumRetryAttempts;
  }

  /** Returns the age past which an event is no longer invoked. */
  public Duration maximumEventAge() {
    return maximumEventAge;
  }

  /** Returns where a success's record goes. */
  public Optional<Destination> onSuccess() {
    return Optional.ofNullable(onSuccess);
  }

  /** Returns where the record of an event given up on goes. */
  public Optional<Destination> onFailure() {
    return Optional.ofNullable(onFailure);
  }

  /** Returns where an event given up on goes, as its original payload with Lambda's dead-letter attributes. */
  public Optional<Destination> deadLetter() {
    return Optional.ofNullable(deadLetter);
  }

  @Override
  public String toString() {
    return "EventInvokeConfig{maximumRetryAttempts=" + maximumRetryAttempts + ", maximumEventAge=" + maximumEventAge
        + ", onSuccess=" + onSuccess + ", onFailure=" + onFailure + ", deadLetter=" + deadLetter + "}";
  }

  /** Builds an {@link EventInvokeConfig}. Each setter validates its argument and may be called once. */
  public static final class Builder {
    private Integer maximumRetryAttempts;
    private Duration maximumEventAge;
    private Destination onSuccess;
    private Destination onFailure;
    private Destination deadLetter;

    private Builder() {}

    /** Sets how many times a failed invocation is retried, 0 to 2. Default: 2. */
    public Builder maximumRetryAttempts(int attempts) {
      requireUnset("maximumRetryAttempts", maximumRetryAttempts);
      if (attempts < 0 || attempts > MAX_RETRY_ATTEMPTS) {
        throw new InvalidConfigurationException(
            String.format(Locale.ROOT, "maximumRetryAttempts must be 0..2, was %d", attempts));
      }
      this.maximumRetryAttempts = attempts;
      return this;
    }

    /** Sets the age past which an event is not invoked again, 60 seconds to 6 hours, whole seconds. Default: 6 h. */
    public Builder maximumEventAge(Duration age) {
      requireUnset("maximumEventAge", maximumEventAge);
      Objects.requireNonNull(age, "maximumEventAge");
      if (age.compareTo(MIN_EVENT_AGE) < 0 || age.compareTo(MAX_EVENT_AGE) > 0 || age.toNanos() % 1_000_000_000L != 0) {
        throw new InvalidConfigurationException(String.format(Locale.ROOT,
            "maximumEventAge must be 60..21600 whole seconds, was %s", age));
      }
      this.maximumEventAge = age;
      return this;
    }

    /** Sets where a success's destination record goes. */
    public Builder onSuccess(Destination destination) {
      requireUnset("onSuccess", onSuccess);
      this.onSuccess = Objects.requireNonNull(destination, "onSuccess");
      return this;
    }

    /** Sets where the destination record of an event given up on goes. */
    public Builder onFailure(Destination destination) {
      requireUnset("onFailure", onFailure);
      this.onFailure = Objects.requireNonNull(destination, "onFailure");
      return this;
    }

    /** Sets where an event given up on goes as its original payload (Lambda's dead-letter queue). */
    public Builder deadLetter(Destination destination) {
      requireUnset("deadLetter", deadLetter);
      this.deadLetter = Objects.requireNonNull(destination, "deadLetter");
      return this;
    }

    /** Returns the configuration. */
    public EventInvokeConfig build() {
      return new EventInvokeConfig(this);
    }

    private static void requireUnset(String name, Object current) {
      if (current != null) {
        throw new IllegalStateException(String.format(Locale.ROOT, "%s was already set to %s", name, current));
      }
    }
  }
}
