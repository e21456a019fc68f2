package dev.embla.faas.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Packages benchmark functions: copies a class's bytes from this jar into a fresh directory laid out like a Lambda
 * zip. The function class loader does not see the benchmark's class path, so the engine loads its own copy.
 */
final class FunctionPackages {

  private FunctionPackages() {}

  static Path directoryOf(Class<?>... classes) {
    try {
      Path dir = Files.createTempDirectory("embla-bench-fn-");
      for (Class<?> c : classes) {
        String resource = c.getName().replace('.', '/') + ".class";
        try (InputStream in = c.getClassLoader().getResourceAsStream(resource)) {
          Path target = dir.resolve(resource);
          Files.createDirectories(target.getParent());
          Files.write(target, in.readAllBytes());
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
