package dev.embla.faas.polyglot.python;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionError;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.internal.engine.LocalEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's per-invocation allocation budget holds for Python as for Java and JavaScript: GraalPy runs the guest on
 * the invoking thread, so the watchdog measures its allocation and stops it with the context's {@code close(true)}.
 */
class PyAllocationBudgetTest {

  static FaasEngine engine;

  @TempDir
  static Path code;

  @BeforeAll
  static void startEngine() {
    // A quarter: a 1024 MB function may allocate 256 MB per phase. Not less: starting a GraalPy context and importing
    // the runtime's bootstrap (json, logging) allocates over 32 MB on the Init thread by itself.
    engine = FaasEngine.builder().allocationBudgetFactor(0.25).warmUpRuntime("python3").build();
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  private static void register(String name, String py) throws IOException {
    Path dir = Files.createDirectories(code.resolve(name));
    Files.writeString(dir.resolve("app.py"), py);
    // Long timeouts, so that only the budget stops these functions, even on a loaded machine.
    engine.createFunction(FunctionConfig.builder(name).runtime("python3").handler("app.handler").memorySizeMb(1024)
        .timeout(Duration.ofSeconds(300)).initTimeout(Duration.ofSeconds(300)).build(),
        FunctionCode.fromDirectory(dir));
  }

  @Test
  void listGrowingWithoutBound_isStoppedOverBudget_andTheNextCallColdStarts() throws IOException {
    register("grow", """
        def handler(event, context):
            kept = []
            while event.get('grow'):
                kept.append(bytearray(1 << 16))
            return 'ok'
        """);
    assertThat(engine.invoke("grow", "{}").payloadAsString()).isEqualTo("\"ok\"");

    InvocationResult r = engine.invoke("grow", "{\"grow\":true}");
    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.OUT_OF_MEMORY);
    assertThat(e.errorType()).isEqualTo("Runtime.OutOfMemory");
    assertThat(e.errorMessage())
        .contains("over its allocation budget of 256 MB (memory size 1024 MB x allocation budget factor 0.25)");
    assertThat(((LocalEngine) engine).poolOf("grow").idleCount()).isZero();

    InvocationResult next = engine.invoke("grow", "{}");
    assertThat(next.isColdStart()).isTrue();
    assertThat(next.payloadAsString()).isEqualTo("\"ok\"");
  }

  @Test
  void garbageChurnInsideTryExcept_isStoppedToo() throws IOException {
    register("churn", """
        def handler(event, context):
            n = 0
            while True:
                try:
                    n += len(str(list(range(1000))))
                except BaseException:
                    pass
        """);
    InvocationResult r = engine.invoke("churn", "{}");
    assertThat(r.error().orElseThrow().kind()).isEqualTo(FunctionError.Kind.OUT_OF_MEMORY);
    assertThat(r.maxMemoryUsedMb()).isGreaterThanOrEqualTo(256);
  }
}
