package dev.embla.faas.spi.source;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One record of a {@link PullEventSource}: a queue message, a stream record.
 *
 * @param id the record's id within its source, for example an SQS message id or a stream sequence number
 * @param body the record's body
 * @param attributes source-specific attributes (receive count, partition key), for {@link PullEventSource#toEvent}
 * @param timestamp when the source accepted the record
 * @since 0.1
 */
public record SourceRecord(String id, byte[] body, Map<String, String> attributes, Instant timestamp) {

  /** Validates the components and copies the attributes. */
  public SourceRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(timestamp, "timestamp");
    attributes = Map.copyOf(attributes);
  }
}
