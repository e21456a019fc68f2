package dev.embla.faas.internal.java;

import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.RequestHandler;
import dev.embla.faas.spi.ShutdownHook;
import dev.embla.faas.spi.StreamHandler;
import dev.embla.faas.spi.runtime.EnvironmentContext;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionFailure;
import dev.embla.faas.spi.runtime.FunctionOutput;
import dev.embla.faas.spi.runtime.FunctionOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.json.JsonMapper;

/**
 * One execution environment of a Java function: its own {@link FunctionClassLoader}, the handler instance, and the
 * function's standard streams and shutdown hooks. Init, invoke and shutdown run on the caller's thread, with the
 * function's loader as context class loader.
 *
 * <p><b>Cancellation.</b> {@link #cancel} runs on another thread and must not block. It sets the loader's cancelled
 * flag (every preemption poll of the function's code then throws) and interrupts the running thread, so that
 * {@code sleep}, {@code wait} and interruptible I/O end too. The interrupt must never outlive the phase it was
 * meant for, since the thread is the caller's: a phase moves {@code state} IDLE to RUNNING on entry; cancel
 * interrupts only after moving RUNNING to INTERRUPTING, and sets INTERRUPTED when done; the phase's exit moves
 * RUNNING back to IDLE, or, if cancel got there first, waits out INTERRUPTING and then clears the interrupt flag. An
 * interrupt the caller had before the phase is hidden from the function and restored afterwards. A function that
 * allows several invocations per environment has phases running at once on several threads: each has its own copy
 * of that protocol (see {@link #enterPhase}), and cancel interrupts them all, since they share one loader.
 *
 * <p><b>Memory.</b> An idle environment holds its loader, the handler instance and a few fields. Print streams are
 * created on first use and dropped after each phase; the function's own JSON mapper exists only if its types need one.
 */
public final class JavaEnvironment implements ExecutionEnvironment {

  private static final int IDLE = 0;
  private static final int RUNNING = 1;
  private static final int INTERRUPTING = 2;
  private static final int INTERRUPTED = 3;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(JavaEnvironment.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final JavaPreparedFunction function;
  private final EnvironmentContext context;
  // Cleared by shutdown, so that the engine holding this object does not keep the function's classes alive.
  private volatile FunctionClassLoader loader;
  private HandlerSpec.Bound handler;
  private ObjectReader reader;
  // What enterPhase saved of the running thread; touched only by that thread (see enterPhase).
  private ClassLoader savedLoader;
  private JavaEnvironment savedCurrent;
  private boolean savedInterrupt;
  private volatile boolean vmError;
  private JsonMapper mapper;

  @SuppressWarnings("unused") // through STATE
  private volatile int state;
  private volatile Thread runner;
  // Phases running beside the one that owns the fields above; created on the first overlap (see enterPhase).
  private volatile java.util.Set<Phase> concurrent;

  private volatile SecurityException exitRefusal;
  private volatile boolean shutDown;
  // What System.getenv shows; see environmentVariables
  private volatile Map<String, String> variables;

  // guarded by this
  private FunctionOutputStream outSink;
  private FunctionOutputStream errSink;
  private PrintStream out;
  private PrintStream err;
  private List<Thread> shutdownHooks;

  JavaEnvironment(JavaPreparedFunction function, EnvironmentContext context) {
    this.function = function;
    this.context = Objects.requireNonNull(context, "context");
    this.loader = new FunctionClassLoader(function.code(), this);
  }

  /**
   * Loads the handler class (running its static initialisers) and constructs the handler, on this environment's
   * loader.
   *
   * @throws FunctionFailure of kind INIT if the function's initialisation throws or its handler cannot be bound, or
   *     EXIT if it called {@code System.exit}
   * @throws CancellationException if the environment was cancelled
   */
  @Override
  public void init() {
    FunctionClassLoader l = requireOpen();
    if (handler != null) {
      throw new IllegalStateException("init already ran in environment " + context.environmentId());
    }
    Phase phase = enterPhase(l);
    try {
      handler = function.spec().bind(l);
      if (l.isCancelled()) {
        throw cancelled();
      }
    } catch (Throwable e) {
      // failure() turns anything into the cancellation once cancelled, whoever threw it
      throw failure(FunctionFailure.Kind.INIT, e, l);
    } finally {
      leavePhase(phase);
    }
  }

  /**
   * Maps the payload to the handler's input, calls the handler and maps its result to JSON (stream handlers: the
   * bytes they wrote).
   *
   * @throws FunctionFailure of kind BAD_PAYLOAD, HANDLER or EXIT
   * @throws CancellationException if the environment was cancelled
   */
  @Override
  public byte[] invoke(byte[] payload, Context invocation) {
    FunctionClassLoader l = requireOpen();
    HandlerSpec.Bound h = handler;
    if (h == null) {
      throw new IllegalStateException("init has not run in environment " + context.environmentId());
    }
    Phase phase = enterPhase(l);
    try {
      byte[] result = call(h, payload, invocation);
      if (l.isCancelled()) {
        throw cancelled();
      }
      return result;
    } catch (MappingFailure e) {
      throw l.isCancelled() ? cancelled() : e.failure;
    } catch (Throwable e) {
      // Includes a FunctionFailure or CancellationException the function threw itself: those are its errors.
      throw failure(FunctionFailure.Kind.HANDLER, e, l);
    } finally {
      leavePhase(phase);
    }
  }

  /** Stops the running init, invoke or shutdown hook from another thread; never blocks. */
  @Override
  public void cancel() {
    FunctionClassLoader l = loader;
    if (l == null) {
      return;
    }
    if (l.markCancelled()) {
      SandboxHooks.cancelled(l);
    }
    if (STATE.compareAndSet(this, RUNNING, INTERRUPTING)) {
      try {
        Thread r = runner;
        if (r != null) {
          r.interrupt();
        }
      } finally {
        STATE.setVolatile(this, INTERRUPTED);
      }
    }
    java.util.Set<Phase> more = concurrent;
    if (more != null) {
      for (Phase p : more) {
        p.interrupt();
      }
    }
  }

  /**
   * Runs the handler's {@link ShutdownHook#onShutdown()} and the function's {@code Runtime} shutdown hooks on this
   * thread, cancelled after {@code bound}; their exceptions go to the environment's standard error. Then cancels the
   * environment for good, so that threads the function started stop at their next preemption poll (those blocked in
   * {@code sleep}, {@code wait} or a queue's {@code take} with the function's loader as their context loader are
   * interrupted as well), and lets go of the function's loader. A cancelled environment runs no hooks.
   */
  @Override
  public void shutdown(Duration bound) {
    FunctionClassLoader l = loader;
    if (l == null) {
      return;
    }
    try {
      if (!l.isCancelled()) {
        runShutdownHooks(l, bound);
      }
    } finally {
      shutDown = true; // before the interrupts below wake the function's threads
      // The same path as cancel(): the pending count stays raised until the loader is collected, which it can be
      // only once the function's threads have ended.
      if (l.markCancelled()) {
        SandboxHooks.cancelled(l);
      }
      interruptThreadsOf(l);
      synchronized (this) {
        shutdownHooks = null;
        out = null;
        err = null;
      }
      handler = null;
      reader = null;
      mapper = null;
      loader = null;
    }
  }

  /**
   * Returns whether the function tried to end the process ({@code System.exit}, {@code Runtime.halt}) even if it
   * caught the refusal; the engine should discard such an environment, as Lambda would have lost its process.
   */
  public boolean isBroken() {
    return exitRefusal != null;
  }

  @Override
  public boolean isReusable() {
    return !isBroken() && !vmError;
  }

  boolean isCancelled() {
    FunctionClassLoader l = loader;
    return l != null && l.isCancelled();
  }

  /** Returns the function's loader, or null once shut down. */
  FunctionClassLoader loader() {
    return loader;
  }

  /**
   * Returns the directory that stands for {@code /tmp} in this environment (see {@code Sandbox.tmpPath}).
   *
   * @throws IllegalStateException once the environment is shut down: its directory is deleted then, and a thread the
   *     function left behind must not bring it back
   */
  java.nio.file.Path tmpDirectory() {
    if (shutDown) {
      throw new IllegalStateException("execution environment " + context.environmentId()
          + " is shut down; its /tmp is gone");
    }
    return context.tmpDirectory();
  }

  Map<String, String> environmentVariables() {
    Map<String, String> vars = variables;
    if (vars == null) {
      // The revision's variables plus this environment's log stream; built on first use, off the cold-start path.
      // Two threads racing here build equal maps, so the unsynchronised publication is harmless.
      Map<String, String> all = new java.util.HashMap<>(function.definition().environment());
      all.put("AWS_LAMBDA_LOG_STREAM_NAME", context.logStreamName());
      variables = vars = Map.copyOf(all);
    }
    return vars;
  }

  void exitAttempted(SecurityException refusal) {
    exitRefusal = refusal;
  }

  synchronized PrintStream printStream(boolean error) {
    if (error) {
      if (err == null) {
        if (errSink == null) {
          errSink = new FunctionOutputStream(context.output(), FunctionOutput.Stream.STDERR);
        }
        err = new PrintStream(errSink, true, StandardCharsets.UTF_8);
      }
      return err;
    }
    if (out == null) {
      if (outSink == null) {
        outSink = new FunctionOutputStream(context.output(), FunctionOutput.Stream.STDOUT);
      }
      out = new PrintStream(outSink, true, StandardCharsets.UTF_8);
    }
    return out;
  }

  synchronized void addShutdownHook(Thread hook) {
    if (shutdownHooks == null) {
      shutdownHooks = new ArrayList<>(2);
    }
    if (shutdownHooks.contains(hook)) {
      throw new IllegalArgumentException("Hook previously registered");
    }
    if (hook.isAlive()) {
      throw new IllegalArgumentException("Hook already running");
    }
    shutdownHooks.add(hook);
  }

  synchronized boolean removeShutdownHook(Thread hook) {
    return shutdownHooks != null && shutdownHooks.remove(hook);
  }

  private byte[] call(HandlerSpec.Bound h, byte[] payload, Context invocation) throws Throwable {
    switch (h.dispatch()) {
      case REQUEST_HANDLER -> {
        @SuppressWarnings("unchecked")
        RequestHandler<Object, Object> rh = (RequestHandler<Object, Object>) h.instance();
        Object input = read(h.inputType(), payload);
        return write(rh.handle(input, invocation));
      }
      case STREAM_HANDLER -> {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        ((StreamHandler) h.instance()).handle(new ByteArrayInputStream(payload), output, invocation);
        return output.toByteArray();
      }
      default -> {
        HandlerSpec.Arg[] kinds = h.arguments();
        Object[] args = new Object[kinds.length];
        ByteArrayOutputStream output = null;
        for (int i = 0; i < kinds.length; i++) {
          args[i] = switch (kinds[i]) {
            case INPUT -> read(h.inputType(), payload);
            case CONTEXT -> invocation;
            case LAMBDA_CONTEXT ->
                LambdaContextAdapter.create(h.method().getParameterTypes()[i], invocation, context.logStreamName());
            case INPUT_STREAM -> new ByteArrayInputStream(payload);
            case OUTPUT_STREAM -> output = new ByteArrayOutputStream();
          };
        }
        Object result = h.method().invoke(h.instance(), args);
        if (output != null) {
          return output.toByteArray();
        }
        return h.method().getReturnType() == void.class ? Payloads.NULL : write(result);
      }
    }
  }

  private Object read(Type type, byte[] payload) {
    ObjectReader r = reader;
    if (r == null) {
      r = Payloads.isJdkType(type) ? Payloads.jdkReader(type) : mapper().readerFor(mapper().constructType(type));
      reader = r;
    }
    try {
      return r.readValue(payload.length == 0 ? Payloads.NULL : payload);
    } catch (JacksonException e) {
      throw new MappingFailure(new FunctionFailure(FunctionFailure.Kind.BAD_PAYLOAD, "Runtime.UnmarshalError",
          "payload does not map to " + Payloads.typeName(type) + ": " + e.getOriginalMessage(), List.of(), null));
    }
  }

  private byte[] write(Object result) {
    if (result == null) {
      return Payloads.NULL;
    }
    try {
      return Payloads.isJdkValue(result)
          ? Payloads.SHARED.writeValueAsBytes(result)
          : mapper().writeValueAsBytes(result);
    } catch (JacksonException e) {
      throw new MappingFailure(new FunctionFailure(FunctionFailure.Kind.HANDLER, "Runtime.MarshalError",
          "result of type " + result.getClass().getName() + " does not map to JSON: " + e.getOriginalMessage(),
          List.of(), null));
    }
  }

  // The environment's own mapper, for the function's classes; see Payloads.
  private JsonMapper mapper() {
    JsonMapper m = mapper;
    if (m == null) {
      m = Payloads.newMapper();
      mapper = m;
    }
    return m;
  }

  private void runShutdownHooks(FunctionClassLoader l, Duration bound) {
    Object instance = handler == null ? null : handler.instance();
    List<Thread> hooks;
    synchronized (this) {
      hooks = shutdownHooks == null ? List.of() : List.copyOf(shutdownHooks);
    }
    if (!(instance instanceof ShutdownHook) && hooks.isEmpty()) {
      return;
    }
    ScheduledFuture<?> deadline = HookDeadline.SCHEDULER.schedule(this::cancel, bound.toNanos(), TimeUnit.NANOSECONDS);
    Phase phase = enterPhase(l);
    try {
      if (instance instanceof ShutdownHook hook) {
        try {
          hook.onShutdown();
        } catch (Throwable e) {
          report("ShutdownHook.onShutdown", e, l, bound);
        }
      }
      for (Thread hook : hooks) {
        if (l.isCancelled()) {
          break;
        }
        try {
          // Run on this thread rather than started: the bound is then enforced by the same preemption as invoke.
          hook.run();
        } catch (Throwable e) {
          report("shutdown hook " + hook.getName(), e, l, bound);
        }
      }
    } finally {
      deadline.cancel(false);
      leavePhase(phase);
    }
  }

  /**
   * Interrupts the live platform threads whose context class loader is {@code l}: the threads the function started
   * directly or through an executor's default thread factory inherit it. A thread blocked in function code then wakes
   * and meets a poll. Virtual threads and threads that got another context loader (a JDK pool's worker) are not
   * found; they stop at their next poll once they run again.
   */
  private static void interruptThreadsOf(FunctionClassLoader l) {
    ThreadGroup root = Thread.currentThread().getThreadGroup();
    if (root == null) {
      return; // a terminated thread; cannot happen on the thread running this
    }
    while (root.getParent() != null) {
      root = root.getParent();
    }
    Thread[] threads = new Thread[root.activeCount() + 16];
    int n = root.enumerate(threads, true);
    Thread self = Thread.currentThread();
    for (int i = 0; i < n; i++) {
      Thread t = threads[i];
      if (t != self && t.getContextClassLoader() == l) {
        t.interrupt();
      }
    }
  }

  private void report(String what, Throwable e, FunctionClassLoader l, Duration bound) {
    Throwable t = Failures.unwrap(e);
    String line = l.isCancelled()
        ? what + " did not finish within " + bound.toMillis() + " ms and was cancelled"
        : what + " failed: " + t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    try {
      context.output().line(FunctionOutput.Stream.STDERR, line);
    } catch (RuntimeException ignored) {
      // the engine's sink failing must not stop the other hooks
    }
  }

  /**
   * Starts Init, Invoke or Shutdown on the calling thread: the function's loader as context class loader, this
   * environment as the thread's current one, the caller's interrupt hidden.
   *
   * <p>One phase at a time is the common case (Lambda's model), and it costs no allocation: the phase that moves
   * {@code state} from IDLE to RUNNING owns the fields where what must be restored is saved. A function that allows
   * several invocations per environment can have more phases running at once, on other threads; each of those gets a
   * {@link Phase} object in {@link #concurrent}, which {@link #cancel()} interrupts as it interrupts the first.
   *
   * @return null for the phase that owns the fields, else the concurrent phase's own record
   */
  private Phase enterPhase(FunctionClassLoader l) {
    if (l.isCancelled()) {
      throw cancelled();
    }
    // Hidden from the function, restored by leavePhase.
    boolean callerInterrupted = Thread.interrupted();
    Thread thread = Thread.currentThread();
    ClassLoader callerLoader = thread.getContextClassLoader();
    JavaEnvironment callerCurrent = SandboxHooks.CURRENT.get();
    Phase phase = null;
    if (STATE.compareAndSet(this, IDLE, RUNNING)) {
      runner = thread;
      savedInterrupt = callerInterrupted;
      savedLoader = callerLoader;
      savedCurrent = callerCurrent;
    } else {
      phase = new Phase(thread, callerInterrupted, callerLoader, callerCurrent);
      java.util.Set<Phase> more = concurrent;
      if (more == null) {
        synchronized (this) {
          if (concurrent == null) {
            concurrent = java.util.concurrent.ConcurrentHashMap.newKeySet();
          }
          more = concurrent;
        }
      }
      more.add(phase);
    }
    // A cancel that ran before this phase was visible to it interrupted nobody: interrupt here instead.
    if (l.isCancelled()) {
      thread.interrupt();
    }
    thread.setContextClassLoader(l);
    SandboxHooks.CURRENT.set(this);
    return phase;
  }

  /** Ends the phase {@link #enterPhase} started: flushes output and restores what it changed on the thread. */
  private void leavePhase(Phase phase) {
    flushOutput();
    Thread thread = Thread.currentThread();
    if (phase != null) {
      concurrent.remove(phase);
      SandboxHooks.CURRENT.set(phase.callerCurrent);
      thread.setContextClassLoader(phase.callerLoader);
      phase.leave(thread);
      return;
    }
    boolean callerInterrupted = savedInterrupt;
    SandboxHooks.CURRENT.set(savedCurrent);
    thread.setContextClassLoader(savedLoader);
    savedCurrent = null;
    savedLoader = null;
    // Cleared before the state leaves RUNNING, so that a phase entering next never has its runner overwritten.
    runner = null;
    if (!STATE.compareAndSet(this, RUNNING, IDLE)) {
      // cancel won the race: let it finish its interrupt before clearing the flag below
      while ((int) STATE.getVolatile(this) == INTERRUPTING) {
        Thread.onSpinWait();
      }
      STATE.setVolatile(this, IDLE);
    }
    // Clears the interrupt of a cancel, or one the function set on itself: the caller's thread leaves clean.
    Thread.interrupted();
    if (callerInterrupted) {
      thread.interrupt();
    }
  }

  /**
   * A phase running while another one owns the environment's fields (several invocations per environment), with the
   * same interrupt protocol as the first: {@link #interrupt()} moves RUNNING to INTERRUPTING, interrupts, and sets
   * INTERRUPTED; {@link #leave} waits out INTERRUPTING before it clears the flag.
   */
  private static final class Phase {
    private static final VarHandle PHASE_STATE;

    static {
      try {
        PHASE_STATE = MethodHandles.lookup().findVarHandle(Phase.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final Thread thread;
    final boolean callerInterrupted;
    final ClassLoader callerLoader;
    final JavaEnvironment callerCurrent;
    @SuppressWarnings("unused") // through PHASE_STATE
    private volatile int state = RUNNING;

    Phase(Thread thread, boolean callerInterrupted, ClassLoader callerLoader, JavaEnvironment callerCurrent) {
      this.thread = thread;
      this.callerInterrupted = callerInterrupted;
      this.callerLoader = callerLoader;
      this.callerCurrent = callerCurrent;
    }

    void interrupt() {
      if (PHASE_STATE.compareAndSet(this, RUNNING, INTERRUPTING)) {
        try {
          thread.interrupt();
        } finally {
          PHASE_STATE.setVolatile(this, INTERRUPTED);
        }
      }
    }

    void leave(Thread self) {
      if (!PHASE_STATE.compareAndSet(this, RUNNING, IDLE)) {
        while ((int) PHASE_STATE.getVolatile(this) == INTERRUPTING) {
          Thread.onSpinWait();
        }
      }
      Thread.interrupted();
      if (callerInterrupted) {
        self.interrupt();
      }
    }
  }

  private void flushOutput() {
    synchronized (this) {
      if (outSink != null) {
        outSink.flushPartial();
      }
      if (errSink != null) {
        errSink.flushPartial();
      }
      // Each PrintStream carries kilobytes of encoder buffers; a function that kept a reference keeps its own.
      out = null;
      err = null;
    }
  }

  private RuntimeException failure(FunctionFailure.Kind kind, Throwable e, FunctionClassLoader l) {
    if (l.isCancelled()) {
      return cancelled();
    }
    Throwable root = e instanceof java.lang.reflect.InvocationTargetException && e.getCause() != null ? e.getCause() : e;
    if (root instanceof VirtualMachineError && !(root instanceof StackOverflowError)) {
      // An OutOfMemoryError may have left the function's state half-built; Lambda would have lost the sandbox.
      vmError = true;
    }
    SecurityException refusal = exitRefusal;
    if (refusal != null) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t == refusal) {
          return Failures.of(FunctionFailure.Kind.EXIT, "Runtime.ExitError", refusal.getMessage());
        }
      }
    }
    return Failures.of(kind, e);
  }

  private CancellationException cancelled() {
    return new CancellationException("execution environment " + context.environmentId() + " was cancelled");
  }

  private FunctionClassLoader requireOpen() {
    FunctionClassLoader l = loader;
    if (l == null) {
      throw new IllegalStateException("environment " + context.environmentId() + " is shut down");
    }
    return l;
  }

  // The runtime's own mapping failures, kept apart from exceptions of the function's (which could be of any type,
  // FunctionFailure included, since the SPI is visible to functions).
  private static final class MappingFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient FunctionFailure failure;

    MappingFailure(FunctionFailure failure) {
      super(null, null, false, false);
      this.failure = failure;
    }
  }

  // Bounds shutdown hooks (the pool's Watchdog bounds invocations). One daemon thread per JVM, started by the first
  // shutdown that has hooks to bound.
  private static final class HookDeadline {
    static final ScheduledExecutorService SCHEDULER = create();

    private static ScheduledExecutorService create() {
      ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "embla-java-shutdown-deadline");
        t.setDaemon(true);
        return t;
      });
      executor.setRemoveOnCancelPolicy(true);
      return executor;
    }
  }
}
