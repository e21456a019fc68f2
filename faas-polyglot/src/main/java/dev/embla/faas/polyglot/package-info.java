/**
 * The GraalVM runtimes, plugged into the engine as {@link dev.embla.faas.spi.runtime.RuntimeProvider}s through the
 * runtime SPI: {@code nodejs} on GraalJS in {@link dev.embla.faas.polyglot.js} and {@code python3} on GraalPy in
 * {@link dev.embla.faas.polyglot.python}. This package holds what both share: the sandbox file system and the engine
 * set-up.
 *
 * <p>This module owns every GraalVM type in Embla; it must not touch faas-core's internals.
 */
package dev.embla.faas.polyglot;
