package dev.embla.faas.internal.java;

import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import java.io.IOException;

/**
 * One version of a Java function: its code package with the cache of rewritten class bytes and the resolved handler.
 * Each {@link #newEnvironment} creates a fresh class loader over the same cached bytes.
 */
final class JavaPreparedFunction implements PreparedFunction {

  private final FunctionDefinition definition;
  private final CodePackage code;
  private final HandlerSpec spec;

  JavaPreparedFunction(FunctionDefinition definition, CodePackage code, HandlerSpec spec) {
    this.definition = definition;
    this.code = code;
    this.spec = spec;
  }

  @Override
  public JavaEnvironment newEnvironment(EnvironmentContext context) {
    return new JavaEnvironment(this, context);
  }

  /** Closes the code package's jars; environments still running (zombie threads) can no longer read resources. */
  @Override
  public void close() {
    try {
      code.close();
    } catch (IOException e) {
      // nothing to do: the files are read-only and the version is gone
    }
  }

  FunctionDefinition definition() {
    return definition;
  }

  CodePackage code() {
    return code;
  }

  HandlerSpec spec() {
    return spec;
  }

  /** Handlers that take a mapped input parse the whole payload with Jackson; stream handlers get raw bytes. */
  @Override
  public boolean checksPayloadSyntax() {
    return spec.arguments().contains(HandlerSpec.Arg.INPUT);
  }
}
