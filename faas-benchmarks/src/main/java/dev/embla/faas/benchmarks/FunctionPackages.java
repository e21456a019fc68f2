package dev.embla.faas.benchmarks;

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Packages benchmark functions: copies a class's bytes (or a guest language's source files) from this jar into a fresh
 * directory laid out like a Lambda zip. The function class loader does not see the benchmark's class path, so the
 * engine loads its own copy.
 */
final class FunctionPackages {

  private static final Set<Path> CREATED = ConcurrentHashMap.newKeySet();

  static {
    // Drivers and JMH forks are short processes: delete what they unpacked when they exit, not in /tmp forever.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (Path dir : CREATED) {
        try {
          MoreFiles.deleteRecursively(dir, RecursiveDeleteOption.ALLOW_INSECURE);
        } catch (IOException e) {
          System.err.println("could not delete " + dir + ": " + e);
        }
      }
    }, "embla-bench-cleanup"));
  }

  private FunctionPackages() {}

  /** Creates a temporary directory that is deleted, with its contents, when the JVM exits. */
  static Path temporaryDirectory(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    CREATED.add(dir);
    return dir;
  }

  static Path directoryOf(Class<?>... classes) {
    try {
      Path dir = temporaryDirectory("embla-bench-fn-");
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
      Path dir = temporaryDirectory("embla-bench-fn-");
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
