package dev.embla.faas.spi.sandbox;

import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The lexical half of a function's private {@code /tmp}: decides whether a path names {@code /tmp} or something under
 * it and, if so, re-roots it in the environment's own directory. It is a remapping of names, not a confinement: any
 * other absolute path is left as it is, and so is a relative one (it depends on the host's working directory, which
 * is not the function's {@code /var/task}).
 */
final class TmpMapping {

  private static final FileSystem DEFAULT = FileSystems.getDefault();
  private static final Path TMP = DEFAULT.getPath("/tmp");

  private TmpMapping() {}

  /**
   * Returns the part of {@code path} below {@code /tmp} (empty for {@code /tmp} itself), after lexical normalisation
   * ({@code /tmp/a/../b} is {@code b}, {@code /tmp/../etc} is not under {@code /tmp}); null if the path is elsewhere,
   * relative, or not a valid path on this host (the original call then fails as it would have).
   */
  static Path belowTmp(String path) {
    // Fast path for the many paths that cannot be under /tmp; normalisation below is the exact test.
    if (path == null || path.isEmpty() || path.charAt(0) != '/' || !path.contains("tmp")) {
      return null;
    }
    try {
      return belowTmp(DEFAULT.getPath(path));
    } catch (InvalidPathException e) {
      return null;
    }
  }

  /** Returns the part of {@code path} (of the default file system) below {@code /tmp}, or null; see above. */
  static Path belowTmp(Path path) {
    if (path.getFileSystem() != DEFAULT || !path.isAbsolute() || !path.toString().contains("tmp")) {
      return null;
    }
    Path normal = path.normalize();
    return normal.startsWith(TMP) ? TMP.relativize(normal) : null;
  }

  /**
   * Returns the path below {@code /tmp} re-rooted in the environment's directory {@code tmp}, or null if it already
   * lies in that directory. The engine's own directories are often under the host's {@code /tmp} themselves, and a
   * path the function got from a mapped one ({@code new File(new File("/tmp"), "x")}) must not be mapped twice.
   */
  static Path under(Path tmp, Path below) {
    return TMP.resolve(below).startsWith(tmp) ? null : tmp.resolve(below);
  }
}
