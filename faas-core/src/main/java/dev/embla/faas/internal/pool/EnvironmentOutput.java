package dev.embla.faas.internal.pool;

import dev.embla.faas.spi.runtime.FunctionOutput;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * Sends a function's own output to its SLF4J logger, tagged in the MDC with the request id of the invocation that is
 * running in the environment (or none during Init and Shutdown), so that output lands in that invocation's log and
 * not interleaved with the host's standard streams.
 */
public final class EnvironmentOutput implements FunctionOutput {

  /** The MDC key of the current request id, as Lambda's log4j integration names it. */
  public static final String MDC_REQUEST_ID = "AWSRequestId";
  /** The MDC key of the function name. */
  public static final String MDC_FUNCTION = "functionName";

  private final Logger log;
  private final String functionName;
  // Written by the invoking thread, read by it and (racily, for tagging only) by threads the function started: a
  // plain field, because a volatile write here would be two store fences on every warm invocation.
  private String requestId;
  private final long maxBytesPerInvocation;
  // Plain fields, racy when threads the function started write too: the cap is a flood guard, not an exact count.
  private long written;
  private boolean truncated;
  // Several invocations write at once into a shared environment (maxConcurrencyPerEnvironment > 1): a line is then
  // tagged only by the writing thread's own MDC, which the invoking thread carries; the cap counts per environment.
  private final boolean shared;

  /** Creates an output logging to {@code log}. */
  public EnvironmentOutput(Logger log, String functionName, long maxBytesPerInvocation) {
    this(log, functionName, maxBytesPerInvocation, false);
  }

  /**
   * Creates an output logging to {@code log}; {@code shared} for an environment that runs several invocations at
   * once, whose lines are tagged by the writing thread's request id only.
   */
  public EnvironmentOutput(Logger log, String functionName, long maxBytesPerInvocation, boolean shared) {
    this.shared = shared;
    this.log = log;
    this.functionName = functionName;
    this.maxBytesPerInvocation = maxBytesPerInvocation;
  }

  /** Sets the request id of the invocation now running, or null. */
  public void requestId(String id) {
    if (shared) {
      if (id != null) {
        written = 0; // racy with the other invocations: a flood guard, not an exact count
        truncated = false;
      }
      return;
    }
    this.requestId = id;
    if (id != null) {
      written = 0;
      truncated = false;
    }
  }

  @Override
  public void line(Stream stream, String line) {
    if (!log.isInfoEnabled()) {
      return;
    }
    if (written + line.length() > maxBytesPerInvocation) {
      if (!truncated) {
        truncated = true;
        log.warn("function output truncated: more than {} bytes in one invocation; the rest is dropped",
            maxBytesPerInvocation);
      }
      return;
    }
    written += line.length();
    String rid = requestId;
    String previous = MDC.get(MDC_REQUEST_ID);
    boolean tag = rid != null && !rid.equals(previous);
    if (tag) {
      // A line from a thread the function started, or from another engine thread: tag it here.
      MDC.put(MDC_REQUEST_ID, rid);
      MDC.put(MDC_FUNCTION, functionName);
    }
    try {
      // Lambda puts standard output, standard error and the function's logger into one log stream; so do we.
      log.info("{}", line);
    } finally {
      if (tag) {
        if (previous == null) {
          MDC.remove(MDC_REQUEST_ID);
          MDC.remove(MDC_FUNCTION);
        } else {
          MDC.put(MDC_REQUEST_ID, previous);
        }
      }
    }
  }
}
