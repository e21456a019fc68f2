/**
 * Execution environments and their pools: where an invocation waits for (or creates) an environment, how idle ones
 * are kept warm most-recently-used first, and when they are shut down. The pool never runs function code itself.
 */
package dev.embla.faas.internal.pool;
