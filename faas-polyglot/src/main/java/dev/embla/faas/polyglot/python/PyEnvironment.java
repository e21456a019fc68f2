package dev.embla.faas.polyglot.python;

import dev.embla.faas.polyglot.BlankContexts;
import dev.embla.faas.polyglot.GuestContexts;
import dev.embla.faas.polyglot.GuestThread;
import dev.embla.faas.polyglot.SandboxFileSystem;
import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.FunctionOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.SourceSection;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.io.FileSystem;
import org.graalvm.polyglot.proxy.ProxyArray;
import org.graalvm.polyglot.proxy.ProxyExecutable;
import org.graalvm.polyglot.proxy.ProxyObject;

/**
 * One execution environment of a Python function: one GraalPy {@link org.graalvm.polyglot.Context}, created by
 * {@link #init} (so {@link PyPreparedFunction#newEnvironment} stays cheap), with the runtime layer
 * ({@code bootstrap.py}) evaluated in it and the handler's module imported by it.
 *
 * <p><b>Threads.</b> The guest's code runs on a platform thread of the environment's own ({@link GuestThread}): Init
 * and invoke hand their work to it and wait, and the engine measures that thread's allocation
 * ({@link #guestThread}). The engine never overlaps phases. Python code cannot start threads of its own here.
 *
 * <p><b>Cancellation.</b> {@link #cancel} comes from the engine's watchdog thread and must not block, while
 * {@code Context.close(true)} waits for the guest to stop, which in GraalPy takes milliseconds to tens of
 * milliseconds: so it sets {@code cancelled}, ends the caller's wait at once with a {@link CancellationException}
 * (so the caller has its timeout error at the deadline), and closes the context from a fresh virtual thread. The
 * running guest code then fails with a cancelled {@link PolyglotException} at its next safepoint (loops included, even
 * inside {@code try/except BaseException}: Python cannot catch it) and unwinds on the guest thread in the background.
 * A cancelled context is dead, so the environment is never reusable afterwards. {@code ResourceLimits.statementLimit}
 * is not used: it breaks GraalPy 25.
 */
final class PyEnvironment implements ExecutionEnvironment {

  /** Lambda's own Python runtime lives in {@code /var/runtime}; frames of this file are left out of stack traces. */
  static final String BOOTSTRAP_NAME = "/var/runtime/bootstrap.py";
  static final Source BOOTSTRAP =
      GuestContexts.cachedResource(PyEnvironment.class, "python", "bootstrap.py", BOOTSTRAP_NAME);

  private final PyPreparedFunction function;
  private final EnvironmentContext env;
  private final SandboxFileSystem files;
  private final FunctionOutputStream stdout;
  private final FunctionOutputStream stderr;
  // Started on first use (the engine asks for guestThread() just before Init), so that an environment the pool makes
  // and drops without running it (a retired revision) never starts a thread; see guest()
  private volatile GuestThread guest;
  // The blank context this environment took with its thread (see guest()), until Init binds it; null if none
  private volatile BlankContexts.Blank<GuestThread> blank;

  private volatile org.graalvm.polyglot.Context context;
  private volatile boolean cancelled;
  private volatile boolean broken;

  private Value driver;
  private ProxyExecutable remaining;
  // The current invocation, read by the guest's get_remaining_time_in_millis(); used by the environment's thread only.
  private Context invocation;

  PyEnvironment(PyPreparedFunction function, EnvironmentContext env) {
    this.function = function;
    this.env = env;
    this.files = new SandboxFileSystem(function.definition().codeDirectory(), env::tmpDirectory);
    this.stdout = new FunctionOutputStream(env.output(), FunctionOutput.Stream.STDOUT);
    this.stderr = new FunctionOutputStream(env.output(), FunctionOutput.Stream.STDERR);
  }

  private GuestThread guest() {
    GuestThread g = guest;
    if (g == null) {
      synchronized (this) {
        g = guest;
        if (g == null) {
          // A blank context made ahead of need, when one is ready, comes with the thread it was made on: GraalPy runs
          // its asynchronous actions (weak reference callbacks, finalizers) on the thread that initialised the context.
          BlankContexts.Blank<GuestThread> b =
              function.needsOwnContext() ? null : function.runtime().takeBlankContext();
          if (b != null) {
            g = b.attachment();
            g.thread().setName("embla-python-" + env.environmentId());
            blank = b;
          } else {
            g = new GuestThread("embla-python-" + env.environmentId());
          }
          guest = g;
          if (cancelled) { // cancel() ran before the thread existed and could not abandon it
            g.abandon(cancelledException());
          }
        }
      }
    }
    return g;
  }

  /**
   * Creates the context, evaluates the runtime layer and imports the handler's module (its top-level code is
   * Lambda's Init), then looks the handler up.
   *
   * @throws FunctionFailure of kind INIT if the module cannot be imported, raises, or lacks the handler; EXIT if it
   *     called {@code sys.exit}
   * @throws CancellationException if cancelled meanwhile
   */
  @Override
  public void init() {
    if (context != null) {
      throw new IllegalStateException("init already ran in environment " + env.environmentId());
    }
    if (cancelled) {
      throw cancelledException();
    }
    guest().call(() -> {
      initOnGuestThread();
      return null;
    });
  }

  private void initOnGuestThread() {
    try {
      if (cancelled) {
        throw cancelledException();
      }
      long t0 = System.nanoTime();
      Map<String, String> variables = GuestContexts.guestVariables(function.definition(), env);
      // The blank context taken with this thread, with the runtime layer already evaluated in it; else a new one. The
      // same sandbox either way.
      BlankContexts.Blank<GuestThread> b = blank;
      org.graalvm.polyglot.Context c = b != null ? b.bind(files, stdout, stderr)
          : newContext(function.runtime().engine(), files, variables, stdout, stderr);
      context = c;
      blank = null;
      if (cancelled) {
        // cancel() ran before the context existed and could not close it
        GuestContexts.closeQuietly(c);
        throw cancelledException();
      }
      remaining = args -> invocation == null ? 0 : invocation.getRemainingTimeInMillis();
      Value bootstrap = b != null ? b.first() : c.eval(BOOTSTRAP);
      driver = bootstrap.execute(hostFunctions(), function.definition().functionName(),
          function.definition().version(), function.definition().memorySizeMb(),
          "/aws/lambda/" + function.definition().functionName(), env.logStreamName(), GuestContexts.pairs(variables));
      function.runtime().firstContextStarted(System.nanoTime() - t0, false);
      Value failed = driver.invokeMember("init", function.definition().handler());
      function.runtime().contextInitialised();
      if (!failed.isNull()) {
        broken = true;
        throw failureOf(failed);
      }
    } catch (FunctionFailure f) {
      broken = true;
      throw cancelled ? cancelledException() : f;
    } catch (RuntimeException e) {
      broken = true;
      throw translate(FunctionFailure.Kind.INIT, e);
    } finally {
      flushOutput();
    }
  }

  /**
   * Calls the handler with {@code json.loads} of the payload and a Lambda context, and returns {@code json.dumps} of
   * its result.
   *
   * @throws FunctionFailure of kind HANDLER for an exception the handler raised or a result that is not JSON, EXIT for
   *     {@code sys.exit}, or BAD_PAYLOAD for a payload that is not JSON
   * @throws CancellationException if cancelled meanwhile
   */
  @Override
  public byte[] invoke(byte[] payload, Context invocationContext) {
    if (driver == null) {
      throw new IllegalStateException("init has not run in environment " + env.environmentId());
    }
    if (cancelled) {
      throw cancelledException();
    }
    return guest().call(() -> invokeOnGuestThread(payload, invocationContext));
  }

  private byte[] invokeOnGuestThread(byte[] payload, Context invocationContext) {
    invocation = invocationContext;
    try {
      Value r = driver.invokeMember("invoke", new String(payload, StandardCharsets.UTF_8),
          invocationContext.getAwsRequestId(), invocationContext.getInvokedFunctionArn(), remaining);
      if (cancelled) {
        throw cancelledException();
      }
      if (r.isString()) {
        return r.asString().getBytes(StandardCharsets.UTF_8);
      }
      throw failureOf(r);
    } catch (FunctionFailure f) {
      throw cancelled ? cancelledException() : f;
    } catch (RuntimeException e) {
      throw translate(FunctionFailure.Kind.HANDLER, e);
    } finally {
      invocation = null;
      if (!cancelled) {
        // After a cancel the caller has already been answered and its END and REPORT logged: a partial last line
        // would come after them, and is dropped instead
        flushOutput();
      }
    }
  }

  /** Stops the running init or invoke from the watchdog thread; never blocks. */
  @Override
  public void cancel() {
    if (cancelled) {
      return;
    }
    cancelled = true;
    GuestThread g = guest;
    if (g != null) {
      g.abandon(cancelledException()); // the caller has its answer now; the guest stops on its own thread
    }
    org.graalvm.polyglot.Context c = context;
    if (c != null) {
      // close(true) returns only once the guest has stopped: never on the watchdog's thread
      Thread.ofVirtual().name("embla-python-cancel-" + env.environmentId())
          .start(() -> GuestContexts.closeQuietly(c));
    }
  }

  /** Returns the environment's own thread, on which all of its Python code runs; started by the first call. */
  @Override
  public Thread guestThread() {
    return guest().thread();
  }

  /**
   * Closes the context. Lambda's Python runtime runs no shutdown code of the function's (it has no hook without an
   * extension), and neither does this one: {@code atexit} functions are not given a chance to run unbounded here.
   */
  @Override
  public void shutdown(Duration bound) {
    org.graalvm.polyglot.Context c = context;
    driver = null;
    if (c != null) {
      GuestContexts.closeQuietly(c);
    }
    BlankContexts.Blank<GuestThread> b = blank;
    if (b != null) { // taken with the thread, never bound: Init did not run
      GuestContexts.closeQuietly(b.context());
    }
    GuestThread g = guest;
    if (g != null) {
      g.stop();
      // A guest still unwinding from an abandoned phase must have left before the engine deletes this environment's
      // /tmp; GraalPy's cancellation ends it within milliseconds, and the bound keeps a stuck one from holding up
      // Shutdown.
      g.awaitEnd(bound);
    }
  }

  /** Returns false once cancelled, after an exit attempt, or after a failure the function may not have survived. */
  @Override
  public boolean isReusable() {
    return !cancelled && !broken;
  }

  /**
   * Builds a context with the sandbox every Python environment gets; {@code files} (with GraalPy's standard library,
   * {@link GuestFileSystem}) is its only file access.
   */
  static org.graalvm.polyglot.Context newContext(Engine engine, FileSystem files,
      Map<String, String> environment, OutputStream out, OutputStream err) {
    // The shared sandbox (GuestContexts.sandboxed), so no C extensions and no ctypes; GraalPy's own standard library
    // is readable through the file system (GuestFileSystem). CONSTRAINED refuses every python.* option, and needs none:
    // GraalPy's embedding defaults are the Java POSIX backend (all file access through the polyglot file system), no
    // .pyc writing and no site import. The function's variables are the only environment it sees.
    return GuestContexts.sandboxed("python", engine, new GuestFileSystem(files), out, err)
        .environment(environment)
        .in(InputStream.nullInputStream())
        .build();
  }

  /**
   * Starts a throwaway context on {@code engine} and runs the bootstrap, a handler's Init and an invoke in it, so that
   * the language and the modules every environment imports are loaded before the first function needs them.
   */
  static void warmUp(Engine engine) {
    OutputStream discard = OutputStream.nullOutputStream();
    Path root = null;
    try {
      // An empty code directory: the same file system as a function's, so that the same code paths get warm
      root = Files.createTempDirectory("embla-python-warm-up");
      Path task = Files.createDirectory(root.resolve("task"));
      Files.writeString(task.resolve("warm_up.py"), "def handler(event, context):\n    return event\n");
      Path tmp = root.resolve("tmp");
      try (org.graalvm.polyglot.Context c = newContext(engine, new SandboxFileSystem(task, () -> tmp), Map.of(),
          discard, discard)) {
        Value driver = c.eval(BOOTSTRAP).execute(ProxyObject.fromMap(Map.of("log", (ProxyExecutable) a -> null)),
            "warm-up", "$LATEST", 128, "/aws/lambda/warm-up", "warm-up", ProxyArray.fromArray());
        if (!driver.hasMember("invoke")) {
          throw new IllegalStateException("the python3 bootstrap did not return its driver");
        }
        Value failed = driver.invokeMember("init", "warm_up.handler");
        Value echoed = driver.invokeMember("invoke", "{\"warm\": [1, 2.5, null, true, \"up\"]}", "warm-up",
            "arn:aws:lambda:local:000000000000:function:warm-up", (ProxyExecutable) a -> 0);
        if (!failed.isNull() || !echoed.isString()) {
          throw new IllegalStateException("the python3 runtime's warm-up function failed: " + failed + " " + echoed);
        }
        // logging and traceback are imported by environments only when a function logs or fails; warm them too
        c.eval("python", "import logging, traceback");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot warm the python3 runtime up", e);
    } finally {
      if (root != null) {
        deleteQuietly(root.resolve("tmp"));
        deleteQuietly(root.resolve("task").resolve("warm_up.py"));
        deleteQuietly(root.resolve("task"));
        deleteQuietly(root);
      }
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // a leftover empty directory in the temporary directory
    }
  }

  private ProxyObject hostFunctions() {
    // The logging handler's lines: the function's logger, in the invocation's log
    return ProxyObject.fromMap(Map.of("log", (ProxyExecutable) a -> {
      env.output().line(FunctionOutput.Stream.LOGGER, a[0].asString());
      return null;
    }));
  }

  private RuntimeException translate(FunctionFailure.Kind kind, RuntimeException e) {
    if (cancelled) {
      return cancelledException();
    }
    if (e instanceof PolyglotException p) {
      if (p.isCancelled() || p.isInterrupted()) {
        broken = true;
        return cancelledException();
      }
      if (p.isExit()) {
        // os._exit(): GraalPy ends the context; in Lambda the runtime process would be gone
        broken = true;
        return new FunctionFailure(FunctionFailure.Kind.EXIT, "Runtime.ExitError",
            "Runtime exited with error: exit status " + p.getExitStatus(), List.of(), null);
      }
      String denied = deniedBySandbox(p);
      if (denied != null) {
        // GraalPy lets some sandbox refusals (process and thread creation) through as Java exceptions, which Python
        // code cannot catch: the invocation fails with the refusal, and the environment, unwound by it, is not reused.
        broken = true;
        return new FunctionFailure(kind, "Sandbox.Denied", denied, guestFrames(p), null);
      }
      if (kind == FunctionFailure.Kind.INIT || p.isResourceExhausted()) {
        broken = true;
      }
      if (p.isGuestException() && !p.isInternalError()) {
        // Raised outside the bootstrap's own handling (a stack overflow in it, say)
        return new FunctionFailure(kind, p.isSyntaxError() ? "SyntaxError" : "Exception", p.getMessage(),
            guestFrames(p), null);
      }
    }
    // A failure of the runtime itself, not the function's: the engine reports it and discards the environment.
    broken = true;
    return e;
  }

  // The sandbox's refusal, without GraalVM's advice to the embedder ("to enable it set Context.Builder..."), if that
  // is what p is. GraalPy reports these as internal errors whose message names the Java exception.
  private static String deniedBySandbox(PolyglotException p) {
    String m = String.valueOf(p.getMessage());
    String refusal;
    if (m.startsWith("java.lang.SecurityException: ")) {
      refusal = m.substring("java.lang.SecurityException: ".length());
    } else if (m.startsWith("java.lang.IllegalStateException: ") && m.contains(" is not allowed")) {
      refusal = m.substring("java.lang.IllegalStateException: ".length());
    } else {
      return null;
    }
    int advice = refusal.indexOf(", to enable it");
    refusal = advice < 0 ? refusal : refusal.substring(0, advice);
    return refusal.endsWith(".") ? refusal.substring(0, refusal.length() - 1) : refusal;
  }

  // The function's frames in traceback.format_list's shape, innermost last as Python prints them
  private static List<String> guestFrames(PolyglotException p) {
    List<String> stack = new ArrayList<>();
    for (PolyglotException.StackFrame f : p.getPolyglotStackTrace()) {
      SourceSection at = f.getSourceLocation();
      if (!f.isGuestFrame() || at == null || at.getSource().getName().equals(BOOTSTRAP_NAME)) {
        continue;
      }
      String path = at.getSource().getPath() != null ? at.getSource().getPath() : at.getSource().getName();
      String code = at.isAvailable() ? at.getSource().getCharacters(at.getStartLine()).toString().strip() : "";
      stack.addFirst("  File \"" + path + "\", line " + at.getStartLine() + ", in " + f.getRootName() + "\n"
          + (code.isEmpty() ? "" : "    " + code + "\n"));
    }
    return stack;
  }

  private FunctionFailure failureOf(Value described) {
    FunctionFailure.Kind kind = FunctionFailure.Kind.valueOf(described.getArrayElement(0).asString());
    Value s = described.getArrayElement(3);
    List<String> stack = new ArrayList<>((int) s.getArraySize());
    for (long i = 0; i < s.getArraySize(); i++) {
      stack.add(s.getArrayElement(i).asString());
    }
    if (kind == FunctionFailure.Kind.EXIT || described.getArrayElement(4).asBoolean()) {
      broken = true;
    }
    return new FunctionFailure(kind, described.getArrayElement(1).asString(),
        described.getArrayElement(2).asString(), stack, null);
  }

  private CancellationException cancelledException() {
    return new CancellationException("execution environment " + env.environmentId() + " was cancelled");
  }

  private void flushOutput() {
    stdout.flushPartial();
    stderr.flushPartial();
  }

}
