package dev.embla.faas.internal.java;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;

/**
 * The class loader of one execution environment: defines the function's classes from its version's cached,
 * rewritten bytes, so statics are per environment as they are per container in Lambda. JDK packages and the SPI come
 * from {@link HostFilterLoader} first; any other name is the function's own or does not exist.
 *
 * <p>It also carries the environment's cancelled flag, because rewritten code finds its environment through
 * {@code caller.getClassLoader()}: a thread the function started keeps seeing the flag after the environment itself
 * is gone. Not registered as parallel capable: an environment runs one invocation at a time, and a parallel-capable
 * loader keeps a lock object per class name.
 */
final class FunctionClassLoader extends ClassLoader {

  private static final VarHandle CANCELLED;

  static {
    try {
      CANCELLED = MethodHandles.lookup().findVarHandle(FunctionClassLoader.class, "cancelled", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final java.util.concurrent.ConcurrentHashMap<String, Class<?>> PARENT_CLASSES =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final CodePackage code;
  private final JavaEnvironment environment;
  private volatile boolean cancelled;

  /**
   * Creates a loader.
   *
   * @param environment the owning environment, or null for the loader that only validates a handler at prepare
   */
  FunctionClassLoader(CodePackage code, JavaEnvironment environment) {
    super(HostFilterLoader.INSTANCE);
    this.code = code;
    this.environment = environment;
  }

  /** Returns the owning environment, or null for a validation loader. */
  JavaEnvironment environment() {
    return environment;
  }

  boolean isCancelled() {
    return cancelled;
  }

  /** Sets the cancelled flag; returns whether this call set it. */
  boolean markCancelled() {
    // A CAS, not a lock: cancel runs on the watchdog's thread and must never wait for the loader's own lock.
    return CANCELLED.compareAndSet(this, false, true);
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    // JDK and SPI classes are the same Class for every environment: after the first lookup, a map read replaces the
    // walk through the parent loaders, which is a large share of a cold start (every class a function links to).
    Class<?> shared = PARENT_CLASSES.get(name);
    if (shared != null) {
      return shared;
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        if (HostFilterLoader.isParentName(name)) {
          try {
            c = getParent().loadClass(name);
            PARENT_CLASSES.putIfAbsent(name, c);
          } catch (ClassNotFoundException e) {
            // A JDK-named package the JDK lacks may be the function's own; java.* and the SPI never are.
            if (name.startsWith("java.") || name.startsWith(HostFilterLoader.SPI_PREFIX)) {
              throw e;
            }
          }
        }
        if (c == null) {
          c = findClass(name);
        }
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  @Override
  protected Class<?> findClass(String name) throws ClassNotFoundException {
    CodePackage.Definition definition = code.definition(name);
    if (definition == null) {
      throw new ClassNotFoundException(name);
    }
    byte[] bytes = definition.bytes();
    return DefinitionGate.INSTANCE.run(() -> defineClass(name, bytes, 0, bytes.length, definition.domain()));
  }

  @Override
  protected URL findResource(String name) {
    return code.findResource(name);
  }

  @Override
  protected Enumeration<URL> findResources(String name) {
    return Collections.enumeration(code.findResources(name));
  }
}
