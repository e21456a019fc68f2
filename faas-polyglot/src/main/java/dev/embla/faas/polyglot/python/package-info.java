/**
 * The {@code python3} runtime on GraalPy: {@link dev.embla.faas.polyglot.python.PyRuntimeProvider}, the execution
 * environments behind it and their runtime layer ({@code bootstrap.py}, Lambda's handler, context, logging and error
 * shapes). Files go through {@link dev.embla.faas.polyglot.SandboxFileSystem}, shared with JavaScript.
 *
 * <p>Plugged in through the runtime SPI only; it must not touch faas-core's internals.
 */
package dev.embla.faas.polyglot.python;
