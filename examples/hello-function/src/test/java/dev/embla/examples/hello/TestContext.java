package dev.embla.examples.hello;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.FunctionLogger;
import java.util.ArrayList;
import java.util.List;

/** A context for calling handlers directly; it keeps what the handler logged. */
final class TestContext implements Context {

  final List<String> log = new ArrayList<>();

  @Override public String getAwsRequestId() { return "req-1"; }
  @Override public String getFunctionName() { return "hello"; }
  @Override public String getFunctionVersion() { return "$LATEST"; }
  @Override public String getInvokedFunctionArn() { return "arn:embla:function:hello"; }
  @Override public int getMemoryLimitInMB() { return 128; }
  @Override public int getRemainingTimeInMillis() { return 3000; }
  @Override public FunctionLogger getLogger() { return log::add; }
}
