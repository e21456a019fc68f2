package dev.embla.faas;

/**
 * {@link FaasEngine#invokeAsync} found the engine's queue of asynchronous events at its capacity; the event was not
 * accepted. A caller backs off and tries again, or raises the capacity
 * ({@link FaasEngine.Builder#maxQueuedAsyncEvents}). The engine never drops an accepted event to make room.
 *
 * @since 0.1
 */
public class AsyncQueueFullException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names the capacity. */
  public AsyncQueueFullException(String message) {
    super(message);
  }
}
