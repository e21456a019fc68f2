package dev.embla.faas.internal.async;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability against a process kill: a child JVM accepts events into an engine, the parent kills it mid-stream
 * ({@code destroyForcibly}, SIGKILL), then opens an engine on the same store and checks that every event the child
 * reported accepted was delivered, in the child before the kill or after the restart.
 */
class AsyncKillRestartTest {

  private static final int ACCEPTED_BEFORE_KILL = 2_000;

  @TempDir Path dir;

  @Test
  void killMidStream_everyAcceptedEventIsDeliveredAfterRestart() throws Exception {
    Path store = dir.resolve("store");
    AsyncKillChild.quietFunctionLogs();
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Output goes to a file, not a pipe: destroying a process closes its pipe on our side, with whatever the child
    // wrote last still unread; a file keeps every line written before the kill.
    Path out = dir.resolve("child.out");
    // The child's temporary files go under this test's directory: RocksDB extracts its native library into
    // java.io.tmpdir on every load and deletes it only at a normal exit, so each killed child left one in /tmp.
    Path childTmp = Files.createDirectories(dir.resolve("child-tmp"));
    Process child = new ProcessBuilder(java, "-Djava.io.tmpdir=" + childTmp,
        "-cp", System.getProperty("java.class.path"), AsyncKillChild.class.getName(), store.toString(),
        dir.resolve("child").toString())
        .redirectOutput(out.toFile())
        .redirectError(dir.resolve("child.err").toFile())
        .start();
    Set<String> accepted = new HashSet<>();
    Set<String> deliveredByChild = new HashSet<>();
    boolean aliveAtKill;
    try (InputStream in = Files.newInputStream(out, StandardOpenOption.CREATE, StandardOpenOption.READ)) {
      StringBuilder partial = new StringBuilder();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (accepted.size() < ACCEPTED_BEFORE_KILL && child.isAlive() && System.nanoTime() < deadline) {
        if (!readLines(in, partial, accepted, deliveredByChild)) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
      }
      aliveAtKill = child.isAlive();
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      while (readLines(in, partial, accepted, deliveredByChild)) {
        // everything the child wrote before it died
      }
    } finally {
      child.destroyForcibly();
    }
    assertThat(aliveAtKill).as("the child was killed mid-stream; its stderr: %s", stderr()).isTrue();
    assertThat(accepted).hasSizeGreaterThanOrEqualTo(ACCEPTED_BEFORE_KILL);

    Set<String> deliveredAfter = ConcurrentHashMap.newKeySet();
    Path code = Files.createDirectories(dir.resolve("code"));
    Files.writeString(code.resolve("index.txt"), "recording");
    try (LocalEngine engine = (LocalEngine) FaasEngine.builder()
        .addRuntime(new RecordingRuntime(deliveredAfter::add))
        .asyncStoreDirectory(store).workDirectory(dir.resolve("parent")).build()) {
      engine.createFunction(FunctionConfig.builder("sink").runtime("recording").handler("any").build(),
          FunctionCode.fromDirectory(code));
      Await.until("the restarted engine drains the queue", Duration.ofSeconds(60),
          () -> engine.asyncQueue().pendingCount() == 0);
    }

    Set<String> lost = new HashSet<>(accepted);
    lost.removeAll(deliveredByChild);
    lost.removeAll(deliveredAfter);
    assertThat(lost).as("accepted before the kill and never delivered").isEmpty();
  }

  /** Reads what is there, recording each complete line; returns false if there was nothing new. */
  private static boolean readLines(InputStream in, StringBuilder partial, Set<String> accepted,
      Set<String> delivered) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    int n = in.read(buffer);
    if (n <= 0) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = (char) buffer[i]; // the child writes ASCII
      if (c == '\n') {
        record(partial.toString(), accepted, delivered);
        partial.setLength(0);
      } else {
        partial.append(c);
      }
    }
    return true;
  }

  private static void record(String line, Set<String> accepted, Set<String> delivered) {
    if (line.startsWith("ACCEPTED ")) {
      accepted.add(line.substring(9));
    } else if (line.startsWith("DELIVERED ")) {
      delivered.add(line.substring(10));
    }
  }

  private String stderr() throws IOException {
    Path err = dir.resolve("child.err");
    return Files.exists(err) ? Files.readString(err) : "";
  }
}
