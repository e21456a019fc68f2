/**
 * The {@code nodejs} runtime on GraalJS: {@link dev.embla.faas.polyglot.js.JsRuntimeProvider} and the execution
 * environments, event loop, CommonJS loader and sandbox file system behind it.
 *
 * <p>Plugged in through the runtime SPI only; it must not touch faas-core's internals.
 */
package dev.embla.faas.polyglot.js;
