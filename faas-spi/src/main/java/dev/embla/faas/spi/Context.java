package dev.embla.faas.spi;

import java.time.Duration;

/**
 * The invocation context handed to a function with each event: who it is, how much time it has left, and where its
 * log goes. It mirrors Lambda's {@code com.amazonaws.services.lambda.runtime.Context}; it grows only through
 * {@code default} methods, so functions compiled against an older version keep working.
 *
 * <p>A context is valid only during the invocation it was created for.
 *
 * @since 0.1
 */
public interface Context {

  /** Returns the unique id of this invocation, as printed in its {@code START}, {@code END} and {@code REPORT} lines. */
  String getAwsRequestId();

  /** Returns the name of the function being invoked. */
  String getFunctionName();

  /** Returns the version being executed: {@code $LATEST} or a published version number. */
  String getFunctionVersion();

  /** Returns the ARN-shaped identifier the function was invoked with, for example {@code arn:embla:function:hello:live}. */
  String getInvokedFunctionArn();

  /** Returns the memory configured for the function, in megabytes. */
  int getMemoryLimitInMB();

  /** Returns the time left before the invocation times out, in milliseconds; never negative. */
  int getRemainingTimeInMillis();

  /** Returns the time left before the invocation times out. */
  default Duration getRemainingTime() {
    return Duration.ofMillis(getRemainingTimeInMillis());
  }

  /** Returns the logger whose lines land in this invocation's log, tagged with its request id. */
  FunctionLogger getLogger();
}
