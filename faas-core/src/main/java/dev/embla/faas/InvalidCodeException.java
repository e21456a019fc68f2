package dev.embla.faas;

/**
 * A code package is unusable: not a zip, a path escaping the package, over a size limit, a zip bomb, unreadable (Lambda's {@code InvalidZipFileException} and {@code CodeStorageExceededException}).
 *
 * @since 0.1
 */
public class InvalidCodeException extends FaasException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names what was wrong. */
  public InvalidCodeException(String message) {
    super(message);
  }

  /** Creates the exception with a message that names what was wrong, and its cause. */
  public InvalidCodeException(String message, Throwable cause) {
    super(message, cause);
  }
}
