package dev.embla.faas.internal.java;

import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.objectweb.asm.ClassReader;

/**
 * One version's code: the unpacked package (classes and resources at the root, dependencies as {@code lib/*.jar})
 * and the cache of its rewritten class bytes. Every environment of the version defines its classes from this cache,
 * so each class is read and transformed once per version, however many environments are created.
 *
 * <p>Thread-safe. Two threads may transform the same class at once; one result wins and both are equal.
 */
final class CodePackage implements Closeable {

  /** The bytes to define for one class, and the protection domain naming where they came from. */
  record Definition(byte[] bytes, ProtectionDomain domain) {}

  private record Jar(Path path, JarFile file, ProtectionDomain domain) {}

  private record Raw(byte[] bytes, ProtectionDomain domain) {}

  private static final Object MISSING = new Object();

  private final Path root;
  private final ProtectionDomain rootDomain;
  private final List<Jar> jars;
  // binary name -> Definition, or MISSING so that repeated probes for absent classes do not touch the disk again
  private final ConcurrentHashMap<String, Object> classes = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Boolean> throwables = new ConcurrentHashMap<>();

  private CodePackage(Path root, ProtectionDomain rootDomain, List<Jar> jars) {
    this.root = root;
    this.rootDomain = rootDomain;
    this.jars = jars;
  }

  /** Opens the package at {@code directory}; the jars under {@code lib/} stay open until {@link #close()}. */
  static CodePackage open(Path directory) throws IOException {
    Path root = directory.toRealPath();
    if (!Files.isDirectory(root)) {
      throw new IOException("code directory " + directory + " is not a directory");
    }
    List<Path> jarPaths = new ArrayList<>();
    Path lib = root.resolve("lib");
    if (Files.isDirectory(lib)) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(lib, "*.jar")) {
        entries.forEach(jarPaths::add);
      }
    }
    // Lambda puts lib/*.jar on the class path in name order; a stable order keeps duplicate classes deterministic.
    jarPaths.sort(Comparator.comparing(p -> p.getFileName().toString()));
    List<Jar> jars = new ArrayList<>();
    try {
      for (Path p : jarPaths) {
        jars.add(new Jar(p, new JarFile(p.toFile(), false), domain(p.toUri().toURL())));
      }
    } catch (IOException e) {
      for (Jar j : jars) {
        j.file().close();
      }
      throw e;
    }
    return new CodePackage(root, domain(root.toUri().toURL()), List.copyOf(jars));
  }

  /** Returns the rewritten bytes of class {@code binaryName}, or null if the package does not hold it. */
  Definition definition(String binaryName) {
    Object found = classes.get(binaryName);
    if (found == null) {
      // Not computeIfAbsent: transforming may read other classes (printStackTrace owners), and a long computation
      // must not hold a map bin's lock.
      Raw raw = binaryName.indexOf('/') >= 0 ? null : readRaw(binaryName.replace('.', '/') + ".class");
      found = raw == null
          ? MISSING
          : new Definition(SandboxTransformer.transform(raw.bytes(), this::isThrowable), raw.domain());
      Object previous = classes.putIfAbsent(binaryName, found);
      if (previous != null) {
        found = previous;
      }
    }
    return found == MISSING ? null : (Definition) found;
  }

  /** Returns the first URL of resource {@code name} (root first, then the jars in order), or null. */
  URL findResource(String name) {
    List<URL> urls = resources(name, true);
    return urls.isEmpty() ? null : urls.get(0);
  }

  /** Returns every URL of resource {@code name}. */
  List<URL> findResources(String name) {
    return resources(name, false);
  }

  /**
   * Returns whether the class with internal name {@code internalName} is a {@link Throwable}, following superclasses
   * through the package's own bytes and then the JDK, never through the engine's class loader.
   */
  boolean isThrowable(String internalName) {
    Boolean known = throwables.get(internalName);
    if (known != null) {
      return known;
    }
    boolean result = false;
    String name = internalName;
    for (int depth = 0; depth < 64 && name != null; depth++) {
      String dotted = name.replace('/', '.');
      if (HostFilterLoader.isJdkName(dotted)) {
        try {
          result = Throwable.class.isAssignableFrom(Class.forName(dotted, false, ClassLoader.getPlatformClassLoader()));
        } catch (ClassNotFoundException | LinkageError e) {
          result = false;
        }
        break;
      }
      Raw raw = readRaw(name + ".class");
      if (raw == null) {
        break;
      }
      name = new ClassReader(raw.bytes()).getSuperName();
    }
    throwables.put(internalName, result);
    return result;
  }

  @Override
  public void close() throws IOException {
    IOException failure = null;
    for (Jar jar : jars) {
      try {
        jar.file().close();
      } catch (IOException e) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private Raw readRaw(String path) {
    try {
      Path file = root.resolve(path);
      if (Files.isRegularFile(file)) {
        return new Raw(Files.readAllBytes(file), rootDomain);
      }
      for (Jar jar : jars) {
        ZipEntry entry = jar.file().getEntry(path);
        if (entry != null) {
          try (InputStream in = jar.file().getInputStream(entry)) {
            return new Raw(in.readAllBytes(), jar.domain());
          }
        }
      }
      return null;
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path + " from the code package", e);
    }
  }

  private List<URL> resources(String name, boolean firstOnly) {
    List<URL> urls = new ArrayList<>(1);
    if (name.isEmpty() || name.startsWith("/") || name.contains("\\")) {
      return urls;
    }
    try {
      Path file = root.resolve(name).normalize();
      // normalize() resolves "..": a resource name must not reach outside the package
      if (file.startsWith(root) && Files.exists(file)) {
        urls.add(file.toUri().toURL());
        if (firstOnly) {
          return urls;
        }
      }
      for (Jar jar : jars) {
        if (jar.file().getEntry(name) != null) {
          urls.add(jarUrl(jar, name));
          if (firstOnly) {
            return urls;
          }
        }
      }
    } catch (MalformedURLException | RuntimeException e) {
      // an unusable name (illegal path characters) is simply not a resource of this package
    }
    return urls;
  }

  // A jar: URL whose handler reads from the jar this package holds open, instead of the JDK's jar handler, whose
  // global cache would keep every retired version's jars open until the JVM exits.
  private static URL jarUrl(Jar jar, String entryName) throws MalformedURLException {
    try {
      URI uri = new URI("jar", jar.path().toUri() + "!/" + entryName, null);
      return URL.of(uri, new EntryHandler(jar.file(), entryName));
    } catch (URISyntaxException e) {
      throw new MalformedURLException(e.getMessage());
    }
  }

  private static ProtectionDomain domain(URL location) {
    return new ProtectionDomain(new CodeSource(location, (CodeSigner[]) null), null);
  }

  private static final class EntryHandler extends URLStreamHandler {
    private final JarFile jar;
    private final String entryName;

    EntryHandler(JarFile jar, String entryName) {
      this.jar = jar;
      this.entryName = entryName;
    }

    @Override
    protected URLConnection openConnection(URL url) {
      return new URLConnection(url) {
        @Override
        public void connect() {
          connected = true;
        }

        @Override
        public InputStream getInputStream() throws IOException {
          ZipEntry entry = jar.getEntry(entryName);
          if (entry == null) {
            throw new FileNotFoundException(url.toString());
          }
          return jar.getInputStream(entry);
        }

        @Override
        public long getContentLengthLong() {
          ZipEntry entry = jar.getEntry(entryName);
          return entry == null ? -1 : entry.getSize();
        }
      };
    }
  }
}
