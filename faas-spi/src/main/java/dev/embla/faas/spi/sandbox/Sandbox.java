package dev.embla.faas.spi.sandbox;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Enumeration;
import java.util.Map;
import java.util.Objects;

/**
 * The static entry points that rewritten function bytecode calls. When the Java runtime defines a function's class
 * it inserts {@link #poll(Class)} at method entries and loop back-edges, and redirects process-wide calls
 * ({@code System.exit}, {@code Runtime.halt}, {@code System.getenv}, {@code System.out}, shutdown hooks, the system
 * class loader, file names under {@code /tmp}) here, and passes every class loader the function obtains through
 * {@link #classLoader}. Each method receives the calling function class, so that the engine can find the execution
 * environment it belongs to.
 *
 * <p>The engine installs its {@link Hooks} once, before any function class is defined; a second
 * {@link #install(Hooks)} fails, so function code cannot replace them.
 *
 * @since 0.1
 */
public final class Sandbox {

  // Read on every poll: a plain volatile read is all that a function pays while no deadline has passed.
  private static volatile int pending;
  private static volatile Hooks hooks;

  private Sandbox() {}

  /**
   * What the engine does behind each redirected call. Implemented once, by the engine.
   */
  public interface Hooks {
    /** Throws if the environment owning {@code caller} has been cancelled; called only while a cancel is pending. */
    void poll(Class<?> caller);

    /** Handles {@code System.exit}, {@code Runtime.exit} and {@code Runtime.halt}; must throw. */
    RuntimeException exit(int status, Class<?> caller);

    /**
     * Handles {@code sun.misc.Signal.raise}: signalling the process would end the host (SIGTERM, SIGKILL) or run the
     * host's handlers, so it is refused like an exit; must throw. By default, it is the exit of a process killed by
     * that signal.
     */
    default RuntimeException raise(String signal, int number, Class<?> caller) {
      return exit(128 + number, caller);
    }

    /** Returns the value of the function's environment variable {@code name}, or null. */
    String getenv(String name, Class<?> caller);

    /** Returns the function's environment variables. */
    Map<String, String> getenv(Class<?> caller);

    /** Returns the stream that replaces {@code System.out} (or {@code System.err}) for the function. */
    PrintStream stdout(Class<?> caller, boolean err);

    /** Registers a shutdown hook thread to run at the environment's Shutdown. */
    void addShutdownHook(Thread hook, Class<?> caller);

    /** Unregisters a shutdown hook thread; returns whether it was registered. */
    boolean removeShutdownHook(Thread hook, Class<?> caller);

    /**
     * Returns {@code loader} if function code may hold it (a loader of the function's own, or the JDK's: null for
     * the boot loader, or the platform loader); otherwise, for a loader of the host or the engine, the loader of the
     * function that {@code caller} belongs to.
     */
    ClassLoader classLoader(ClassLoader loader, Class<?> caller);

    /** Returns the loader that replaces the system class loader for the function {@code caller} belongs to. */
    ClassLoader systemClassLoader(Class<?> caller);

    /**
     * Returns the private directory that stands for {@code /tmp} in the execution environment {@code caller}
     * belongs to, creating it on first use.
     *
     * @throws IllegalStateException if {@code caller} belongs to no running environment (one that was shut down)
     */
    Path tmpDirectory(Class<?> caller);
  }

  /** Controls the engine holds after {@link #install(Hooks)}: raising and lowering the pending-cancel count. */
  public static final class Control {
    private Control() {}

    /** Records that one more environment has been cancelled and may still run code. */
    public void cancelPending() {
      synchronized (Sandbox.class) {
        pending++;
      }
    }

    /** Records that a cancelled environment can no longer run code. */
    public void cancelCleared() {
      synchronized (Sandbox.class) {
        if (pending > 0) {
          pending--;
        }
      }
    }

    /** Returns how many cancelled environments may still run code. */
    public int pendingCancels() {
      return pending;
    }
  }

  /**
   * Installs the engine's hooks. Succeeds once per class loader that loaded this class.
   *
   * @return the controls over the pending-cancel flag
   * @throws IllegalStateException if hooks are installed already
   */
  public static synchronized Control install(Hooks engineHooks) {
    Objects.requireNonNull(engineHooks, "hooks");
    if (hooks != null) {
      throw new IllegalStateException("sandbox hooks are installed already");
    }
    hooks = engineHooks;
    return new Control();
  }

  /** Returns whether hooks have been installed. */
  public static boolean isInstalled() {
    return hooks != null;
  }

  /** A preemption point: throws once the calling environment's deadline has passed. Inserted at back-edges. */
  public static void poll(Class<?> caller) {
    if (pending != 0) {
      hooks.poll(caller);
    }
  }

  /** Replaces {@code System.exit(status)}; always throws. */
  public static void exit(int status, Class<?> caller) {
    throw hooks().exit(status, caller);
  }

  /** Replaces {@code Runtime.exit(status)} and {@code Runtime.halt(status)}; always throws. */
  public static void exit(Runtime runtime, int status, Class<?> caller) {
    throw hooks().exit(status, caller);
  }

  /** Replaces {@code sun.misc.Signal.raise(signal)}; always throws. */
  public static void raise(sun.misc.Signal signal, Class<?> caller) {
    Objects.requireNonNull(signal, "signal");
    throw hooks().raise(signal.getName(), signal.getNumber(), caller);
  }

  /**
   * Replaces {@code sun.misc.Signal.handle(signal, handler)}; always throws: a process has one handler per signal, and
   * it is the host's (replacing SIGTERM's would stop the host from shutting down when asked).
   */
  public static sun.misc.SignalHandler handle(sun.misc.Signal signal, sun.misc.SignalHandler handler,
      Class<?> caller) {
    throw new SecurityException("sun.misc.Signal.handle(SIG" + (signal == null ? "?" : signal.getName())
        + ") is not allowed in a function: the process's signal handlers are the host's");
  }

  /** Replaces {@code System.getenv(name)}. */
  public static String getenv(String name, Class<?> caller) {
    Objects.requireNonNull(name, "name");
    return hooks().getenv(name, caller);
  }

  /** Replaces {@code System.getenv()}. */
  public static Map<String, String> getenv(Class<?> caller) {
    return hooks().getenv(caller);
  }

  /** Replaces reads of {@code System.out}. */
  public static PrintStream out(Class<?> caller) {
    return hooks().stdout(caller, false);
  }

  /** Replaces reads of {@code System.err}. */
  public static PrintStream err(Class<?> caller) {
    return hooks().stdout(caller, true);
  }

  /** Replaces {@code System.setOut} and {@code System.setErr}: functions may not redirect the host's streams. */
  public static void setStream(PrintStream ignored, Class<?> caller) {
    // Deliberately a no-op: the host's streams are not the function's to replace.
  }

  /** Replaces {@code Throwable.printStackTrace()}, which would otherwise write to the host's standard error. */
  public static void printStackTrace(Throwable t, Class<?> caller) {
    t.printStackTrace(hooks().stdout(caller, true));
  }

  /** Replaces {@code Runtime.addShutdownHook(hook)}. */
  public static void addShutdownHook(Runtime runtime, Thread hook, Class<?> caller) {
    hooks().addShutdownHook(Objects.requireNonNull(hook, "hook"), caller);
  }

  /** Replaces {@code Runtime.removeShutdownHook(hook)}. */
  public static boolean removeShutdownHook(Runtime runtime, Thread hook, Class<?> caller) {
    return hooks().removeShutdownHook(Objects.requireNonNull(hook, "hook"), caller);
  }

  /**
   * Filters a class loader that function code obtained: the result of {@code Class.getClassLoader()},
   * {@code Thread.getContextClassLoader()}, {@code ClassLoader.getParent()}, {@code Module.getClassLoader()} or
   * {@code ProtectionDomain.getClassLoader()}. The call itself still runs; its result passes through here.
   *
   * @param loader the loader the original call returned
   * @return {@code loader} if it is the function's own or the JDK's, otherwise the calling function's own loader
   */
  public static ClassLoader classLoader(ClassLoader loader, Class<?> caller) {
    return hooks().classLoader(loader, caller);
  }

  /** Replaces {@code ClassLoader.getSystemClassLoader()}: returns the calling function's own loader. */
  public static ClassLoader getSystemClassLoader(Class<?> caller) {
    return hooks().systemClassLoader(caller);
  }

  /** Replaces {@code ClassLoader.getSystemResource(name)}: looks in the calling function's own loader. */
  public static URL getSystemResource(String name, Class<?> caller) {
    return hooks().systemClassLoader(caller).getResource(name);
  }

  /** Replaces {@code ClassLoader.getSystemResourceAsStream(name)}: looks in the calling function's own loader. */
  public static InputStream getSystemResourceAsStream(String name, Class<?> caller) {
    return hooks().systemClassLoader(caller).getResourceAsStream(name);
  }

  /** Replaces {@code ClassLoader.getSystemResources(name)}: looks in the calling function's own loader. */
  public static Enumeration<URL> getSystemResources(String name, Class<?> caller)
      throws IOException {
    return hooks().systemClassLoader(caller).getResources(name);
  }

  // ---- A private /tmp: paths naming /tmp or below are re-rooted in the environment's own directory. ----
  // Lexical, on absolute paths of the default file system only (see TmpMapping); every other path is untouched.

  /**
   * Maps the file name argument of {@code new File(String)}, {@code FileInputStream(String)},
   * {@code FileOutputStream(String...)}, {@code FileReader(String...)}, {@code FileWriter(String...)},
   * {@code RandomAccessFile(String, String)}, {@code PrintStream(String...)} and {@code PrintWriter(String...)}.
   *
   * @return the path in the caller's private {@code /tmp} if {@code path} names {@code /tmp} or a path below it (and
   *     is not in that private directory already), otherwise {@code path} itself (null stays null, so the
   *     constructor fails as it would have)
   */
  public static String tmpPath(String path, Class<?> caller) {
    Path below = TmpMapping.belowTmp(path);
    Path mapped = below == null ? null : TmpMapping.under(hooks().tmpDirectory(caller), below);
    return mapped == null ? path : mapped.toString();
  }

  /** Maps {@code new File(parent, child)}: returns the path of that file, re-rooted if it lies under {@code /tmp}. */
  public static String tmpPath(String parent, String child, Class<?> caller) {
    return tmpPath(new File(parent, child).getPath(), caller);
  }

  /** Maps {@code new File(parent, child)}: returns the path of that file, re-rooted if it lies under {@code /tmp}. */
  public static String tmpPath(File parent, String child, Class<?> caller) {
    return tmpPath(new File(parent, child).getPath(), caller);
  }

  /** Maps {@code new File(uri)}: returns the path of that file, re-rooted if it lies under {@code /tmp}. */
  public static String tmpPath(URI uri, Class<?> caller) {
    return tmpPath(new File(uri).getPath(), caller);
  }

  /** Replaces {@code Path.of(first, more)} and {@code Paths.get(first, more)}. */
  public static Path pathOf(String first, String[] more, Class<?> caller) {
    return tmpPath(Path.of(first, more), caller);
  }

  /** Replaces {@code Path.of(uri)} and {@code Paths.get(uri)}. */
  public static Path pathOf(URI uri, Class<?> caller) {
    return tmpPath(Path.of(uri), caller);
  }

  /** Replaces {@code fileSystem.getPath(first, more)}; only paths of the default file system are mapped. */
  public static Path getPath(FileSystem fileSystem, String first, String[] more, Class<?> caller) {
    return tmpPath(fileSystem.getPath(first, more), caller);
  }

  /** Replaces {@code File.createTempFile(prefix, suffix)}: the file is made in the caller's private {@code /tmp}. */
  public static File createTempFile(String prefix, String suffix, Class<?> caller) throws IOException {
    return File.createTempFile(prefix, suffix, hooks().tmpDirectory(caller).toFile());
  }

  /**
   * Replaces {@code File.createTempFile(prefix, suffix, directory)}: a null directory (the JDK's temporary directory)
   * or one under {@code /tmp} means the caller's private {@code /tmp}.
   */
  public static File createTempFile(String prefix, String suffix, File directory, Class<?> caller)
      throws IOException {
    File dir = directory == null
        ? hooks().tmpDirectory(caller).toFile()
        : new File(tmpPath(directory.getPath(), caller));
    return File.createTempFile(prefix, suffix, dir);
  }

  /**
   * Replaces {@code Files.createTempFile(prefix, suffix, attributes)}: the file is made in the caller's private
   * {@code /tmp}.
   */
  public static Path createTempFile(String prefix, String suffix, FileAttribute<?>[] attributes, Class<?> caller)
      throws IOException {
    return Files.createTempFile(hooks().tmpDirectory(caller), prefix, suffix, attributes);
  }

  /**
   * Replaces {@code Files.createTempDirectory(prefix, attributes)}: the directory is made in the caller's private
   * {@code /tmp}.
   */
  public static Path createTempDirectory(String prefix, FileAttribute<?>[] attributes, Class<?> caller)
      throws IOException {
    return Files.createTempDirectory(hooks().tmpDirectory(caller), prefix, attributes);
  }

  /**
   * Replaces {@code System.getProperty(key)}: {@code java.io.tmpdir} is the caller's private {@code /tmp}; every other
   * property is the JVM's.
   */
  public static String getProperty(String key, Class<?> caller) {
    return TMPDIR.equals(key) ? hooks().tmpDirectory(caller).toString() : System.getProperty(key);
  }

  /** Replaces {@code System.getProperty(key, fallback)}; see {@link #getProperty(String, Class)}. */
  public static String getProperty(String key, String fallback, Class<?> caller) {
    return TMPDIR.equals(key) ? hooks().tmpDirectory(caller).toString() : System.getProperty(key, fallback);
  }

  private static final String TMPDIR = "java.io.tmpdir";

  private static Path tmpPath(Path path, Class<?> caller) {
    Path below = TmpMapping.belowTmp(path);
    Path mapped = below == null ? null : TmpMapping.under(hooks().tmpDirectory(caller), below);
    return mapped == null ? path : mapped;
  }

  // ---- end of the private /tmp ----

  private static Hooks hooks() {
    Hooks h = hooks;
    if (h == null) {
      throw new IllegalStateException("sandbox hooks are not installed");
    }
    return h;
  }
}
