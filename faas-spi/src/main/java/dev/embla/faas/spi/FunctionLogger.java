package dev.embla.faas.spi;

/**
 * A function's log: each call appends to the log of the current invocation, tagged with its request id. Mirrors
 * Lambda's {@code LambdaLogger}.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface FunctionLogger {

  /** Appends {@code message} to the invocation's log. */
  void log(String message);

  /** Appends the UTF-8 text in {@code message} to the invocation's log. */
  default void log(byte[] message) {
    log(new String(message, java.nio.charset.StandardCharsets.UTF_8));
  }
}
