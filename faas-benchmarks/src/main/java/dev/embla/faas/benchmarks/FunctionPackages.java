package dev.embla.faas.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Packages benchmark functions: copies a class's bytes (or a guest language's source files) from this jar into a fresh
 * directory laid out like a Lambda zip. The function class loader does not see the benchmark's class path, so the
 * engine loads its own copy.
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

  /** Copies the given files of this jar's resource folder {@code dev/embla/faas/benchmarks/<folder>} to a directory. */
  static Path directoryOfResources(String folder, String... files) {
    try {
      Path dir = Files.createTempDirectory("embla-bench-fn-");
      for (String f : files) {
        Files.writeString(dir.resolve(f), resource(folder + "/" + f));
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns the text of this jar's resource {@code dev/embla/faas/benchmarks/<path>}. */
  static String resource(String path) {
    try (InputStream in = FunctionPackages.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("benchmark resource missing: " + path);
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
