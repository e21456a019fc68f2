package dev.embla.faas.internal.java;

import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code java21} runtime (also serving {@code java17} and {@code java25}): each execution environment gets its
 * own class loader over the function's code, which sees the JDK and Embla's SPI and nothing of the host. Classes are
 * rewritten once per version so that the function cannot end the process, read the host's environment or write to
 * its streams, and so that a cancelled invocation stops at its next loop iteration or method call.
 *
 * <p>The engine calls {@link #prepare} once per version, then {@code newEnvironment}, {@code init},
 * {@code invoke}... and {@code shutdown} on each environment, on its own threads; {@code cancel} from its watchdog.
 *
 * @since 0.1
 */
public final class JavaRuntimeProvider implements RuntimeProvider {

  static {
    // Load what a cancellation throws and catches before the first deadline needs it (see Invoker's note).
    new InvocationCancelledError().fillInStackTrace();
    new java.util.concurrent.CancellationException("warm-up").fillInStackTrace();
  }


  private static final Set<String> RUNTIMES = Set.of("java17", "java21", "java25");

  /**
   * Creates the provider and installs the JVM-wide sandbox hooks if no engine has yet.
   *
   * @throws IllegalStateException if other sandbox hooks than Embla's Java runtime were installed
   */
  public JavaRuntimeProvider() {
    SandboxHooks.control();
  }

  /** Returns {@code java17}, {@code java21} and {@code java25}. */
  @Override
  public Set<String> runtimes() {
    return RUNTIMES;
  }

  /**
   * Opens the version's code and resolves its handler on a throwaway loader (loading, not initialising, the handler
   * class, which also fills the transformed-bytes cache for it).
   *
   * @throws FunctionFailure of kind INIT naming the class or method if the handler is unusable
   * @throws IllegalArgumentException if the runtime is not one of {@link #runtimes()}
   */
  /**
   * Returns 64: a Java environment runs concurrent invocations on their callers' threads, for functions whose
   * authors declare them thread-safe (Lambda Managed Instances' {@code AWS_LAMBDA_MAX_CONCURRENCY}).
   */
  @Override
  public int maxConcurrencyPerEnvironment() {
    return 64;
  }

  @Override
  public PreparedFunction prepare(FunctionDefinition definition) {
    Objects.requireNonNull(definition, "definition");
    if (!RUNTIMES.contains(definition.runtime())) {
      throw new IllegalArgumentException(
          "runtime must be one of " + RUNTIMES + ", was " + definition.runtime());
    }
    String[] handler = HandlerSpec.parse(definition.handler());
    CodePackage code;
    try {
      code = CodePackage.open(definition.codeDirectory());
    } catch (IOException e) {
      throw Failures.of(FunctionFailure.Kind.INIT, e.getClass().getName(),
          "cannot open code directory " + definition.codeDirectory() + ": " + e.getMessage());
    }
    try {
      return new JavaPreparedFunction(definition, code, resolve(code, handler[0], handler[1]));
    } catch (RuntimeException | Error e) {
      try {
        code.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static HandlerSpec resolve(CodePackage code, String className, String methodName) {
    FunctionClassLoader probe = new FunctionClassLoader(code, null);
    Class<?> cls;
    try {
      cls = Class.forName(className, false, probe);
    } catch (ClassNotFoundException e) {
      throw Failures.of(FunctionFailure.Kind.INIT, "java.lang.ClassNotFoundException",
          "handler class " + className + " not found in the code package");
    } catch (LinkageError | UncheckedIOException e) {
      throw Failures.of(FunctionFailure.Kind.INIT, e.getClass().getName(),
          "handler class " + className + " cannot be loaded: " + e.getMessage());
    }
    try {
      return HandlerSpec.resolve(cls, methodName);
    } catch (LinkageError e) {
      // a public method's signature names a class the package lacks
      throw Failures.of(FunctionFailure.Kind.INIT, e.getClass().getName(),
          "handler class " + className + " cannot be inspected: " + e.getMessage());
    }
  }
}
