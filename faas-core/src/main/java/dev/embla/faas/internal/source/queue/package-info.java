/**
 * The built-in in-memory queue, a pull source with SQS's delivery semantics (visibility timeout, delete on success,
 * redelivery after failure). It knows nothing of functions: the router's event source mapping polls it.
 */
package dev.embla.faas.internal.source.queue;
