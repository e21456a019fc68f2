package dev.embla.faas.polyglot.python;

import dev.embla.faas.polyglot.BlankContexts;
import dev.embla.faas.polyglot.GuestThread;
import dev.embla.faas.polyglot.PolyglotEngines;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.io.FileSystem;
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

  /** The system property that sets the most blank contexts kept ready; 0 creates every context on demand. */
  static final String BLANK_CONTEXTS_PROPERTY = "embla.python.blankContexts";
  // About 2 MB of heap each: at most about 32 MB
  static final int BLANK_CONTEXTS_DEFAULT = 16;
  private static final int BLANK_CONTEXTS_MIN = 2;
  private static final AtomicLong BLANK_THREAD_IDS = new AtomicLong();
  /**
   * The variables a blank context starts with, before it knows its function: Lambda's (and the engine's) {@code TZ}
   * for every function. A function whose start-time variables differ gets a context of its own
   * ({@link PyPreparedFunction#needsOwnContext}).
   */
  static final Map<String, String> BLANK_START_ENVIRONMENT = Map.of("TZ", ":UTC");

  private final Object lock = new Object();
  private final AtomicBoolean firstContextLogged = new AtomicBoolean();
  private final int blankContextsMax;
  private volatile Engine engine;
  private volatile BlankContexts<GuestThread> blankContexts;
  private volatile boolean closed;

  /**
   * Creates the provider; cheap, GraalPy starts with the first function prepared or with {@link #warmUp}. How many
   * blank contexts it keeps ready for cold starts at most is read now from the system property
   * {@code embla.python.blankContexts}.
   *
   * @throws IllegalArgumentException if that property is set to something other than a non-negative integer
   */
  public PyRuntimeProvider() {
    this(BlankContexts.configuredMax(BLANK_CONTEXTS_PROPERTY, BLANK_CONTEXTS_DEFAULT));
  }

  // For tests: a fixed pool size instead of the system property's.
  PyRuntimeProvider(int blankContextsMax) {
    this.blankContextsMax = blankContextsMax;
  }

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
    contextInitialised();
  }

  /** Closes the blank contexts kept ready and the shared engine, cancelling any context still running on it. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      BlankContexts<GuestThread> b = blankContexts;
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

  /**
   * Returns a blank context made ahead of need, with the thread it was made on and must run on, or null if none is
   * ready (or the pool is off or not started yet).
   */
  BlankContexts.Blank<GuestThread> takeBlankContext() {
    BlankContexts<GuestThread> b = blankContexts;
    return b == null ? null : b.take();
  }

  // For tests; null before the first Python context has been initialised.
  BlankContexts<GuestThread> blankContexts() {
    return blankContexts;
  }

  /**
   * Called after each context's Init (and the warm-up's); the first call starts the blank contexts. Not with the
   * engine: GraalPy's first context takes seconds, and making blank ones beside it would only slow it down.
   */
  void contextInitialised() {
    if (blankContexts != null) {
      return;
    }
    synchronized (lock) {
      Engine e = engine;
      if (closed || e == null || blankContexts != null) {
        return;
      }
      blankContexts = new BlankContexts<>("python3", (files, out, err) -> makeBlank(e, files, out, err),
          GuestThread::stop, BLANK_CONTEXTS_MIN, blankContextsMax, Duration.ZERO, System::nanoTime);
    }
  }

  // On a guest thread of its own, which the environment that takes the context adopts: GraalPy runs a context's
  // asynchronous actions (weak reference callbacks, finalizers) on the thread that initialised it.
  private static BlankContexts.Made<GuestThread> makeBlank(Engine engine, FileSystem files, OutputStream out,
      OutputStream err) {
    GuestThread g = new GuestThread("embla-python3-blank-" + BLANK_THREAD_IDS.incrementAndGet());
    try {
      return g.call(() -> BlankContexts.Made.evaluate(
          PyEnvironment.newContext(engine, files, BLANK_START_ENVIRONMENT, out, err), PyEnvironment.BOOTSTRAP, g));
    } catch (RuntimeException e) {
      g.stop();
      throw e;
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
