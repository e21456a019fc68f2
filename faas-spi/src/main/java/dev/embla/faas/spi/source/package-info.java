/**
 * The event-source SPI. A {@link dev.embla.faas.spi.source.PushEventSource} invokes its function when an event
 * happens (HTTP, schedule, object store, topic); a {@link dev.embla.faas.spi.source.PullEventSource} is polled by the
 * engine's event source mapping, which batches, acknowledges and retries (queue, stream, change stream).
 */
package dev.embla.faas.spi.source;
