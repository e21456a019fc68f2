package dev.embla.faas.cli;

/**
 * The command line itself is wrong (a missing or unknown option, a value that does not parse): the user gets the
 * message and the usage text, and exit code {@value Main#EXIT_USAGE}.
 */
final class UsageException extends Exception {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names the option and the bad value. */
  UsageException(String message) {
    super(message);
  }
}
