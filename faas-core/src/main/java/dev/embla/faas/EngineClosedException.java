package dev.embla.faas;

/**
 * The engine has been closed, or is closing, and takes no new work.
 *
 * @since 0.1
 */
public class EngineClosedException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names what was wrong. */
  public EngineClosedException(String message) {
    super(message);
  }

  /** Creates the exception with a message that names what was wrong, and its cause. */
  public EngineClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
