package dev.embla.faas.internal.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FunctionCode;
import dev.embla.faas.InvalidCodeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodeStoreTest {

  @TempDir Path dir;

  private CodeStore store() {
    return new CodeStore(dir.resolve("store"), 50L * 1024 * 1024, 250L * 1024 * 1024);
  }

  static byte[] zip(Map<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return out.toByteArray();
  }

  @Test
  void store_unpacksZipAndIdentifiesItBySha256() throws IOException {
    byte[] bytes = zip(Map.of("index.txt", "hi".getBytes(StandardCharsets.UTF_8), "lib/a.txt", new byte[] {1}));
    StoredCode code = store().store(FunctionCode.fromBytes(bytes));
    assertThat(code.sha256()).hasSize(64).isEqualTo(com.google.common.hash.Hashing.sha256().hashBytes(bytes).toString());
    assertThat(code.zippedSize()).isEqualTo(bytes.length);
    assertThat(code.unzippedSize()).isEqualTo(3);
    assertThat(Files.readString(code.directory().resolve("index.txt"))).isEqualTo("hi");
    assertThat(code.directory().resolve("lib/a.txt")).exists();
  }

  @Test
  void store_sameBytesTwiceSharesOneDirectory() throws IOException {
    byte[] bytes = zip(Map.of("a", new byte[] {1}));
    CodeStore store = store();
    assertThat(store.store(FunctionCode.fromBytes(bytes)).directory())
        .isEqualTo(store.store(FunctionCode.fromBytes(bytes)).directory());
  }

  @Test
  void store_rejectsNotAZip() {
    assertThatThrownBy(() -> store().store(FunctionCode.fromBytes("hello, not a zip".getBytes(StandardCharsets.UTF_8))))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("not a zip file");
  }

  @Test
  void store_rejectsTruncatedZip() throws IOException {
    byte[] bytes = zip(Map.of("a.txt", "x".repeat(1000).getBytes(StandardCharsets.UTF_8)));
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length / 2);
    assertThatThrownBy(() -> store().store(FunctionCode.fromBytes(truncated)))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("not a valid zip");
  }

  @Test
  void store_rejectsZipSlip() throws IOException {
    byte[] bytes = zip(Map.of("../../evil.sh", new byte[] {1}));
    assertThatThrownBy(() -> store().store(FunctionCode.fromBytes(bytes)))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("'../../evil.sh' escapes the package root");
    assertThat(dir.resolve("evil.sh")).doesNotExist();
  }

  @Test
  void store_rejectsAbsolutePaths() throws IOException {
    byte[] bytes = zip(Map.of("/etc/passwd", new byte[] {1}));
    assertThatThrownBy(() -> store().store(FunctionCode.fromBytes(bytes)))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("absolute path");
  }

  @Test
  void store_rejectsPackageOverZippedLimit() throws IOException {
    CodeStore small = new CodeStore(dir.resolve("s"), 100, 1000);
    byte[] bytes = zip(Map.of("a", new byte[500]));
    assertThat(bytes.length).isGreaterThan(100);
    assertThatThrownBy(() -> small.store(FunctionCode.fromBytes(bytes)))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("zipped, over the limit of 100 bytes");
  }

  @Test
  void store_rejectsPackageOverUnzippedLimit() throws IOException {
    CodeStore small = new CodeStore(dir.resolve("s"), 1_000_000, 10_000);
    byte[] bytes = zip(Map.of("a", new byte[6000], "b", new byte[6000]));
    assertThatThrownBy(() -> small.store(FunctionCode.fromBytes(bytes)))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("unzips to more than the limit of 10000 bytes");
    assertThat(dir.resolve("s")).isEmptyDirectory();
  }

  @Test
  void store_rejectsZipBomb() throws IOException {
    byte[] bytes = zip(Map.of("bomb.bin", new byte[20 * 1024 * 1024])); // 20 MB of zeros, ~20 KB zipped
    assertThatThrownBy(() -> store().store(FunctionCode.fromBytes(bytes)))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("zip bomb");
  }

  @Test
  void store_rejectsMissingFile() {
    assertThatThrownBy(() -> store().store(FunctionCode.fromZip(dir.resolve("nope.zip"))))
        .isInstanceOf(InvalidCodeException.class).hasMessageContaining("does not exist");
  }

  @Test
  void store_copiesDirectorySoLaterEditsDoNotChangeTheVersion() throws IOException {
    Path src = Files.createDirectories(dir.resolve("src/pkg"));
    Files.writeString(src.resolve("A.txt"), "one");
    StoredCode first = store().store(FunctionCode.fromDirectory(dir.resolve("src")));
    Files.writeString(src.resolve("A.txt"), "two");
    StoredCode second = store().store(FunctionCode.fromDirectory(dir.resolve("src")));
    assertThat(first.sha256()).isNotEqualTo(second.sha256());
    assertThat(Files.readString(first.directory().resolve("pkg/A.txt"))).isEqualTo("one");
    assertThat(Files.readString(second.directory().resolve("pkg/A.txt"))).isEqualTo("two");
  }

  @Test
  void store_directoryFingerprintFramesEachFile_soDifferentTreesNeverShareOne() throws IOException {
    // Without per-file lengths, "index.txt" 0 "x" "zz" 0 "y" reads the same as "index.txt" 0 "xzz\0y".
    Path a = Files.createDirectories(dir.resolve("a"));
    Files.writeString(a.resolve("index.txt"), "x");
    Files.writeString(a.resolve("zz"), "y");
    Path b = Files.createDirectories(dir.resolve("b"));
    Files.writeString(b.resolve("index.txt"), "xzz\0y");
    CodeStore store = store();
    StoredCode first = store.store(FunctionCode.fromDirectory(a));
    StoredCode second = store.store(FunctionCode.fromDirectory(b));
    assertThat(second.sha256()).isNotEqualTo(first.sha256());
    assertThat(second.directory()).isNotEqualTo(first.directory());
    assertThat(Files.readString(second.directory().resolve("index.txt"))).isEqualTo("xzz\0y");
    assertThat(second.directory().resolve("zz")).doesNotExist();
  }

  @Test
  void store_directoryFingerprintTellsAFileNameFromItsContents() throws IOException {
    Path a = Files.createDirectories(dir.resolve("a"));
    Files.writeString(a.resolve("ab"), "c");
    Path b = Files.createDirectories(dir.resolve("b"));
    Files.writeString(b.resolve("a"), "bc");
    CodeStore store = store();
    assertThat(store.store(FunctionCode.fromDirectory(a)).sha256())
        .isNotEqualTo(store.store(FunctionCode.fromDirectory(b)).sha256());
  }

  @Test
  void store_sameDirectoryTreeTwiceGetsTheSameFingerprint() throws IOException {
    Path a = Files.createDirectories(dir.resolve("a/lib"));
    Files.writeString(a.resolve("x.txt"), "x");
    Files.writeString(dir.resolve("a/index.txt"), "i");
    Path b = Files.createDirectories(dir.resolve("b/lib"));
    Files.writeString(dir.resolve("b/index.txt"), "i");
    Files.writeString(b.resolve("x.txt"), "x");
    CodeStore store = store();
    assertThat(store.store(FunctionCode.fromDirectory(dir.resolve("a"))).sha256())
        .isEqualTo(store.store(FunctionCode.fromDirectory(dir.resolve("b"))).sha256());
  }
}
