package dev.embla.faas;

import java.time.Duration;
import java.util.Objects;

/**
 * How an event source mapping batches records from a pull source, as Lambda's event source mappings do.
 *
 * @param batchSize the most records per invocation, 1 to 10000
 * @param maxBatchingWindow how long to wait to fill a batch, 0 to 300 seconds
 * @since 0.1
 */
public record BatchOptions(int batchSize, Duration maxBatchingWindow) {

  /** Validates the components. */
  public BatchOptions {
    if (batchSize < 1 || batchSize > 10_000) {
      throw new InvalidConfigurationException("batchSize must be 1..10000, was " + batchSize);
    }
    Objects.requireNonNull(maxBatchingWindow, "maxBatchingWindow");
    if (maxBatchingWindow.isNegative() || maxBatchingWindow.compareTo(Duration.ofSeconds(300)) > 0) {
      throw new InvalidConfigurationException("maxBatchingWindow must be 0..300 seconds, was " + maxBatchingWindow);
    }
  }

  /** Returns Lambda's defaults for queues: batches of up to 10 records, no batching window. */
  public static BatchOptions defaults() {
    return new BatchOptions(10, Duration.ZERO);
  }
}
