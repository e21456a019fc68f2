/**
 * The GraalVM runtimes ({@code nodejs} on GraalJS, {@code python3} on GraalPy), to be plugged into the engine as
 * {@link dev.embla.faas.spi.runtime.RuntimeProvider}s through the runtime SPI (issue 3). Empty until then, on purpose:
 * no stub pretends to run guest code.
 *
 * <p>This package owns every GraalVM type in Embla; it must not touch faas-core's internals.
 */
package dev.embla.faas.polyglot;
