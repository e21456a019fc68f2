package dev.embla.faas;

/**
 * No function, version or alias matches the reference given (Lambda's {@code ResourceNotFoundException}).
 *
 * @since 0.1
 */
public class FunctionNotFoundException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names what was wrong. */
  public FunctionNotFoundException(String message) {
    super(message);
  }

  /** Creates the exception with a message that names what was wrong, and its cause. */
  public FunctionNotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
