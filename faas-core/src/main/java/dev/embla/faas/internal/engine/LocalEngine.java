package dev.embla.faas.internal.engine;

import dev.embla.faas.BatchOptions;
import dev.embla.faas.EventSourceConnection;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionInfo;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.spi.source.EventSource;
import dev.embla.faas.spi.source.PullEventSource;
import java.util.List;

/** Placeholder engine; replaced as the engine lands. */
public final class LocalEngine implements FaasEngine {
  public LocalEngine(EngineSettings settings) {}

  @Override public FunctionInfo createFunction(FunctionConfig config, FunctionCode code) { throw new UnsupportedOperationException(); }
  @Override public FunctionInfo updateFunctionCode(String functionName, FunctionCode code) { throw new UnsupportedOperationException(); }
  @Override public FunctionInfo updateFunctionConfiguration(FunctionConfig config) { throw new UnsupportedOperationException(); }
  @Override public FunctionInfo getFunction(String functionName) { throw new UnsupportedOperationException(); }
  @Override public List<FunctionInfo> listFunctions() { throw new UnsupportedOperationException(); }
  @Override public void deleteFunction(String functionName) { throw new UnsupportedOperationException(); }
  @Override public InvocationResult invoke(String functionRef, byte[] payload) { throw new UnsupportedOperationException(); }
  @Override public EventSourceConnection connect(EventSource source, String functionRef) { throw new UnsupportedOperationException(); }
  @Override public EventSourceConnection connect(PullEventSource source, String functionRef, BatchOptions options) { throw new UnsupportedOperationException(); }
  @Override public void close() {}
}
