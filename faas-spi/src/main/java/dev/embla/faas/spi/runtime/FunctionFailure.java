package dev.embla.faas.spi.runtime;

import java.util.List;
import java.util.Objects;

/**
 * A failure of the function's own code, thrown by a runtime and reported to the caller in Lambda's error shape
 * ({@code errorType}, {@code errorMessage}, {@code stackTrace}). Not for failures of the runtime itself.
 *
 * @since 0.1
 */
public final class FunctionFailure extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Which phase failed, so that the engine can report and recover differently. */
  public enum Kind {
    /** Init failed (static initialiser, constructor, module top level, missing handler); the environment is discarded. */
    INIT,
    /** The handler threw; the environment stays usable, as in Lambda. */
    HANDLER,
    /** The payload could not be mapped to the handler's input type; the handler did not run. */
    BAD_PAYLOAD,
    /** The function tried to end the process (System.exit, Runtime.halt); the environment is discarded. */
    EXIT
  }

  private final Kind kind;
  private final String errorType;
  private final String errorMessage;
  private final List<String> stackTrace;

  /**
   * Creates a failure.
   *
   * @param kind which phase failed
   * @param errorType the guest's error type, for example {@code java.lang.IllegalStateException} or {@code TypeError}
   * @param errorMessage the guest's message, possibly empty
   * @param stackTrace the guest's frames, outermost last
   * @param cause the host-side cause, if any
   */
  public FunctionFailure(
      Kind kind, String errorType, String errorMessage, List<String> stackTrace, Throwable cause) {
    super(errorType + ": " + errorMessage, cause, false, false);
    this.kind = Objects.requireNonNull(kind, "kind");
    this.errorType = Objects.requireNonNull(errorType, "errorType");
    this.errorMessage = errorMessage == null ? "" : errorMessage;
    this.stackTrace = List.copyOf(stackTrace);
  }

  /** Returns which phase failed. */
  public Kind kind() {
    return kind;
  }

  /** Returns the guest's error type. */
  public String errorType() {
    return errorType;
  }

  /** Returns the guest's error message. */
  public String errorMessage() {
    return errorMessage;
  }

  /** Returns the guest's stack frames. */
  public List<String> stackTraceLines() {
    return stackTrace;
  }
}
