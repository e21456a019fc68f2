package dev.embla.faas.polyglot.python;

import dev.embla.faas.polyglot.SandboxFileSystem;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.Charset;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.Map;
import java.util.Set;
import org.graalvm.polyglot.io.FileSystem;

/**
 * A Python context's file system: the {@link SandboxFileSystem} ({@code /var/task} read-only, {@code /tmp}
 * read-write), plus GraalPy's own standard library, which the language reads from its internal resources on the host
 * (as Lambda's Python reads {@code /var/lang}).
 *
 * <p>{@link FileSystem#allowInternalResourceAccess} lets the language reach those resources, but does not make them
 * read-only: a guest could append to the host's cached {@code os.py}, shared by every context and every later process.
 * This class refuses every write outside {@code /tmp} before it reaches either file system.
 */
final class GuestFileSystem implements FileSystem {

  private static final Path TMP = Path.of(SandboxFileSystem.TMP);
  private static final Set<? extends OpenOption> WRITES = Set.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND,
      StandardOpenOption.CREATE, StandardOpenOption.CREATE_NEW, StandardOpenOption.TRUNCATE_EXISTING,
      StandardOpenOption.DELETE_ON_CLOSE);

  private final FileSystem delegate;

  GuestFileSystem(FileSystem sandbox) {
    this.delegate = FileSystem.allowInternalResourceAccess(sandbox);
  }

  private void requireWritable(Path path) throws IOException {
    if (!delegate.toAbsolutePath(path).normalize().startsWith(TMP)) {
      throw new AccessDeniedException(path.toString(), null, "read-only file system");
    }
  }

  @Override
  public Path parsePath(URI uri) {
    return delegate.parsePath(uri);
  }

  @Override
  public Path parsePath(String path) {
    return delegate.parsePath(path);
  }

  @Override
  public void checkAccess(Path path, Set<? extends AccessMode> modes, LinkOption... linkOptions) throws IOException {
    if (modes.contains(AccessMode.WRITE)) {
      requireWritable(path);
    }
    delegate.checkAccess(path, modes, linkOptions);
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    requireWritable(dir);
    delegate.createDirectory(dir, attrs);
  }

  @Override
  public void delete(Path path) throws IOException {
    requireWritable(path);
    delegate.delete(path);
  }

  @Override
  public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    if (options.stream().anyMatch(WRITES::contains)) {
      requireWritable(path);
    }
    return delegate.newByteChannel(path, options, attrs);
  }

  @Override
  public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
      throws IOException {
    return delegate.newDirectoryStream(dir, filter);
  }

  @Override
  public Path toAbsolutePath(Path path) {
    return delegate.toAbsolutePath(path);
  }

  @Override
  public Path toRealPath(Path path, LinkOption... linkOptions) throws IOException {
    return delegate.toRealPath(path, linkOptions);
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
    return delegate.readAttributes(path, attributes, options);
  }

  @Override
  public void setCurrentWorkingDirectory(Path currentWorkingDirectory) {
    delegate.setCurrentWorkingDirectory(currentWorkingDirectory);
  }

  @Override
  public String getSeparator() {
    return delegate.getSeparator();
  }

  @Override
  public String getPathSeparator() {
    return delegate.getPathSeparator();
  }

  @Override
  public String getMimeType(Path path) {
    return delegate.getMimeType(path);
  }

  @Override
  public Charset getEncoding(Path path) {
    return delegate.getEncoding(path);
  }

  @Override
  public boolean isSameFile(Path path1, Path path2, LinkOption... options) throws IOException {
    return delegate.isSameFile(path1, path2, options);
  }
}
