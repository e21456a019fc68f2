/**
 * The built-in in-memory queue, a pull source with SQS's delivery semantics (visibility timeout, delete on success,
 * redelivery after failure). It knows nothing of functions: the router's event source mapping polls it. It only
 * keeps a sender's recursion guard chain with each message, for that mapping.
 */
package dev.embla.faas.internal.source.queue;
