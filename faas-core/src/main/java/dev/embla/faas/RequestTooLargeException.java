package dev.embla.faas;

/**
 * The invocation payload is larger than the engine's limit (Lambda's {@code RequestTooLargeException}).
 *
 * @since 0.1
 */
public class RequestTooLargeException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names what was wrong. */
  public RequestTooLargeException(String message) {
    super(message);
  }

  /** Creates the exception with a message that names what was wrong, and its cause. */
  public RequestTooLargeException(String message, Throwable cause) {
    super(message, cause);
  }
}
