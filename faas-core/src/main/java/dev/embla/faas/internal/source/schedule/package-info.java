/**
 * The built-in schedule source: EventBridge {@code rate(...)} and {@code cron(...)} expressions, fired through the
 * engine's timers on the engine's clock. It invokes only through its {@link dev.embla.faas.spi.source.SourceContext}.
 */
package dev.embla.faas.internal.source.schedule;
