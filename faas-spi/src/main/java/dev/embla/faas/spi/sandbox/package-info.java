/**
 * Support for bytecode that the Java runtime rewrites when it defines a function's classes: preemption polls at loop
 * back-edges and method entries, and redirections of process-wide calls ({@code System.exit}, {@code System.getenv},
 * {@code System.out}, shutdown hooks, file names under {@code /tmp}) to the function's own execution environment.
 * Function code never calls this package directly; it is visible to functions only because rewritten classes must
 * link against it.
 */
package dev.embla.faas.spi.sandbox;
