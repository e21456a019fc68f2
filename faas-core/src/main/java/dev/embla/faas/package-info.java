/**
 * Embla's public API: build one {@link dev.embla.faas.FaasEngine}, register functions with a
 * {@link dev.embla.faas.FunctionConfig} and {@link dev.embla.faas.FunctionCode}, invoke them, and connect event sources.
 * Everything under {@code dev.embla.faas.internal} is implementation and may change without notice.
 */
package dev.embla.faas;
