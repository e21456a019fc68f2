package dev.embla.faas.polyglot.js;

import dev.embla.faas.polyglot.BlankContexts;
import dev.embla.faas.polyglot.GuestContexts;
import dev.embla.faas.polyglot.SandboxFileSystem;
import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.FunctionOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.LockSupport;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.proxy.ProxyArray;
import org.graalvm.polyglot.proxy.ProxyExecutable;
import org.graalvm.polyglot.proxy.ProxyObject;

/**
 * One execution environment of a JavaScript function: one GraalJS {@link org.graalvm.polyglot.Context}, created by
 * {@link #init} (so {@link JsPreparedFunction#newEnvironment} stays cheap), with the runtime layer
 * ({@code embla-runtime.js}) and the function's module loaded in it.
 *
 * <p><b>Threads.</b> Init and invoke run on the caller's thread; the engine never overlaps them, and a context may
 * change threads between calls. The event loop runs on that thread too: after the handler returns, due timers are
 * fired one host call at a time (GraalJS runs pending promise jobs whenever a host call returns) until the handler's
 * promise settles or its callback is called.
 *
 * <p><b>Cancellation.</b> {@link #cancel} comes from the engine's watchdog thread and must not block, while
 * {@code Context.close(true)} waits for the guest to stop: so it sets {@code cancelled}, wakes a runner waiting for a
 * timer, and closes the context from a fresh virtual thread. The running guest code then fails with a cancelled
 * {@link PolyglotException} at its next safepoint (loops included, even inside {@code try/catch}: JavaScript cannot
 * catch it), which this class turns into a {@link CancellationException}. A cancelled context is dead, so the
 * environment is never reusable afterwards.
 */
final class JsEnvironment implements ExecutionEnvironment {

  private static final Source RUNTIME =
      GuestContexts.cachedResource(JsEnvironment.class, "js", "embla-runtime.js", "embla-runtime.js");

  private final JsPreparedFunction function;
  private final EnvironmentContext env;
  private final SandboxFileSystem files;
  /** The resolution of {@code performance.now()} and {@code process.hrtime} (see hostFunctions). */
  static final long CLOCK_STEP_MICROS = 20;

  private final EventLoop loop = new EventLoop();
  // performance.now()'s origin, the environment's creation, on the monotonic clock and as wall-clock microseconds
  private final long originNanos = System.nanoTime();
  private final long originEpochMicros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
  private final FunctionOutputStream stdout;
  private final FunctionOutputStream stderr;

  private volatile org.graalvm.polyglot.Context context;
  private volatile boolean cancelled;
  private volatile boolean broken;
  private volatile Thread runner;

  private Value driver;
  private Value invokeFn;
  private Value identityFn;
  private Value describeFn;
  private Value describeLoadFailureFn;
  private Value handler;
  // True while Init loads the function's module: what escapes it is described as Lambda's loader wraps it
  private boolean loading;

  // What the guest's context was last told about the function (see invoke); environment's thread only.
  private String identityName;
  private String identityVersion;
  private int identityMemory;
  private String identityArn;

  // The current invocation's outcome, set by the host callbacks; used by the environment's thread only.
  private Context invocation;
  // Numbers the invocations, so that a settlement the guest makes for an earlier one is told apart (see hostFunctions)
  private int invocationNumber;
  private boolean settled;
  private boolean waitForEmptyLoop;
  private String resultJson;
  private FunctionFailure failure;

  JsEnvironment(JsPreparedFunction function, EnvironmentContext env) {
    this.function = function;
    this.env = env;
    this.files = new SandboxFileSystem(function.definition().codeDirectory(), env::tmpDirectory);
    this.stdout = new FunctionOutputStream(env.output(), FunctionOutput.Stream.STDOUT);
    this.stderr = new FunctionOutputStream(env.output(), FunctionOutput.Stream.STDERR);
  }

  /**
   * Creates the context, evaluates the runtime layer and runs the function's module top-level code (Lambda's Init),
   * then looks up the handler export.
   *
   * @throws FunctionFailure of kind INIT if the module throws or does not export the handler, in the types of Lambda's
   *     Node runtime: {@code Runtime.UserCodeSyntaxError} for a {@code SyntaxError} and
   *     {@code Runtime.ImportModuleError} for a module {@code require} cannot find, escaping the module's loading;
   *     {@code Runtime.HandlerNotFound} for a missing export; otherwise the thrown error's own name
   * @throws CancellationException if cancelled meanwhile
   */
  @Override
  public void init() {
    if (context != null) {
      throw new IllegalStateException("init already ran in environment " + env.environmentId());
    }
    runner = Thread.currentThread();
    try {
      org.graalvm.polyglot.Context c = newContext();
      context = c;
      if (cancelled) {
        // cancel() ran before the context existed and could not close it
        c.close(true);
        throw cancelledException();
      }
      driver = c.eval(RUNTIME).execute(hostFunctions(),
          GuestContexts.pairs(GuestContexts.guestVariables(function.definition(), env)));
      invokeFn = driver.getMember("invoke");
      identityFn = driver.getMember("identity");
      describeFn = driver.getMember("describe");
      describeLoadFailureFn = driver.getMember("describeLoadFailure");
      loading = true;
      Value exports = function.isModule()
          ? c.eval(function.moduleSource(files))
          : driver.getMember("load").execute(function.entry());
      loading = false;
      Value h = exports;
      for (String name : function.exportPath()) {
        h = h == null || h.isNull() || !h.hasMembers() ? null : h.getMember(name);
      }
      if (h == null || !h.canExecute()) {
        // Lambda's words (UserFunction.js): a falsy export is "undefined or not exported", any other "not a function"
        boolean falsy = h == null || h.isNull() || (h.isBoolean() && !h.asBoolean())
            || (h.isNumber() && h.fitsInDouble() && (h.asDouble() == 0 || Double.isNaN(h.asDouble())))
            || (h.isString() && h.asString().isEmpty());
        throw JsPreparedFunction.initFailure("Runtime.HandlerNotFound",
            function.definition().handler() + (falsy ? " is undefined or not exported" : " is not a function"));
      }
      handler = h;
    } catch (FunctionFailure f) {
      broken = true;
      throw f;
    } catch (RuntimeException e) {
      throw translate(FunctionFailure.Kind.INIT, e);
    } finally {
      loading = false;
      runner = null;
      flushOutput();
    }
  }

  /**
   * Parses the payload with {@code JSON.parse}, calls the handler, runs the event loop until the handler's promise
   * settles or its callback is called, and returns {@code JSON.stringify} of the result ({@code null} for
   * {@code undefined}).
   *
   * @throws FunctionFailure of kind HANDLER for an error the handler threw, rejected or passed to its callback, or
   *     BAD_PAYLOAD for a payload that is not JSON
   * @throws CancellationException if cancelled meanwhile
   */
  @Override
  public byte[] invoke(byte[] payload, Context invocationContext) {
    if (handler == null) {
      throw new IllegalStateException("init has not run in environment " + env.environmentId());
    }
    if (cancelled) {
      throw cancelledException();
    }
    runner = Thread.currentThread();
    invocation = invocationContext;
    int number = ++invocationNumber;
    settled = false;
    waitForEmptyLoop = false;
    resultJson = null;
    failure = null;
    try {
      // Every string handed to the guest is converted on the way in; the function's name, version, memory and ARN
      // stay the same from one invoke to the next, so the guest keeps them and hears again only of a change.
      String name = invocationContext.getFunctionName();
      String version = invocationContext.getFunctionVersion();
      int memory = invocationContext.getMemoryLimitInMB();
      String arn = invocationContext.getInvokedFunctionArn();
      if (memory != identityMemory || !name.equals(identityName) || !version.equals(identityVersion)
          || !arn.equals(identityArn)) {
        identityFn.executeVoid(name, version, memory, arn);
        identityName = name;
        identityVersion = version;
        identityMemory = memory;
        identityArn = arn;
      }
      invokeFn.executeVoid(handler, new String(payload, StandardCharsets.UTF_8), invocationContext.getAwsRequestId(),
          number);
      runLoop();
      if (cancelled) {
        throw cancelledException();
      }
      if (failure != null) {
        throw failure;
      }
      // Not settled and nothing left to wait for: Lambda's Node runtime answers null then too.
      return (settled ? resultJson : "null").getBytes(StandardCharsets.UTF_8);
    } catch (FunctionFailure f) {
      throw cancelled ? cancelledException() : f;
    } catch (RuntimeException e) {
      throw translate(FunctionFailure.Kind.HANDLER, e);
    } finally {
      invocation = null;
      runner = null;
      flushOutput();
    }
  }

  private void runLoop() {
    while (!cancelled && !(settled && !waitForEmptyLoop)) {
      EventLoop.Timer next = loop.peek();
      if (next == null) {
        return;
      }
      long wait;
      while (!cancelled && (wait = next.due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(this, wait);
      }
      if (cancelled) {
        return;
      }
      loop.take().callback.executeVoid();
    }
  }

  /** Stops the running init or invoke from the watchdog thread; never blocks. */
  @Override
  public void cancel() {
    if (cancelled) {
      return;
    }
    cancelled = true;
    Thread r = runner;
    if (r != null) {
      LockSupport.unpark(r); // a runner waiting for a timer
    }
    org.graalvm.polyglot.Context c = context;
    if (c != null) {
      // close(true) returns only once the guest has stopped: never on the watchdog's thread
      Thread.ofVirtual().name("embla-js-cancel-" + env.environmentId())
          .start(() -> GuestContexts.closeQuietly(c));
    }
  }

  /** Closes the context; Node functions have no shutdown hook to run. Pending timers are dropped. */
  @Override
  public void shutdown(Duration bound) {
    org.graalvm.polyglot.Context c = context;
    loop.clearAll();
    driver = null;
    invokeFn = null;
    identityFn = null;
    describeFn = null;
    handler = null;
    if (c != null) {
      GuestContexts.closeQuietly(c);
    }
  }

  /** Returns false once cancelled, or after the context failed in a way the function may not have survived. */
  @Override
  public boolean isReusable() {
    return !cancelled && !broken;
  }

  // A blank context made ahead of need when one is ready (BlankContexts), else a new one: the same sandbox either way.
  private org.graalvm.polyglot.Context newContext() {
    BlankContexts.Blank<Void> blank = function.blankContexts().take();
    if (blank != null) {
      return blank.bind(files, stdout, stderr);
    }
    return JsRuntimeProvider.newContext(function.engine(), files, stdout, stderr);
  }

  private ProxyObject hostFunctions() {
    Map<String, Object> host = new HashMap<>();
    host.put("write", (ProxyExecutable) a -> {
      FunctionOutput.Stream s = a[0].asInt() == 0 ? FunctionOutput.Stream.STDOUT : FunctionOutput.Stream.STDERR;
      for (String line : a[1].asString().split("\r?\n", -1)) {
        env.output().line(s, line);
      }
      return null;
    });
    host.put("remaining", (ProxyExecutable) a -> invocation == null ? 0 : invocation.getRemainingTimeInMillis());
    // Microseconds since the environment started, in steps of CLOCK_STEP_MICROS: a guest shares the JVM with other
    // functions, and a finer clock is a finer tool for timing attacks on them (browsers step theirs by 5-100 µs; Node
    // does not step at all). With an argument: the start, as wall-clock microseconds since the epoch.
    host.put("micros", (ProxyExecutable) a -> a.length > 0 ? originEpochMicros
        : (System.nanoTime() - originNanos) / 1_000 / CLOCK_STEP_MICROS * CLOCK_STEP_MICROS);
    host.put("setTimer", (ProxyExecutable) a -> loop.add(a[0], a[1].asLong(), a[2].asBoolean()));
    host.put("clearTimer", (ProxyExecutable) a -> {
      loop.clear(a[0].asInt());
      return null;
    });
    // The first argument is the number of the invocation being settled. A promise or callback that an earlier
    // invocation left open (it answered null, the loop being empty) stays in the warm context and may settle while a
    // later one runs. It is not the later invocation's answer: Lambda's runtime posts a result under its own request
    // id, and the earlier one has been answered already.
    host.put("succeeded", (ProxyExecutable) a -> {
      if (a[0].asInt() == invocationNumber) {
        settled = true;
        resultJson = a[1].asString();
        waitForEmptyLoop = a[2].asBoolean();
      }
      return null;
    });
    host.put("failed", (ProxyExecutable) a -> {
      if (a[0].asInt() == invocationNumber) {
        settled = true;
        failure = failureOf(FunctionFailure.Kind.HANDLER, a[1]);
      }
      return null;
    });
    host.put("badPayload", (ProxyExecutable) a -> {
      settled = true;
      failure = new FunctionFailure(FunctionFailure.Kind.BAD_PAYLOAD, "Runtime.UnmarshalError",
          "payload is not JSON: " + a[0].asString(), List.of(), null);
      return null;
    });
    host.put("uncaught", (ProxyExecutable) a -> {
      // An exception escaping a timer: Node would crash the process, so the invocation fails and the
      // environment is not reused.
      broken = true;
      FunctionFailure f = failureOf(FunctionFailure.Kind.HANDLER, a[0]);
      if (!settled) {
        settled = true;
        failure = f;
      } else {
        env.output().line(FunctionOutput.Stream.STDERR, "Uncaught " + f.errorType() + ": " + f.errorMessage());
      }
      return null;
    });
    host.put("stat", (ProxyExecutable) a -> {
      try {
        Path p = files.readable(Path.of(a[0].asString()));
        return Files.isRegularFile(p) ? 1 : Files.isDirectory(p) ? 2 : 0;
      } catch (IOException | RuntimeException e) {
        return 0;
      }
    });
    host.put("readText", (ProxyExecutable) a -> {
      try {
        return Files.readString(files.readable(Path.of(a[0].asString())), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    host.put("compile", (ProxyExecutable) a ->
        context.eval(function.commonJsSource(files, a[0].asString())));
    host.put("fs", (ProxyExecutable) a -> fs(a[0].asString(), a[1].asString(), a[2].isNull() ? null : a[2].asString()));
    return ProxyObject.fromMap(host);
  }

  // The runtime's fs module: text files in /var/task (read-only) and /tmp. Errors come back as Node's codes.
  private ProxyObject fs(String op, String guestPath, String data) {
    try {
      Path guest = Path.of(guestPath);
      Object result = switch (op) {
        case "read" -> Files.readString(files.readable(guest), StandardCharsets.UTF_8);
        case "write" -> {
          Files.writeString(files.writable(guest), data, StandardCharsets.UTF_8);
          yield null;
        }
        case "append" -> {
          Files.writeString(files.writable(guest), data, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
          yield null;
        }
        case "exists" -> Files.exists(files.readable(guest));
        case "readdir" -> {
          List<Object> names = new ArrayList<>();
          try (DirectoryStream<Path> d = Files.newDirectoryStream(files.readable(guest))) {
            d.forEach(p -> names.add(p.getFileName().toString()));
          }
          names.sort(null);
          yield ProxyArray.fromList(names);
        }
        case "mkdir" -> {
          Files.createDirectory(files.writable(guest));
          yield null;
        }
        case "mkdirs" -> {
          Files.createDirectories(files.writable(guest));
          yield null;
        }
        case "unlink" -> {
          Files.delete(files.writable(guest));
          yield null;
        }
        default -> throw new IllegalArgumentException("unknown fs operation " + op);
      };
      Map<String, Object> ok = new HashMap<>();
      ok.put("ok", result);
      return ProxyObject.fromMap(ok);
    } catch (IOException e) {
      String code = e instanceof NoSuchFileException ? "ENOENT"
          : e instanceof AccessDeniedException ? "EACCES"
          : e instanceof FileAlreadyExistsException ? "EEXIST"
          : e instanceof NotDirectoryException ? "ENOTDIR"
          : "EIO";
      String message = switch (code) {
        case "ENOENT" -> "no such file or directory";
        case "EACCES" -> "permission denied";
        case "EEXIST" -> "file already exists";
        case "ENOTDIR" -> "not a directory";
        default -> "i/o error";
      };
      return ProxyObject.fromMap(Map.of("code", code, "message", message));
    }
  }

  private RuntimeException translate(FunctionFailure.Kind kind, RuntimeException e) {
    if (cancelled) {
      return cancelledException();
    }
    if (e instanceof PolyglotException p) {
      if (p.isCancelled() || p.isInterrupted() || p.isExit()) {
        broken = true;
        return cancelledException();
      }
      if (kind == FunctionFailure.Kind.INIT) {
        broken = true;
      }
      if (p.isGuestException() && !p.isInternalError()) {
        if (p.isResourceExhausted()) {
          broken = true; // a stack overflow or an allocation failure may have left state half-changed
        }
        return guestFailure(kind, p);
      }
    }
    // A failure of the runtime itself, not the function's: the engine reports it and discards the environment.
    broken = true;
    return e;
  }

  private FunctionFailure guestFailure(FunctionFailure.Kind kind, PolyglotException p) {
    Value guest = p.getGuestObject();
    Value describer = loading ? describeLoadFailureFn : describeFn;
    if (guest != null && !guest.isNull() && describer != null) {
      try {
        return failureOf(kind, describer.execute(guest));
      } catch (RuntimeException ignored) {
        // fall through to what the host can see of it
      }
    }
    List<String> stack = new ArrayList<>();
    for (PolyglotException.StackFrame f : p.getPolyglotStackTrace()) {
      if (f.isGuestFrame()) {
        stack.add("    at " + f);
      }
    }
    if (loading && p.isSyntaxError()) {
      return new FunctionFailure(kind, "Runtime.UserCodeSyntaxError", "SyntaxError: " + p.getMessage(), stack, null);
    }
    return new FunctionFailure(kind, p.isSyntaxError() ? "SyntaxError" : "Error", p.getMessage(), stack, null);
  }

  private static FunctionFailure failureOf(FunctionFailure.Kind kind, Value described) {
    Value s = described.getMember("stack");
    List<String> stack = new ArrayList<>((int) s.getArraySize());
    for (long i = 0; i < s.getArraySize(); i++) {
      stack.add(s.getArrayElement(i).asString());
    }
    return new FunctionFailure(kind, described.getMember("type").asString(),
        described.getMember("message").asString(), stack, null);
  }

  private CancellationException cancelledException() {
    return new CancellationException("execution environment " + env.environmentId() + " was cancelled");
  }

  private void flushOutput() {
    stdout.flushPartial();
    stderr.flushPartial();
  }

}
