package dev.embla.faas.polyglot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The guest's view of files: /var/task read-only, /tmp read-write, nothing else, links included. */
class SandboxFileSystemTest {

  @TempDir
  Path root;

  Path code;
  Path tmp;
  Path outside;
  AtomicInteger tmpAsked = new AtomicInteger();
  SandboxFileSystem fs;

  @BeforeEach
  void setUp() throws IOException {
    code = Files.createDirectories(root.resolve("code"));
    tmp = root.resolve("tmp"); // not created: the engine makes it lazily
    outside = Files.writeString(root.resolve("secret.txt"), "secret");
    Files.writeString(code.resolve("index.js"), "exports.handler = 1;");
    fs = new SandboxFileSystem(code, () -> {
      tmpAsked.incrementAndGet();
      return tmp;
    });
  }

  @Test
  void codeIsReadable_relativeToVarTask() throws IOException {
    assertThat(fs.readable(Path.of("/var/task/index.js"))).isEqualTo(code.resolve("index.js"));
    assertThat(fs.readable(Path.of("index.js"))).isEqualTo(code.resolve("index.js"));
    assertThat(tmpAsked).hasValue(0);
  }

  @Test
  void codeIsReadOnly() {
    assertThatThrownBy(() -> fs.writable(Path.of("/var/task/new.js"))).isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> fs.newByteChannel(Path.of("/var/task/index.js"),
        Set.of(StandardOpenOption.WRITE))).isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> fs.checkAccess(Path.of("/var/task/index.js"), Set.of(AccessMode.WRITE)))
        .isInstanceOf(AccessDeniedException.class);
  }

  @Test
  void everythingElseDoesNotExist() {
    assertThatThrownBy(() -> fs.readable(Path.of("/etc/passwd"))).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> fs.readable(Path.of("/var/task/../../etc/passwd")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> fs.readable(Path.of("../secret.txt"))).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void guestTmp_isTheEnvironmentsNotTheHosts() throws IOException {
    // The test's files live under the host's /tmp; the same path in the guest lands in the environment's /tmp.
    Path mapped = fs.readable(Path.of(outside.toString()));
    assertThat(mapped.startsWith(tmp.toAbsolutePath())).as("%s under %s", mapped, tmp).isTrue();
    assertThat(Files.exists(mapped)).isFalse();
  }

  @Test
  void symbolicLinkOutOfTheCode_isRefused() throws IOException {
    Files.createSymbolicLink(code.resolve("leak.txt"), outside);
    Files.createSymbolicLink(code.resolve("up"), root);
    assertThatThrownBy(() -> fs.readable(Path.of("/var/task/leak.txt"))).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> fs.readable(Path.of("/var/task/up/secret.txt")))
        .isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void tmpIsWritable_andCreatedOnFirstTouch() throws IOException {
    try (SeekableByteChannel c = fs.newByteChannel(Path.of("/tmp/x"),
        Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE))) {
      c.write(java.nio.ByteBuffer.wrap("hi".getBytes()));
    }
    assertThat(Files.readString(tmp.resolve("x"))).isEqualTo("hi");
    assertThat(tmpAsked).hasValue(1);
    fs.delete(Path.of("/tmp/x"));
    assertThat(tmp.resolve("x")).doesNotExist();
  }
}
