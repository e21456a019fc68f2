package dev.embla.faas.spi;

/**
 * Implemented by a handler class that wants to release resources when its execution environment shuts down (after
 * the keep-alive expires, after a code update, or when the engine closes). Called once, on an engine thread, with
 * the function's class loader as context class loader, and bounded to two seconds.
 *
 * <p>Functions written for Lambda may instead register {@code Runtime.getRuntime().addShutdownHook(thread)}; Embla
 * runs such threads at the environment's Shutdown as well, under the same bound.
 *
 * @since 0.1
 */
public interface ShutdownHook {

  /** Releases the environment's resources. Exceptions are logged and otherwise ignored. */
  void onShutdown() throws Exception;
}
