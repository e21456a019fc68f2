package dev.embla.faas.internal.java;

import dev.embla.faas.spi.sandbox.Sandbox;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.Map;

/**
 * The engine's side of {@link Sandbox}: finds the execution environment behind each redirected call from the calling
 * class's loader (or, for classes too old to name themselves, from the environment running on the current thread)
 * and acts for it. Installed once per JVM (per loader of the SPI), on first use, and shared by every engine.
 *
 * <p>Calls whose environment cannot be found (a class of a validation loader, a forged caller) get the safe answer:
 * no environment variables, output dropped, exit refused, the platform class loader, no {@code /tmp}. Never the
 * host's.
 */
final class SandboxHooks implements Sandbox.Hooks {

  /** The environment whose init, invoke or shutdown runs on this thread; for callers that passed no class. */
  static final ThreadLocal<JavaEnvironment> CURRENT = new ThreadLocal<>();

  private static final PrintStream DISCARD = new PrintStream(OutputStream.nullOutputStream());

  private static final ClassLoader PLATFORM = ClassLoader.getPlatformClassLoader();

  private SandboxHooks() {}

  private static final class Holder {
    static final Sandbox.Control CONTROL = Sandbox.install(new SandboxHooks());
    // One daemon thread for the JVM, started on the first cancel; it lowers the pending count once a cancelled
    // environment's loader is unreachable, so healthy functions return to the one-volatile-read fast path.
    static final Cleaner CLEANER = Cleaner.create();
  }

  /** Installs the hooks if no engine has yet, and returns the pending-cancel controls. */
  static Sandbox.Control control() {
    return Holder.CONTROL;
  }

  /**
   * Records that the environment of {@code loader} was cancelled: every poll now takes the slow path until the loader
   * is collected, so threads the function started are stopped at their next poll too.
   */
  static void cancelled(FunctionClassLoader loader) {
    Sandbox.Control control = Holder.CONTROL;
    control.cancelPending();
    Holder.CLEANER.register(loader, control::cancelCleared);
  }

  @Override
  public void poll(Class<?> caller) {
    if (caller != null && caller.getClassLoader() instanceof FunctionClassLoader loader) {
      if (loader.isCancelled()) {
        throw new InvocationCancelledError();
      }
      return;
    }
    JavaEnvironment current = CURRENT.get();
    if (current != null && current.isCancelled()) {
      throw new InvocationCancelledError();
    }
  }

  @Override
  public RuntimeException exit(int status, Class<?> caller) {
    SecurityException refusal = new SecurityException(
        "System.exit(" + status + ") is not allowed in a function; the host keeps running");
    JavaEnvironment environment = environmentOf(caller);
    if (environment != null) {
      environment.exitAttempted(refusal);
    }
    return refusal;
  }

  @Override
  public RuntimeException raise(String signal, int number, Class<?> caller) {
    SecurityException refusal = new SecurityException("sun.misc.Signal.raise(SIG" + signal + ") is not allowed in a"
        + " function: it would signal the host's process; the host keeps running");
    JavaEnvironment environment = environmentOf(caller);
    if (environment != null) {
      environment.exitAttempted(refusal);
    }
    return refusal;
  }

  @Override
  public String getenv(String name, Class<?> caller) {
    JavaEnvironment environment = environmentOf(caller);
    return environment == null ? null : environment.environmentVariables().get(name);
  }

  @Override
  public Map<String, String> getenv(Class<?> caller) {
    JavaEnvironment environment = environmentOf(caller);
    return environment == null ? Map.of() : environment.environmentVariables();
  }

  @Override
  public PrintStream stdout(Class<?> caller, boolean err) {
    JavaEnvironment environment = environmentOf(caller);
    return environment == null ? DISCARD : environment.printStream(err);
  }

  @Override
  public void addShutdownHook(Thread hook, Class<?> caller) {
    JavaEnvironment environment = environmentOf(caller);
    if (environment == null) {
      throw new IllegalStateException("shutdown hooks can only be added by function code");
    }
    environment.addShutdownHook(hook);
  }

  @Override
  public boolean removeShutdownHook(Thread hook, Class<?> caller) {
    JavaEnvironment environment = environmentOf(caller);
    return environment != null && environment.removeShutdownHook(hook);
  }

  @Override
  public ClassLoader classLoader(ClassLoader loader, Class<?> caller) {
    return isVisibleToFunctions(loader) ? loader : systemClassLoader(caller);
  }

  @Override
  public ClassLoader systemClassLoader(Class<?> caller) {
    if (caller != null && caller.getClassLoader() instanceof FunctionClassLoader loader) {
      return loader;
    }
    JavaEnvironment current = CURRENT.get();
    ClassLoader loader = current == null ? null : current.loader();
    // No function to speak for (an old class that named no caller, outside any phase): the JDK's loader, never the host's.
    return loader != null ? loader : PLATFORM;
  }

  @Override
  public Path tmpDirectory(Class<?> caller) {
    JavaEnvironment environment = environmentOf(caller);
    if (environment == null) {
      // Never fall back to the host's /tmp: that is the one thing the mapping exists to avoid.
      throw new IllegalStateException("/tmp is private to an execution environment, and this code runs in none");
    }
    return environment.tmpDirectory();
  }

  /**
   * Returns whether function code may hold {@code loader}: the boot (null) or platform loader, a function's loader or
   * its parent, or a loader the function built on top of one of those (its chain of parents reaches one).
   */
  static boolean isVisibleToFunctions(ClassLoader loader) {
    if (loader == null || loader == PLATFORM) {
      return true;
    }
    // getParent() is final: no function code runs during this walk.
    for (ClassLoader l = loader; l != null; l = l.getParent()) {
      if (l instanceof FunctionClassLoader || l instanceof HostFilterLoader) {
        return true;
      }
    }
    return false;
  }

  private static JavaEnvironment environmentOf(Class<?> caller) {
    if (caller != null && caller.getClassLoader() instanceof FunctionClassLoader loader) {
      return loader.environment();
    }
    return CURRENT.get();
  }
}
