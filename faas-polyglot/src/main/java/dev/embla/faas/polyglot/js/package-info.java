/**
 * The {@code nodejs} runtime on GraalJS: {@link dev.embla.faas.polyglot.js.JsRuntimeProvider} and the execution
 * environments, event loop and CommonJS loader behind it. Its file system is
 * {@link dev.embla.faas.polyglot.SandboxFileSystem}, shared with the Python runtime.
 *
 * <p>Plugged in through the runtime SPI only; it must not touch faas-core's internals.
 */
package dev.embla.faas.polyglot.js;
