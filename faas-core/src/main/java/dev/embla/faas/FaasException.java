package dev.embla.faas;

/**
 * The root of every exception the engine throws. Subclasses exist only where a caller acts differently.
 *
 * @since 0.1
 */
public class FaasException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public FaasException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public FaasException(String message, Throwable cause) {
    super(message, cause);
  }
}
