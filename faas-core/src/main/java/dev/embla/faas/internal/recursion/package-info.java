/**
 * Lambda's recursive loop detection, shared by the parts of the engine that carry events: {@code HopChain}, the count
 * per function of how often the chain of events behind an event has run it, which the asynchronous queue stores with
 * each event, the in-memory queue keeps with each message, and event source mappings and dispatchers check and pass on
 * to what an invocation produces.
 */
package dev.embla.faas.internal.recursion;
