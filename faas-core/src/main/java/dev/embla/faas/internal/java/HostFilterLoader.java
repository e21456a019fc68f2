package dev.embla.faas.internal.java;

import dev.embla.faas.spi.sandbox.Sandbox;
import java.lang.module.ModuleDescriptor;
import java.util.HashSet;
import java.util.Set;

/**
 * The parent of every {@link FunctionClassLoader}: exposes the JDK (the platform class loader, which delegates to the
 * boot loader) and the handler contracts in {@code dev.embla.faas.spi}, taken from the engine's own loader so that a
 * function's {@code RequestHandler} is the engine's even if the function bundles a copy. Nothing else of the host is
 * visible: not its libraries (Guava, Jackson), not the engine's internals, not the application's classes.
 *
 * <p>One instance is shared by every environment of every engine in the class loader that loaded the engine.
 */
final class HostFilterLoader extends ClassLoader {

  static final String SPI_PREFIX = "dev.embla.faas.spi.";

  static final HostFilterLoader INSTANCE = new HostFilterLoader(Sandbox.class.getClassLoader());

  // Packages of the JDK modules defined to the boot or platform loader. Function class names are checked against it,
  // so that a lookup of a function's own class never goes through the JDK's loaders only to fail with an exception.
  private static final Set<String> JDK_PACKAGES = jdkPackages();

  static {
    // Shared by all environments and loading only through other loaders: no reason to serialise on one lock.
    registerAsParallelCapable();
  }

  private final ClassLoader spiLoader;

  private HostFilterLoader(ClassLoader spiLoader) {
    super("embla-function-parent", ClassLoader.getPlatformClassLoader());
    this.spiLoader = spiLoader;
  }

  /** Returns whether {@code className} belongs to the parent: a JDK package or the SPI. */
  static boolean isParentName(String className) {
    if (className.startsWith("java.") || className.startsWith(SPI_PREFIX)) {
      return true;
    }
    int dot = className.lastIndexOf('.');
    return dot > 0 && JDK_PACKAGES.contains(className.substring(0, dot));
  }

  /** Returns whether {@code className} names a JDK class (its package is one of the JDK's). */
  static boolean isJdkName(String className) {
    if (className.startsWith("java.")) {
      return true;
    }
    int dot = className.lastIndexOf('.');
    return dot > 0 && JDK_PACKAGES.contains(className.substring(0, dot));
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (name.startsWith(SPI_PREFIX)) {
      return Class.forName(name, false, spiLoader);
    }
    return super.loadClass(name, resolve);
  }

  @Override
  protected Class<?> findClass(String name) throws ClassNotFoundException {
    throw new ClassNotFoundException(name);
  }

  private static Set<String> jdkPackages() {
    ClassLoader platform = ClassLoader.getPlatformClassLoader();
    Set<String> packages = new HashSet<>();
    for (Module module : ModuleLayer.boot().modules()) {
      ClassLoader loader = module.getClassLoader();
      if (loader == null || loader == platform) {
        ModuleDescriptor descriptor = module.getDescriptor();
        packages.addAll(descriptor == null ? module.getPackages() : descriptor.packages());
      }
    }
    return Set.copyOf(packages);
  }
}
