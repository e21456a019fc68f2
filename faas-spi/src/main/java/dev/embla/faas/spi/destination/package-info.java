/**
 * Where the engine sends the outcome of an asynchronous invocation: a {@link
 * dev.embla.faas.spi.destination.DestinationSink} receives Lambda's destination records (on success, on failure) or a
 * dead-letter message, as bytes. JDK only, so a sink can be written without depending on the engine.
 */
package dev.embla.faas.spi.destination;
