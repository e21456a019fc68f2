package dev.embla.faas.spi.source;

import java.time.Duration;
import java.util.List;

/**
 * A source that the engine polls: queues, streams, change streams. The engine's event source mapping receives
 * batches, turns each into one event with {@link #toEvent}, invokes the function, then {@link #acknowledge}s the
 * records that succeeded and {@link #release}s the ones that failed. A record must not be lost before it was
 * acknowledged: a source that holds records in flight makes them available again after its own visibility timeout.
 *
 * <p>Calls come from the mapping's polling thread, one at a time per mapping.
 *
 * @since 0.1
 */
public non-sealed interface PullEventSource extends EventSource {

  /**
   * Receives up to {@code maxRecords} records, waiting up to {@code maxWait} for the first one.
   *
   * <p>While a batching window is open the mapping calls this again and may be given a record it already holds (its
   * visibility timeout expired): it keeps one record per {@link SourceRecord#id() id} in a batch, the one received
   * last, and settles only that one.
   *
   * @return the records, possibly empty; never null
   * @throws InterruptedException if the polling thread is interrupted (the mapping is stopping)
   */
  List<SourceRecord> receive(int maxRecords, Duration maxWait) throws InterruptedException;

  /**
   * Builds the event the function receives for one batch, as JSON bytes, for example SQS's {@code {"Records":[...]}}.
   */
  byte[] toEvent(List<SourceRecord> batch);

  /** Marks records as processed: a queue deletes them, a stream advances its checkpoint. */
  void acknowledge(List<SourceRecord> records);

  /**
   * Gives records back after a failed invocation: a queue makes them visible again after its visibility timeout, a
   * stream retries from the first of them.
   *
   * @param records the records that failed
   * @param reason what failed, for the source's own records (a dead-letter reason, say)
   */
  void release(List<SourceRecord> records, String reason);

  /** Sets the engine's clock for this source's own timers; called once before the first {@link #receive}. */
  default void start(SourceContext context) {}
}
