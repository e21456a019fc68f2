package dev.embla.faas;

/**
 * The function already exists, or the operation conflicts with its current state (Lambda's {@code ResourceConflictException}).
 *
 * @since 0.1
 */
public class ResourceConflictException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names what was wrong. */
  public ResourceConflictException(String message) {
    super(message);
  }

  /** Creates the exception with a message that names what was wrong, and its cause. */
  public ResourceConflictException(String message, Throwable cause) {
    super(message, cause);
  }
}
