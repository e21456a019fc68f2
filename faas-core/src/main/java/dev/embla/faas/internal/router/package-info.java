/**
 * Connects event sources to functions: starts push sources, runs an event source mapping (poll, batch, invoke,
 * acknowledge or release) per pull source, and owns the timers sources schedule on the engine's clock. It invokes
 * only through {@link dev.embla.faas.internal.router.Invoker} and never touches the pool or the registry.
 */
package dev.embla.faas.internal.router;
