/**
 * The function registry: functions, their versions, and their code packages (validated, unpacked and identified by
 * SHA-256). It knows nothing about environments or invocations.
 */
package dev.embla.faas.internal.registry;
