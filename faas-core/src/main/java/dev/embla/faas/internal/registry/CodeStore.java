package dev.embla.faas.internal.registry;

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.InvalidCodeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Validates code packages and unpacks each distinct one (by SHA-256) once, like Lambda's {@code /var/task}.
 *
 * <p>Validation never trusts a zip's headers: sizes are counted while bytes are actually inflated, so a zip bomb is
 * stopped by the unzipped-size limit and the per-entry compression-ratio check before it fills the disk.
 */
public final class CodeStore {

  /** Most entries a package may hold; a bomb of empty entries is as bad as a bomb of bytes. */
  static final int MAX_ENTRIES = 100_000;
  /** Entries inflating beyond this ratio (and beyond {@link #RATIO_FLOOR_BYTES}) are treated as a zip bomb. */
  static final int MAX_COMPRESSION_RATIO = 200;

  static final long RATIO_FLOOR_BYTES = 1024 * 1024;

  // Reference counts of stored packages by SHA-256: one per function revision using it. Guarded by this.
  private final java.util.Map<String, Integer> references = new java.util.HashMap<>();
  private final Path root;
  private final long maxZippedBytes;
  private final long maxUnzippedBytes;

  /**
   * Creates a store under {@code root}.
   *
   * @param maxZippedBytes the largest package accepted as given
   * @param maxUnzippedBytes the largest package accepted once unpacked
   */
  public CodeStore(Path root, long maxZippedBytes, long maxUnzippedBytes) {
    this.root = root;
    this.maxZippedBytes = maxZippedBytes;
    this.maxUnzippedBytes = maxUnzippedBytes;
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create code store " + root, e);
    }
  }

  /**
   * Validates and stores a package, and takes one reference to it for the caller; give it back with
   * {@link #release}.
   *
   * @throws InvalidCodeException naming what is wrong with the package
   */
  public synchronized StoredCode store(FunctionCode code) {
    StoredCode stored = validateAndUnpack(code);
    references.merge(stored.sha256(), 1, Integer::sum);
    return stored;
  }

  /** Takes one more reference to a stored package (a new revision reusing the code). */
  public synchronized void retain(StoredCode code) {
    references.merge(code.sha256(), 1, Integer::sum);
  }

  /** Gives back one reference; the unpacked package is deleted when no revision uses it any more. */
  public synchronized void release(StoredCode code) {
    Integer left = references.computeIfPresent(code.sha256(), (k, n) -> n > 1 ? n - 1 : null);
    if (left == null) {
      deleteQuietly(code.directory());
    }
  }

  private StoredCode validateAndUnpack(FunctionCode code) {
    try {
      return switch (code.kind()) {
        case ZIP_FILE -> storeZipFile(code.path());
        case ZIP_BYTES -> storeZipBytes(code.bytes());
        case DIRECTORY -> storeDirectory(code.path());
      };
    } catch (IOException e) {
      throw new InvalidCodeException("cannot read code package " + code + ": " + e.getMessage(), e);
    }
  }

  private StoredCode storeZipBytes(byte[] bytes) throws IOException {
    checkZippedSize(bytes.length);
    Path tmp = Files.createTempFile(root, "upload-", ".zip");
    try {
      Files.write(tmp, bytes);
      return unpack(tmp, bytes.length);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private StoredCode storeZipFile(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new InvalidCodeException("code package does not exist: " + file);
    }
    if (!Files.isRegularFile(file)) {
      throw new InvalidCodeException("code package is not a regular file: " + file);
    }
    long size = Files.size(file);
    checkZippedSize(size);
    return unpack(file, size);
  }

  private void checkZippedSize(long size) {
    if (size > maxZippedBytes) {
      throw new InvalidCodeException(String.format(Locale.ROOT,
          "code package is %d bytes zipped, over the limit of %d bytes", size, maxZippedBytes));
    }
    if (size == 0) {
      throw new InvalidCodeException("code package is empty (0 bytes), not a zip file");
    }
  }

  private StoredCode unpack(Path zipPath, long zippedSize) throws IOException {
    checkMagic(zipPath);
    String sha = sha256(zipPath);
    Path target = root.resolve(sha);
    Path staging = root.resolve(sha + ".staging-" + UUID.randomUUID());
    long total = 0;
    if (Files.isDirectory(target)) {
      // The same bytes were validated and unpacked before; identical by their hash.
      try (Stream<Path> files = Files.walk(target)) {
        total = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      }
      return new StoredCode(sha, zippedSize, total, target);
    }
    try (ZipFile zip = openZip(zipPath)) {
      if (zip.size() > MAX_ENTRIES) {
        throw new InvalidCodeException(String.format(Locale.ROOT,
            "code package has %d entries, over the limit of %d", zip.size(), MAX_ENTRIES));
      }
      Files.createDirectories(staging);
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        Path dest = safeResolve(staging, entry.getName());
        if (entry.isDirectory()) {
          Files.createDirectories(dest);
          continue;
        }
        Files.createDirectories(dest.getParent());
        long written;
        try (InputStream in = zip.getInputStream(entry); OutputStream out = Files.newOutputStream(dest)) {
          written = copyBounded(in, out, entry, maxUnzippedBytes - total);
        } catch (ZipException e) {
          throw new InvalidCodeException(
              "code package entry '" + entry.getName() + "' is corrupt: " + e.getMessage(), e);
        }
        total += written;
      }
      publish(staging, target);
      return new StoredCode(sha, zippedSize, total, target);
    } catch (RuntimeException | IOException e) {
      deleteQuietly(staging);
      throw e;
    }
  }

  private static void checkMagic(Path zipPath) throws IOException {
    byte[] head = new byte[4];
    int n;
    try (InputStream in = Files.newInputStream(zipPath)) {
      n = in.readNBytes(head, 0, 4);
    }
    boolean zip = n == 4 && head[0] == 'P' && head[1] == 'K'
        && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
    if (!zip) {
      throw new InvalidCodeException("code package is not a zip file (it does not start with a zip header): "
          + zipPath.getFileName());
    }
  }

  private static ZipFile openZip(Path zipPath) {
    try {
      return new ZipFile(zipPath.toFile());
    } catch (IOException e) {
      throw new InvalidCodeException("code package is not a valid zip file: " + e.getMessage(), e);
    }
  }

  /** Copies one entry, counting real bytes so that neither a lying header nor a bomb gets past the limits. */
  private long copyBounded(InputStream in, OutputStream out, ZipEntry entry, long remaining) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    long written = 0;
    long compressed = Math.max(1, entry.getCompressedSize());
    int n;
    while ((n = in.read(buffer)) > 0) {
      written += n;
      if (written > remaining) {
        throw new InvalidCodeException(String.format(Locale.ROOT,
            "code package unzips to more than the limit of %d bytes (at entry '%s')", maxUnzippedBytes,
            entry.getName()));
      }
      if (written > RATIO_FLOOR_BYTES && written / compressed > MAX_COMPRESSION_RATIO) {
        throw new InvalidCodeException(String.format(Locale.ROOT,
            "code package looks like a zip bomb: entry '%s' inflates more than %dx (%d compressed bytes)",
            entry.getName(), MAX_COMPRESSION_RATIO, entry.getCompressedSize()));
      }
      out.write(buffer, 0, n);
    }
    return written;
  }

  /** Resolves an entry name inside {@code base}, refusing names that would escape it (zip slip). */
  static Path safeResolve(Path base, String name) {
    String normalized = name.replace('\\', '/');
    if (normalized.startsWith("/") || normalized.matches("^[A-Za-z]:.*") || normalized.contains("\0")) {
      throw new InvalidCodeException("code package entry '" + name + "' is an absolute path");
    }
    Path resolved = base.resolve(normalized).normalize();
    if (!resolved.startsWith(base.normalize())) {
      throw new InvalidCodeException("code package entry '" + name + "' escapes the package root (zip slip)");
    }
    return resolved;
  }

  /**
   * Stores a copy of a directory. Its fingerprint is the SHA-256 of its files in path order, each written as the
   * path's length (4 bytes), the path in UTF-8 with {@code /} separators, the contents' length (8 bytes) and the
   * contents.
   */
  private StoredCode storeDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new InvalidCodeException("code directory does not exist: " + dir);
    }
    Path base = dir.toRealPath();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(base)) {
      walk.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().forEach(files::add);
    }
    MessageDigest digest = newDigest();
    long total = 0;
    for (Path file : files) {
      if (Files.isSymbolicLink(file) && Files.isDirectory(file)) {
        throw new InvalidCodeException("code directory entry '" + base.relativize(file)
            + "' is a link to a directory; copy the directory into the package instead");
      }
      if (Files.isSymbolicLink(file) && !file.toRealPath().startsWith(base)) {
        throw new InvalidCodeException("code directory entry '" + base.relativize(file)
            + "' is a link that escapes the package root");
      }
      total += Files.size(file);
      if (total > maxUnzippedBytes) {
        throw new InvalidCodeException(String.format(Locale.ROOT,
            "code directory holds more than the limit of %d bytes", maxUnzippedBytes));
      }
      byte[] name = base.relativize(file).toString().replace('\\', '/').getBytes(StandardCharsets.UTF_8);
      byte[] contents = Files.readAllBytes(file);
      // Every field is length-prefixed so that the byte stream decodes to exactly one tree: with a bare separator,
      // {index.txt: "x", zz: "y"} and {index.txt: "xzz\0y"} hashed alike and an update kept the old code.
      digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(name.length).array());
      digest.update(name);
      digest.update(ByteBuffer.allocate(Long.BYTES).putLong(contents.length).array());
      digest.update(contents);
    }
    String sha = HexFormat.of().formatHex(digest.digest());
    Path target = root.resolve(sha);
    if (!Files.isDirectory(target)) {
      Path staging = root.resolve(sha + ".staging-" + UUID.randomUUID());
      try {
        for (Path file : files) {
          Path dest = staging.resolve(base.relativize(file).toString());
          Files.createDirectories(dest.getParent());
          Files.copy(file, dest, StandardCopyOption.COPY_ATTRIBUTES);
        }
        Files.createDirectories(staging);
        publish(staging, target);
      } catch (IOException | RuntimeException e) {
        deleteQuietly(staging);
        throw e;
      }
    }
    return new StoredCode(sha, total, total, target);
  }

  private static void publish(Path staging, Path target) throws IOException {
    try {
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      if (!Files.exists(target)) {
        Files.move(staging, target);
      } else {
        deleteQuietly(staging);
      }
    } catch (java.nio.file.FileSystemException e) {
      if (!Files.isDirectory(target)) {
        throw e;
      }
      deleteQuietly(staging); // the same package was stored concurrently; identical by its hash
    }
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest digest = newDigest();
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  static void deleteQuietly(Path dir) {
    try {
      if (Files.exists(dir)) {
        MoreFiles.deleteRecursively(dir, RecursiveDeleteOption.ALLOW_INSECURE);
      }
    } catch (NoSuchFileException ignored) {
      // already gone
    } catch (IOException e) {
      // Leftover files in the work directory are harmless; the engine deletes the whole directory on close.
    }
  }
}
