/**
 * The runtime SPI: how a language runtime plugs into the engine. A {@link dev.embla.faas.spi.runtime.RuntimeProvider}
 * prepares a function's code once per version ({@link dev.embla.faas.spi.runtime.PreparedFunction}) and creates
 * {@link dev.embla.faas.spi.runtime.ExecutionEnvironment}s from it, each with Lambda's Init, Invoke and Shutdown phases.
 * Pooling, deadlines, logs and metrics stay in the engine.
 */
package dev.embla.faas.spi.runtime;
