/**
 * The {@code java21} runtime: one class loader per execution environment over a function's unpacked code, class bytes
 * rewritten once per version (preemption polls, redirected {@code System.exit}, {@code getenv}, standard streams and
 * shutdown hooks) and payloads mapped with Jackson. It must never let function code see the host's or the engine's
 * classes, and never touches the pool, the router or the engine's threads: the engine calls it through the runtime SPI.
 */
package dev.embla.faas.internal.java;
