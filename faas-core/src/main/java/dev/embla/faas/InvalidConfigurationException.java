package dev.embla.faas;

/**
 * A function's configuration is invalid; the message names the field and the bad value (Lambda's {@code InvalidParameterValueException}).
 *
 * @since 0.1
 */
public class InvalidConfigurationException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names what was wrong. */
  public InvalidConfigurationException(String message) {
    super(message);
  }

  /** Creates the exception with a message that names what was wrong, and its cause. */
  public InvalidConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
