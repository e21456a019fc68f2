package dev.embla.faas;

import java.util.Objects;

/**
 * The receipt of an asynchronous invocation (Lambda's {@code InvocationType=Event}, status 202): the event was
 * validated and written to the engine's durable queue, and will be delivered to the function at least once.
 *
 * @param requestId the request id the function will see as {@code awsRequestId}, and the destination record as
 *     {@code requestContext.requestId}
 * @param functionRef the function reference the event was accepted for
 * @since 0.1
 */
public record AsyncInvocation(String requestId, String functionRef) {

  /** Validates the components. */
  public AsyncInvocation {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(functionRef, "functionRef");
  }
}
