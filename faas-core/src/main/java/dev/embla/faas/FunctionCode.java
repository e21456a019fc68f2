package dev.embla.faas;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A function's code package: a zip or jar file, a directory, or the bytes of a zip. Lambda's layout applies: classes
 * and resources at the root, dependencies as {@code lib/*.jar}; for JavaScript and Python, the source files at the
 * root. The engine validates the package when the function is created or updated and identifies it by its SHA-256.
 *
 * @since 0.1
 */
public final class FunctionCode {

  /** What a {@link FunctionCode} is made from. */
  public enum Kind {
    /** A zip or jar file on disk. */
    ZIP_FILE,
    /** A directory laid out like an unpacked zip. */
    DIRECTORY,
    /** The bytes of a zip file. */
    ZIP_BYTES
  }

  private final Kind kind;
  private final Path path;
  private final byte[] bytes;

  private FunctionCode(Kind kind, Path path, byte[] bytes) {
    this.kind = kind;
    this.path = path;
    this.bytes = bytes;
  }

  /** Returns code read from a zip or jar file. */
  public static FunctionCode fromZip(Path zipFile) {
    return new FunctionCode(Kind.ZIP_FILE, Objects.requireNonNull(zipFile, "zipFile"), null);
  }

  /** Returns code read from a directory laid out like an unpacked zip. */
  public static FunctionCode fromDirectory(Path directory) {
    return new FunctionCode(Kind.DIRECTORY, Objects.requireNonNull(directory, "directory"), null);
  }

  /** Returns code read from the bytes of a zip file; the array is copied. */
  public static FunctionCode fromBytes(byte[] zipBytes) {
    return new FunctionCode(Kind.ZIP_BYTES, null, Objects.requireNonNull(zipBytes, "zipBytes").clone());
  }

  /**
   * Returns code from a path: a directory if it is one, otherwise a zip or jar file.
   */
  public static FunctionCode fromPath(Path path) {
    return java.nio.file.Files.isDirectory(path) ? fromDirectory(path) : fromZip(path);
  }

  /** Returns what this code is made from. */
  public Kind kind() {
    return kind;
  }

  /** Returns the file or directory, or null for {@link Kind#ZIP_BYTES}. */
  public Path path() {
    return path;
  }

  /** Returns a copy of the zip bytes, or null unless {@link Kind#ZIP_BYTES}. */
  public byte[] bytes() {
    return bytes == null ? null : bytes.clone();
  }

  @Override
  public String toString() {
    return kind == Kind.ZIP_BYTES ? "FunctionCode{" + bytes.length + " bytes}" : "FunctionCode{" + path + "}";
  }
}
