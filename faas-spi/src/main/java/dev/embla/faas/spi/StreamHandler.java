package dev.embla.faas.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A function that reads the raw payload and writes the raw response itself, with no JSON mapping by the engine.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface StreamHandler {

  /**
   * Handles one event.
   *
   * @param input the invocation's payload bytes
   * @param output where the response bytes go; the engine closes it
   * @param context the invocation's context
   * @throws IOException if reading or writing fails; reported as a function error
   */
  void handle(InputStream input, OutputStream output, Context context) throws IOException;
}
