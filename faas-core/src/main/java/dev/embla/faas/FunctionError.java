package dev.embla.faas;

import java.util.List;
import java.util.Objects;

/**
 * A function error in Lambda's shape: {@code {"errorType": ..., "errorMessage": ..., "stackTrace": [...]}}, plus the
 * {@link Kind} that tells a caller what went wrong without parsing strings.
 *
 * @param kind what failed
 * @param errorType the error's type: the guest exception's class or name, or {@code Sandbox.Timedout} for a timeout
 * @param errorMessage the error's message
 * @param stackTrace the guest's stack frames, possibly empty
 * @since 0.1
 */
public record FunctionError(Kind kind, String errorType, String errorMessage, List<String> stackTrace) {

  /** What failed. Each kind is a distinct outcome of {@link FaasEngine#invoke}. */
  public enum Kind {
    /** The handler threw. Lambda's {@code Unhandled} function error. */
    HANDLER,
    /** The function's Init phase failed (static initialiser, constructor, missing handler) or ran past its timeout. */
    INIT,
    /** The payload did not map to the handler's input type; the handler did not run. */
    BAD_PAYLOAD,
    /** The invocation ran past the function's timeout and was stopped. */
    TIMEOUT,
    /** The function tried to end the process ({@code System.exit}, {@code Runtime.halt}); the host kept running. */
    EXIT,
    /**
     * The invocation allocated more than its allocation budget (tied to the function's memory size; see
     * {@link FaasEngine.Builder#allocationBudgetFactor}) and was stopped; {@code errorType} is
     * {@code Runtime.OutOfMemory}, as in Lambda. A Java {@code OutOfMemoryError} the function hits itself is a
     * {@link #HANDLER} error instead.
     *
     * @since 0.1
     */
    OUT_OF_MEMORY,
    /**
     * The invocation failed outside the handler: the environment broke in a way the function did not report (a
     * runtime failure, an engine shutdown), or the engine refused the function's response as too large
     * ({@code Function.ResponseSizeTooLarge}, see {@link FaasEngine.Builder#maxResponseBytes}).
     */
    RUNTIME
  }

  /** Validates the components and copies the stack trace. */
  public FunctionError {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(errorType, "errorType");
    errorMessage = errorMessage == null ? "" : errorMessage;
    stackTrace = List.copyOf(stackTrace);
  }

  /** Returns the error as Lambda's JSON document. */
  public String toJson() {
    StringBuilder sb = new StringBuilder(128).append("{\"errorType\":");
    quote(sb, errorType).append(",\"errorMessage\":");
    quote(sb, errorMessage).append(",\"stackTrace\":[");
    for (int i = 0; i < stackTrace.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      quote(sb, stackTrace.get(i));
    }
    return sb.append("]}").toString();
  }

  private static StringBuilder quote(StringBuilder sb, String s) {
    // JSON string escaping is small and fixed, and keeping it here keeps this value type free of Jackson.
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }
}
