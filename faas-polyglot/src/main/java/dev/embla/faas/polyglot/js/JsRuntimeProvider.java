package dev.embla.faas.polyglot.js;

import dev.embla.faas.polyglot.BlankContexts;
import dev.embla.faas.polyglot.GuestContexts;
import dev.embla.faas.polyglot.PolyglotEngines;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.io.OutputStream;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.io.FileSystem;
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

  /** The system property that sets the most blank contexts kept ready; 0 creates every context on demand. */
  static final String BLANK_CONTEXTS_PROPERTY = "embla.nodejs.blankContexts";
  // About 45 KB of heap each: at most about 11 MB
  static final int BLANK_CONTEXTS_DEFAULT = 256;
  private static final int BLANK_CONTEXTS_MIN = 8;
  private static final Duration BLANK_CONTEXTS_QUIET = Duration.ofMillis(50);

  private final Object lock = new Object();
  private final int blankContextsMax;
  private volatile Engine engine;
  private volatile BlankContexts<Void> blankContexts;
  private volatile boolean closed;

  /**
   * Creates the provider; cheap, the GraalJS engine starts with the first function prepared. How many blank contexts
   * it keeps ready for cold starts at most is read now from the system property {@code embla.nodejs.blankContexts}.
   *
   * @throws IllegalArgumentException if that property is set to something other than a non-negative integer
   */
  public JsRuntimeProvider() {
    this(BlankContexts.configuredMax(BLANK_CONTEXTS_PROPERTY, BLANK_CONTEXTS_DEFAULT));
  }

  // For tests: a fixed pool size instead of the system property's.
  JsRuntimeProvider(int blankContextsMax) {
    this.blankContextsMax = blankContextsMax;
  }

  // For tests; null before the first prepare.
  BlankContexts<Void> blankContexts() {
    return blankContexts;
  }

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
    Engine e = engine();
    return JsPreparedFunction.prepare(definition, e, blankContexts);
  }

  /** Closes the blank contexts kept ready and the shared engine, cancelling any context still running on it. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      BlankContexts<Void> b = blankContexts;
      if (b != null) {
        b.close();
      }
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
        // Evaluating anything initialises the realm, which is what a blank context is made ahead for. Built here and
        // not in a static field: building a Source starts Truffle, whose runtime then hooks every virtual thread's
        // mount and unmount in the JVM (a JVMTI event and a JNI upcall each), and a host that never runs JavaScript
        // must not pay for that.
        Source realm = Source.newBuilder("js", "0", "embla-blank.js").cached(true).buildLiteral();
        // Globals that Node does not have, or that the runtime layer replaces (GraalJS's own console, print and the
        // Graal object): every context would build them for nothing. CONSTRAINED refuses the options for the others
        // of this kind (Polyglot, the Java packages, a global `arguments`).
        Engine created = PolyglotEngines.newEngine("js", "nodejs", "GraalJS", LOG,
            Map.of("js.console", "false", "js.print", "false", "js.graal-builtin", "false"));
        // Published before the engine: prepare() reads the engine, then the pool.
        blankContexts = new BlankContexts<Void>("nodejs",
            (files, out, err) -> BlankContexts.Made.evaluate(newContext(created, files, out, err), realm, null),
            none -> { }, BLANK_CONTEXTS_MIN, blankContextsMax, BLANK_CONTEXTS_QUIET, System::nanoTime);
        engine = created;
      }
      return engine;
    }
  }

  /**
   * Creates a context with the sandbox every JavaScript environment gets ({@link GuestContexts#sandboxed}), its
   * {@code Date} in UTC.
   */
  static Context newContext(Engine engine, FileSystem files, OutputStream out, OutputStream err) {
    return GuestContexts.sandboxed("js", engine, files, out, err)
        .option("js.esm-eval-returns-exports", "true")
        // Lambda runs functions with TZ=:UTC; without this GraalJS takes the host JVM's default zone. Fixed when the
        // context is made, before any function is known (blank contexts), so a TZ the function sets is not honoured.
        .timeZone(ZoneOffset.UTC)
        .build();
  }
}
