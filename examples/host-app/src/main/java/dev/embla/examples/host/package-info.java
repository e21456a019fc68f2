/**
 * An example host application: how a backend embeds the engine, registers a function package, invokes it and
 * connects event sources. It uses the engine's public API and the event-source SPI only.
 */
package dev.embla.examples.host;
