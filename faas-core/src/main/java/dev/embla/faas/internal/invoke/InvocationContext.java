package dev.embla.faas.internal.invoke;

import dev.embla.faas.Ticker;
import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.FunctionLogger;
import dev.embla.faas.spi.runtime.FunctionOutput;

/** The {@link Context} of one invocation. Valid only while that invocation runs. */
final class InvocationContext implements Context {

  private final String requestId;
  private final String functionName;
  private final String version;
  private final String arn;
  private final int memoryMb;
  private final long deadlineNanos;
  private final Ticker ticker;
  private final FunctionOutput output;

  InvocationContext(String requestId, String functionName, String version, String arn, int memoryMb,
      long deadlineNanos, Ticker ticker, FunctionOutput output) {
    this.requestId = requestId;
    this.functionName = functionName;
    this.version = version;
    this.arn = arn;
    this.memoryMb = memoryMb;
    this.deadlineNanos = deadlineNanos;
    this.ticker = ticker;
    this.output = output;
  }

  @Override
  public String getAwsRequestId() {
    return requestId;
  }

  @Override
  public String getFunctionName() {
    return functionName;
  }

  @Override
  public String getFunctionVersion() {
    return version;
  }

  @Override
  public String getInvokedFunctionArn() {
    return arn;
  }

  @Override
  public int getMemoryLimitInMB() {
    return memoryMb;
  }

  @Override
  public int getRemainingTimeInMillis() {
    long left = deadlineNanos - ticker.read();
    return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, left / 1_000_000);
  }

  @Override
  public FunctionLogger getLogger() {
    return message -> output.line(FunctionOutput.Stream.LOGGER, message);
  }

  @Override
  public String toString() {
    return "Context{requestId=" + requestId + ", function=" + functionName + ":" + version + "}";
  }
}
