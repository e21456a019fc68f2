package dev.embla.faas.polyglot.python;

import dev.embla.faas.polyglot.PolyglotEngines;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.graalvm.polyglot.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code python3} runtime: Python functions written for Lambda's Python runtime, run on GraalPy, one polyglot
 * context per execution environment, all sharing one {@link Engine} so that the standard library and a function's
 * modules are parsed once per process rather than once per environment.
 *
 * <p>Found through {@link java.util.ServiceLoader}; the engine is created by the first {@link #prepare} (or by
 * {@link #warmUp}) so that a host that never runs Python does not pay for it. The first GraalPy context of a process
 * takes seconds; later ones tens to a few hundred milliseconds. {@link #warmUp} moves that first cost to the moment
 * the host chooses ({@code FaasEngine.Builder#warmUpRuntime("python3")}); otherwise the first environment pays it, and
 * the log says so once.
 *
 * @since 0.1
 */
public final class PyRuntimeProvider implements RuntimeProvider {

  private static final Logger LOG = LoggerFactory.getLogger(PyRuntimeProvider.class);
  // GraalPy 25.0 implements Python 3.12: the versioned name a Lambda configuration would carry, and the plain one.
  private static final Set<String> RUNTIMES = Set.of("python3", "python3.12");

  private final Object lock = new Object();
  private final AtomicBoolean firstContextLogged = new AtomicBoolean();
  private volatile Engine engine;
  private volatile boolean closed;

  /** Creates the provider; cheap, GraalPy starts with the first function prepared or with {@link #warmUp}. */
  public PyRuntimeProvider() {}

  /** Returns {@code python3} and {@code python3.12}: both served by the same GraalPy (Python 3.12). */
  @Override
  public Set<String> runtimes() {
    return RUNTIMES;
  }

  /**
   * Resolves the handler's module ({@code app.handler}: {@code app.py} or the package {@code app/}) in the code
   * directory.
   *
   * @throws dev.embla.faas.spi.runtime.FunctionFailure of kind INIT if the handler string is malformed or no such
   *     module exists
   */
  @Override
  public PreparedFunction prepare(FunctionDefinition definition) {
    return PyPreparedFunction.prepare(definition, this);
  }

  /**
   * Starts GraalPy and runs one throwaway environment's bootstrap (the standard library modules every environment
   * imports), so that the first function's cold start costs what later ones do. Idempotent: only the first call
   * starts a context.
   */
  @Override
  public void warmUp() {
    if (firstContextLogged.get()) {
      return;
    }
    long t0 = System.nanoTime();
    PyEnvironment.warmUp(engine());
    firstContextStarted(System.nanoTime() - t0, true);
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

  /**
   * Called by every environment with the time its context and bootstrap took; the first call of a process (not a
   * warm-up) is the slow start the host may want to move, and says so.
   */
  void firstContextStarted(long nanos, boolean warmUp) {
    if (!firstContextLogged.compareAndSet(false, true)) {
      return;
    }
    long ms = nanos / 1_000_000;
    if (warmUp) {
      LOG.info("python3 runtime: GraalPy warmed up in {} ms (the first Python context of this engine)", ms);
    } else {
      LOG.info("python3 runtime: the first Python context of this engine started in {} ms, on the first function's "
          + "cold start; FaasEngine.Builder#warmUpRuntime(\"python3\") pays this before any invocation", ms);
    }
  }

  Engine engine() {
    Engine e = engine;
    if (e != null) {
      return e;
    }
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the python3 runtime is closed");
      }
      if (engine == null) {
        engine = PolyglotEngines.newEngine("python", "python3", "GraalPy", LOG);
      }
      return engine;
    }
  }
}
