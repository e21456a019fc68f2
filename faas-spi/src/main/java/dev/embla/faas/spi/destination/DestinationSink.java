package dev.embla.faas.spi.destination;

import java.util.Map;

/**
 * A receiver of the records an asynchronous invocation produces: Lambda's destination record (JSON, {@code version}
 * {@code "1.0"}, with {@code requestContext}, {@code requestPayload}, {@code responseContext} and
 * {@code responsePayload}) for an on-success or on-failure destination, or the original event for a dead-letter
 * target.
 *
 * <p>The engine calls {@link #deliver} from its dispatcher threads, possibly from several at once, so an
 * implementation must be thread-safe. It should return quickly: a dispatcher does not take the next event while a
 * sink holds it. An exception is caught, logged with the record, and not retried.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface DestinationSink {

  /**
   * Receives one record.
   *
   * @param body the record: a destination record as UTF-8 JSON, or, for a dead-letter target, the event's payload as
   *     it was accepted
   * @param attributes for a dead-letter message Lambda's message attributes {@code RequestID}, {@code ErrorCode} and
   *     {@code ErrorMessage}; empty for a destination record (its fields carry the same facts)
   * @throws Exception if the record could not be taken; the engine logs it
   */
  void deliver(byte[] body, Map<String, String> attributes) throws Exception;
}
