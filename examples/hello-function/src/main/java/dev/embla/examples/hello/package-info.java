/**
 * An example function package, written as a Lambda author writes one: handler classes compiled against the SPI alone,
 * their own dependencies bundled under {@code lib/}. It knows nothing of the engine that runs it.
 */
package dev.embla.examples.hello;
