package dev.embla.faas.internal.async;

import dev.embla.faas.AsyncInvocation;
import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The child JVM of {@link AsyncKillRestartTest}: accepts events for ever into an engine on the given store, printing
 * {@code ACCEPTED <id>} once {@code invokeAsync} has returned and {@code DELIVERED <id>} from inside each invocation,
 * until the parent kills it.
 */
public final class AsyncKillChild {

  private AsyncKillChild() {}

  /** Arguments: the store directory, a work directory. */
  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    quietFunctionLogs();
    Path store = Path.of(args[0]);
    Path work = Path.of(args[1]);
    Path code = Files.createDirectories(work.resolve("code"));
    Files.writeString(code.resolve("index.txt"), "recording");
    FaasEngine engine = FaasEngine.builder()
        .addRuntime(new RecordingRuntime(id -> print(out, "DELIVERED " + id)))
        .asyncStoreDirectory(store).workDirectory(work.resolve("engine")).build();
    engine.createFunction(FunctionConfig.builder("sink").runtime("recording").handler("any").build(),
        FunctionCode.fromDirectory(code));
    print(out, "READY");
    for (long i = 0; ; i++) {
      AsyncInvocation accepted = engine.invokeAsync("sink", "{\"i\":" + i + "}");
      print(out, "ACCEPTED " + accepted.requestId());
    }
  }

  private static void print(PrintStream out, String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  /** Thousands of START/END/REPORT lines would only slow the run down and bury its output. */
  static void quietFunctionLogs() {
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("embla.function"))
        .setLevel(ch.qos.logback.classic.Level.WARN);
  }
}
