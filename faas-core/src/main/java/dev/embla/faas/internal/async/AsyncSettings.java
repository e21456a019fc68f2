package dev.embla.faas.internal.async;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of the asynchronous queue, as validated by {@link dev.embla.faas.FaasEngine.Builder}.
 *
 * @param storeDirectory where the queue's RocksDB lives; null for {@code <workDirectory>/async-events}
 * @param maxQueuedEvents the most events accepted and not yet finished; more are refused
 * @param dispatchers how many threads deliver events
 * @param syncWrites whether every write is fsync'ed (survives power loss, costs a disk flush per write)
 * @param maxPayloadBytes the largest asynchronous payload (Lambda: 256 KB)
 * @param backoffBase the delay before the first retry, before jitter
 * @param backoffCap the longest delay between retries, before jitter
 */
public record AsyncSettings(
    Path storeDirectory,
    int maxQueuedEvents,
    int dispatchers,
    boolean syncWrites,
    int maxPayloadBytes,
    Duration backoffBase,
    Duration backoffCap) {

  /** The defaults: 100,000 events, 2 dispatchers, no fsync, 256 KB, 1 s backoff doubling up to 5 minutes. */
  public static AsyncSettings defaults(Path storeDirectory) {
    return new AsyncSettings(storeDirectory, 100_000, 2, false, 256 * 1024, Duration.ofSeconds(1),
        Duration.ofMinutes(5));
  }
}
