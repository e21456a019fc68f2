/**
 * Asynchronous invocations (Lambda's {@code InvocationType=Event}): the durable queue of accepted events (RocksDB),
 * the dispatcher threads that deliver them through the engine's ordinary invoke path with retries and backoff, the
 * destination records of their outcomes, and the recursion guard's checks (its chain is
 * {@code internal.recursion.HopChain}). It does not touch pools or environments: it only calls the engine's invoke.
 */
package dev.embla.faas.internal.async;
