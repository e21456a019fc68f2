/**
 * The function registry: functions, their revisions ({@code $LATEST} and published versions), their aliases, the
 * routes that invocations resolve references through, and code packages (validated, unpacked and identified by
 * SHA-256). It knows nothing about environments or invocations.
 */
package dev.embla.faas.internal.registry;
