package dev.embla.faas.spi.source;

import java.util.Objects;

/**
 * The outcome of one invocation made for an event source.
 *
 * @param requestId the invocation's request id
 * @param succeeded whether the function returned normally
 * @param payload the response bytes, or the error JSON in Lambda's shape when it did not succeed
 * @param errorType the error type when it did not succeed (for example {@code Sandbox.Timedout}), else null
 * @since 0.1
 */
public record InvocationOutcome(String requestId, boolean succeeded, byte[] payload, String errorType) {

  /** Validates the components. */
  public InvocationOutcome {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(payload, "payload");
  }
}
