package dev.embla.faas.polyglot.js;

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
 * The engine's per-invocation allocation budget holds for JavaScript too: GraalJS allocates on the invoking thread,
 * so the watchdog measures the guest's allocation and stops it with the context's {@code close(true)}, as a timeout.
 */
class JsAllocationBudgetTest {

  static FaasEngine engine;

  @TempDir
  static Path code;

  @BeforeAll
  static void startEngine() {
    // A quarter: a 128 MB function may allocate 32 MB per phase. Interpreted GraalJS allocates slowly (about 25 MB/s
    // for typed arrays here, on an idle machine), so a small budget keeps these tests short.
    engine = FaasEngine.builder().allocationBudgetFactor(0.25).build();
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  private static void register(FaasEngine e, String name, String js) throws IOException {
    Path dir = Files.createDirectories(code.resolve(name));
    Files.writeString(dir.resolve("index.js"), js);
    // Long timeouts, so that only the budget stops these functions, even on a loaded machine.
    e.createFunction(FunctionConfig.builder(name).runtime("nodejs").handler("index.handler")
        .timeout(Duration.ofSeconds(120)).initTimeout(Duration.ofSeconds(120)).build(),
        FunctionCode.fromDirectory(dir));
  }

  @Test
  void arrayGrowingWithoutBound_isStoppedOverBudget_andTheNextCallColdStarts() throws IOException {
    register(engine, "grow", """
        exports.handler = async (event) => {
          if (event.grow) { let a = []; while (true) a.push(new Array(1e5).fill(1)); }
          return 'ok';
        };""");
    assertThat(engine.invoke("grow", "{}").payloadAsString()).isEqualTo("\"ok\"");

    InvocationResult r = engine.invoke("grow", "{\"grow\":true}");
    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.OUT_OF_MEMORY);
    assertThat(e.errorType()).isEqualTo("Runtime.OutOfMemory");
    assertThat(e.errorMessage())
        .contains("over its allocation budget of 32 MB (memory size 128 MB x allocation budget factor 0.25)");
    assertThat(r.maxMemoryUsedMb()).isBetween(32, 1024);
    assertThat(((LocalEngine) engine).poolOf("grow").idleCount()).isZero();

    InvocationResult next = engine.invoke("grow", "{}");
    assertThat(next.isColdStart()).isTrue();
    assertThat(next.payloadAsString()).isEqualTo("\"ok\"");
  }

  @Test
  void garbageChurnInsideTryCatch_isStoppedToo() throws IOException {
    register(engine, "churn", """
        exports.handler = (event) => {
          let n = 0;
          while (true) {
            try { n += JSON.stringify({ a: new Array(1000).fill('x') }).length; } catch (e) { }
          }
        };""");
    InvocationResult r = engine.invoke("churn", "{}");
    assertThat(r.error().orElseThrow().kind()).isEqualTo(FunctionError.Kind.OUT_OF_MEMORY);
    assertThat(r.maxMemoryUsedMb()).isGreaterThanOrEqualTo(32);
  }

  @Test
  void moduleTopLevelAllocatingWithoutBound_isAnInitError() throws IOException {
    register(engine, "fatinit", """
        const kept = [];
        while (true) kept.push(new Uint8Array(1 << 20)); // typed arrays live on the heap, and are quick to make
        exports.handler = async () => 'never';""");
    FunctionError e = engine.invoke("fatinit", "{}").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(e.errorType()).isEqualTo("Runtime.OutOfMemory");
  }

  /** A realistic handler at the default budget: it parses a 1 MB event and summarises it, untouched. */
  @Test
  void defaultBudget_leavesRoomForParsingAOneMegabyteEvent() throws IOException {
    StringBuilder json = new StringBuilder("{\"orders\":[");
    for (int i = 0; json.length() < (1 << 20) - 300; i++) {
      json.append(i == 0 ? "" : ",").append("{\"orderId\":\"ord-").append(i).append("\",\"qty\":")
          .append(1 + i % 5).append(",\"price\":").append(9.99 + i % 13).append(",\"customer\":\"Customer ")
          .append(i).append("\"}");
    }
    String payload = json.append("]}").toString();
    try (FaasEngine defaults = FaasEngine.create()) {
      register(defaults, "orders", """
          exports.handler = async (event) => {
            let total = 0;
            for (const o of event.orders) total += o.qty * o.price;
            return { orders: event.orders.length, total };
          };""");
      int worst = 0;
      for (int i = 0; i < 3; i++) {
        InvocationResult r = defaults.invoke("orders", payload);
        assertThat(r.error()).isEmpty();
        worst = Math.max(worst, r.maxMemoryUsedMb());
      }
      assertThat(worst).isLessThan(512 / 4);
    }
  }
}
