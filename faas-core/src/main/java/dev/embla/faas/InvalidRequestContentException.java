package dev.embla.faas;

/**
 * The invocation payload is not valid JSON (Lambda's {@code InvalidRequestContentException}).
 *
 * @since 0.1
 */
public class InvalidRequestContentException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names what was wrong. */
  public InvalidRequestContentException(String message) {
    super(message);
  }

  /** Creates the exception with a message that names what was wrong, and its cause. */
  public InvalidRequestContentException(String message, Throwable cause) {
    super(message, cause);
  }
}
