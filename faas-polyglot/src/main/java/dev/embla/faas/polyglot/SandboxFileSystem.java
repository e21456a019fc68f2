package dev.embla.faas.polyglot;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.graalvm.polyglot.io.FileSystem;

/**
 * The only files a polyglot function (JavaScript or Python) can reach: its code at {@code /var/task} (read-only, as in
 * Lambda) and its environment's private {@code /tmp} (read-write). Every other path does not exist for the guest.
 *
 * <p>Guest paths are plain absolute {@link Path}s of the host's default file system ({@code /var/task/index.js}),
 * mapped to the real directories only when a file is touched. A mapped path is checked again after resolving
 * symbolic links, so that a link in the code package cannot lead out of it. The same mapping serves the polyglot
 * context (ES module imports, Python imports and {@code open}) and the JavaScript runtime's own {@code fs} module and
 * CommonJS loader.
 *
 * <p>Shared by the runtimes of this module; not an API for hosts.
 */
public final class SandboxFileSystem implements FileSystem {

  /** The guest's view of the function's code, Lambda's {@code LAMBDA_TASK_ROOT}. */
  public static final String TASK_ROOT = "/var/task";

  /** The guest's view of the environment's writable directory. */
  public static final String TMP = "/tmp";

  private static final Path TASK = Path.of(TASK_ROOT);
  private static final Path TMP_PATH = Path.of(TMP);

  private final Path code;
  private final Supplier<Path> tmp;
  private volatile Path tmpResolved;

  /**
   * Creates the file system of one execution environment.
   *
   * @param code the unpacked code directory
   * @param tmp the environment's {@code /tmp}, asked for only when the guest first touches {@code /tmp}: the engine
   *     creates it lazily
   */
  public SandboxFileSystem(Path code, Supplier<Path> tmp) {
    this.code = code.toAbsolutePath().normalize();
    this.tmp = tmp;
  }

  /**
   * A host path the guest may use, and whether it may write there.
   *
   * @param host the host path
   * @param writable whether the guest may write there
   */
  public record Mapped(Path host, boolean writable) {}

  /**
   * Maps a guest path to the host, or throws the exception a missing file would give: the guest learns nothing about
   * paths outside its two directories.
   */
  public Mapped map(Path guestPath) throws IOException {
    Path p = TASK.resolve(guestPath).normalize(); // relative paths are relative to /var/task, Lambda's cwd
    Path root;
    Path hostRoot;
    boolean writable;
    if (p.startsWith(TASK)) {
      root = TASK;
      hostRoot = code;
      writable = false;
    } else if (p.startsWith(TMP_PATH)) {
      root = TMP_PATH;
      hostRoot = tmpRoot();
      writable = true;
    } else {
      throw new NoSuchFileException(guestPath.toString());
    }
    Path host = hostRoot;
    for (Path part : root.relativize(p)) {
      if (!part.toString().isEmpty()) {
        host = host.resolve(part.toString());
      }
    }
    confine(host, hostRoot, guestPath);
    return new Mapped(host, writable);
  }

  /** Returns the mapped host path for reading. */
  public Path readable(Path guestPath) throws IOException {
    return map(guestPath).host();
  }

  /** Returns the mapped host path for writing; {@code /var/task} is read-only. */
  public Path writable(Path guestPath) throws IOException {
    Mapped m = map(guestPath);
    if (!m.writable()) {
      throw new AccessDeniedException(guestPath.toString(), null, "read-only file system");
    }
    return m.host();
  }

  // Resolves links on the longest existing prefix of host and checks it stays under root.
  private static void confine(Path host, Path root, Path guestPath) throws IOException {
    Path existing = host;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      throw new NoSuchFileException(guestPath.toString());
    }
    Path real = Files.exists(existing) ? existing.toRealPath() : existing; // a dangling link resolves nowhere
    if (!real.startsWith(root.toRealPath())) {
      throw new NoSuchFileException(guestPath.toString());
    }
  }

  private Path tmpRoot() throws IOException {
    Path t = tmpResolved;
    if (t == null) {
      t = tmp.get().toAbsolutePath().normalize();
      Files.createDirectories(t);
      tmpResolved = t;
    }
    return t;
  }

  @Override
  public Path parsePath(URI uri) {
    return parseGuestUri(uri);
  }

  /**
   * Parses a guest URI as {@link #parsePath(URI)} does; needs no files, so a file system that has none yet (a blank
   * context's) answers the same.
   */
  public static Path parseGuestUri(URI uri) {
    if (!"file".equals(uri.getScheme())) {
      throw new UnsupportedOperationException("only file URIs are supported, was " + uri);
    }
    return Path.of(uri.getPath());
  }

  @Override
  public Path parsePath(String path) {
    return Path.of(path);
  }

  @Override
  public void checkAccess(Path path, Set<? extends AccessMode> modes, LinkOption... linkOptions) throws IOException {
    Mapped m = map(path);
    if (modes.contains(AccessMode.WRITE) && !m.writable()) {
      throw new AccessDeniedException(path.toString(), null, "read-only file system");
    }
    if (modes.contains(AccessMode.EXECUTE)) {
      throw new AccessDeniedException(path.toString(), null, "no execute access");
    }
    if (!Files.exists(m.host(), linkOptions)) {
      throw new NoSuchFileException(path.toString());
    }
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    Files.createDirectory(writable(dir));
  }

  @Override
  public void delete(Path path) throws IOException {
    Files.delete(writable(path));
  }

  @Override
  public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    boolean write = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
    Path host = write ? writable(path) : readable(path);
    return Files.newByteChannel(host, options);
  }

  @Override
  public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
      throws IOException {
    Path guestDir = toAbsolutePath(dir).normalize();
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> host = Files.newDirectoryStream(readable(guestDir))) {
      for (Path e : host) {
        Path guest = guestDir.resolve(e.getFileName().toString());
        if (filter.accept(guest)) {
          entries.add(guest);
        }
      }
    }
    return new DirectoryStream<>() {
      @Override
      public java.util.Iterator<Path> iterator() {
        return entries.iterator();
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void setCurrentWorkingDirectory(Path currentWorkingDirectory) {
    checkWorkingDirectory(currentWorkingDirectory);
  }

  /**
   * Refuses any working directory but {@code /var/task}, as {@link #setCurrentWorkingDirectory} does: relative paths
   * always resolve against it, Lambda's working directory.
   */
  public static void checkWorkingDirectory(Path currentWorkingDirectory) {
    if (!TASK.equals(currentWorkingDirectory)) {
      throw new UnsupportedOperationException("the working directory is " + TASK_ROOT);
    }
  }

  @Override
  public Path toAbsolutePath(Path path) {
    return absoluteGuestPath(path);
  }

  /** Resolves a guest path against {@code /var/task}, as {@link #toAbsolutePath} does. */
  public static Path absoluteGuestPath(Path path) {
    return TASK.resolve(path);
  }

  @Override
  public Path toRealPath(Path path, LinkOption... linkOptions) throws IOException {
    // The guest sees no links: its two directories are its whole world, already confined by map().
    Path p = toAbsolutePath(path).normalize();
    map(p);
    return p;
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
    return Files.readAttributes(readable(path), attributes, options);
  }
}
