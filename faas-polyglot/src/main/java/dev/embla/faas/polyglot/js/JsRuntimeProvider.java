package dev.embla.faas.polyglot.js;

import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.FunctionOutputStream;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.util.Set;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.SandboxPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nodejs} runtime: JavaScript functions written for Lambda's Node.js runtime, run on GraalJS, one polyglot
 * context per execution environment, all sharing one {@link Engine} so that a function's code is parsed once per
 * process rather than once per environment.
 *
 * <p>Found through {@link java.util.ServiceLoader}; the engine is created by the first {@link #prepare} so that a host
 * that never runs JavaScript does not pay for it.
 *
 * @since 0.1
 */
public final class JsRuntimeProvider implements RuntimeProvider {

  private static final Logger LOG = LoggerFactory.getLogger(JsRuntimeProvider.class);
  private static final Set<String> RUNTIMES = Set.of("nodejs", "nodejs20.x", "nodejs22.x");

  private final Object lock = new Object();
  private volatile Engine engine;
  private volatile boolean closed;

  /** Creates the provider; cheap, the GraalJS engine starts with the first function prepared. */
  public JsRuntimeProvider() {}

  /** Returns {@code nodejs}, {@code nodejs20.x} and {@code nodejs22.x}: all served by the same GraalJS. */
  @Override
  public Set<String> runtimes() {
    return RUNTIMES;
  }

  /**
   * Resolves the handler's file ({@code index.handler}: {@code index.js}, {@code index.mjs} or {@code index.cjs}) in
   * the code directory.
   *
   * @throws dev.embla.faas.spi.runtime.FunctionFailure of kind INIT if the handler string is malformed or no such file
   *     exists
   */
  @Override
  public PreparedFunction prepare(FunctionDefinition definition) {
    return JsPreparedFunction.prepare(definition, engine());
  }

  /** Closes the shared engine, cancelling any context still running on it. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      Engine e = engine;
      engine = null;
      if (e != null) {
        e.close(true);
      }
    }
  }

  private Engine engine() {
    Engine e = engine;
    if (e != null) {
      return e;
    }
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the nodejs runtime is closed");
      }
      if (engine == null) {
        engine = Engine.newBuilder("js")
            // The strictest policy the community builds support; each context repeats it (they must match).
            .sandbox(SandboxPolicy.CONSTRAINED)
            // What the engine itself prints (not a function's output: contexts have their own streams) goes to the
            // host's log, never to the host's standard streams; the policy requires the redirection.
            .out(new FunctionOutputStream((stream, line) -> LOG.info("GraalJS: {}", line),
                FunctionOutput.Stream.STDOUT))
            .err(new FunctionOutputStream((stream, line) -> LOG.warn("GraalJS: {}", line),
                FunctionOutput.Stream.STDERR))
            // On a stock JDK without the Graal compiler flags GraalJS prints a multi-line warning to stderr for every
            // engine; the host's log gets one line instead, below, where the operator can act on it.
            .option("engine.WarnInterpreterOnly", "false")
            // The engine runs invocations on virtual threads; with the Graal compiler enabled, GraalVM 25 prints a
            // multi-line "experimental on HotSpot" warning for that, meant for tools (debuggers) and languages that
            // materialise caller frames, which this runtime does not use. The option itself is experimental.
            .allowExperimentalOptions(true)
            .option("engine.WarnVirtualThreadSupport", "false")
            // Globals that Node does not have, or that the runtime layer replaces (GraalJS's own console, print and
            // the Graal object): every context would build them for nothing. CONSTRAINED refuses the options for
            // the others of this kind (Polyglot, the Java packages, a global `arguments`).
            .option("js.console", "false")
            .option("js.print", "false")
            .option("js.graal-builtin", "false")
            .build();
        String name = engine.getImplementationName();
        boolean interpreted = name.toLowerCase(java.util.Locale.ROOT).contains("interpreted");
        if (interpreted) {
          LOG.warn("nodejs runtime: GraalJS {} runs on the {} runtime, without a compiler (about 15-25x slower on "
              + "hot code); start the JVM with -XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI and the Graal "
              + "compiler on the upgrade module path to compile guest code", engine.getVersion(), name);
        } else {
          LOG.info("nodejs runtime: GraalJS {} on {} (compiled)", engine.getVersion(), name);
        }
      }
      return engine;
    }
  }
}
