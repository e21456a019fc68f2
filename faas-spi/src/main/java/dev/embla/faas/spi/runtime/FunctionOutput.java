package dev.embla.faas.spi.runtime;

/**
 * Where a runtime sends the function's own output. Thread-safe.
 *
 * @since 0.1
 */
public interface FunctionOutput {

  /** Which stream a line came from. */
  enum Stream {
    /** Standard output, {@code console.log}, {@code print}. */
    STDOUT,
    /** Standard error, {@code console.error}. */
    STDERR,
    /** The function's logger from its {@link dev.embla.faas.spi.Context}. */
    LOGGER
  }

  /** Records one line (without its line terminator) written by the function. */
  void line(Stream stream, String line);
}
