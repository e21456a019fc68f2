/**
 * The {@code embla} command line: parses arguments, runs one invocation in an embedded engine and maps the outcome to
 * an exit code. It uses the engine's public API only ({@code dev.embla.faas}), never its internals.
 */
package dev.embla.faas.cli;
