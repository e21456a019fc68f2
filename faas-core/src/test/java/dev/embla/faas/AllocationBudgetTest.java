package dev.embla.faas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.JavaFunctions;
import dev.embla.faas.testing.LogCapture;
import dev.embla.faas.spi.Context;
import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-invocation allocation budget on real Java functions (allocation is real; the watchdog samples it): runaway
 * functions, retaining or churning, are stopped with {@code Runtime.OutOfMemory} and the host carries on; functions
 * under the budget are untouched.
 */
class AllocationBudgetTest {

  /** Mode 0 answers; 1 keeps every megabyte it allocates; 2 churns garbage forever; n > 2 churns n MB and answers. */
  static final String HOG = """
      package demo;
      import java.util.ArrayList;
      import java.util.List;
      public class Hog {
        static volatile Object sink;
        public String handle(int mode) {
          if (mode == 1) {
            List<byte[]> kept = new ArrayList<>();
            while (true) kept.add(new byte[1 << 20]);
          }
          if (mode == 2) {
            while (true) sink = new byte[1 << 16];
          }
          for (int i = 0; i < mode * 16; i++) sink = new byte[1 << 16]; // 16 x 64 KB = 1 MB
          return "ok";
        }
      }""";

  FaasEngine engine;

  @BeforeEach
  void setUp() {
    // Factor 1: a 128 MB function may allocate 128 MB per phase, which keeps the retaining test's heap use modest.
    engine = FaasEngine.builder().allocationBudgetFactor(1).build();
  }

  @AfterEach
  void tearDown() {
    engine.close();
  }

  private static void register(FaasEngine e, String name, String handler, byte[] zip) {
    // A long timeout, so that only the budget can stop these functions.
    e.createFunction(FunctionConfig.builder(name).runtime("java21").handler(handler).timeout(Duration.ofSeconds(60))
        .build(), FunctionCode.fromBytes(zip));
  }

  @Test
  void functionKeepingWhatItAllocates_isStoppedOverBudget_andTheNextCallColdStarts() {
    register(engine, "hog", "demo.Hog::handle", JavaFunctions.zipOf("demo.Hog", HOG));
    assertThat(engine.invoke("hog", "0").payloadAsString()).isEqualTo("\"ok\"");

    InvocationResult r;
    try (LogCapture log = LogCapture.of("embla.function.hog")) {
      r = engine.invoke("hog", "1");
      FunctionError e = r.error().orElseThrow();
      assertThat(e.kind()).isEqualTo(FunctionError.Kind.OUT_OF_MEMORY);
      assertThat(e.errorType()).isEqualTo("Runtime.OutOfMemory");
      assertThat(e.errorMessage()).startsWith("the invocation allocated ")
          .contains("over its allocation budget of 128 MB (memory size 128 MB x allocation budget factor 1)");
      assertThat(r.payloadAsString()).contains("\"errorType\":\"Runtime.OutOfMemory\"");
      assertThat(log.lines()).anySatisfy(l -> assertThat(l.message()).startsWith("REPORT")
          .contains("Status: error\tError Type: Runtime.OutOfMemory"));
    }
    // Stopped within the sampling period's overshoot, far from the host's 2 GB heap.
    assertThat(r.maxMemoryUsedMb()).isBetween(128, 1024);
    assertThat(((LocalEngine) engine).poolOf("hog").idleCount()).isZero();

    InvocationResult next = engine.invoke("hog", "0");
    assertThat(next.isColdStart()).isTrue();
    assertThat(next.payloadAsString()).isEqualTo("\"ok\"");
  }

  @Test
  void functionChurningGarbage_isStoppedToo_becauseTheBudgetCountsAllocationNotRetention() {
    register(engine, "churn", "demo.Hog::handle", JavaFunctions.zipOf("demo.Hog", HOG));
    InvocationResult r = engine.invoke("churn", "2");
    assertThat(r.error().orElseThrow().kind()).isEqualTo(FunctionError.Kind.OUT_OF_MEMORY);
    assertThat(r.maxMemoryUsedMb()).isGreaterThanOrEqualTo(128);
    assertThat(engine.invoke("churn", "0").isColdStart()).isTrue();
  }

  @Test
  void functionUnderItsBudget_isUnaffected_andTheBudgetScalesWithMemorySize() {
    register(engine, "small", "demo.Hog::handle", JavaFunctions.zipOf("demo.Hog", HOG));
    InvocationResult under = engine.invoke("small", "96"); // 96 MB of garbage, budget 128 MB
    assertThat(under.error()).isEmpty();
    assertThat(under.maxMemoryUsedMb()).isBetween(96, 127);

    engine.createFunction(FunctionConfig.builder("big").runtime("java21").handler("demo.Hog::handle")
        .memorySizeMb(512).timeout(Duration.ofSeconds(60)).build(),
        FunctionCode.fromBytes(JavaFunctions.zipOf("demo.Hog", HOG)));
    InvocationResult big = engine.invoke("big", "256"); // 256 MB, budget 512 MB
    assertThat(big.error()).isEmpty();
    // 2 GB of churn: long enough (tens of ms even when compiled) that a 10 ms sampling period cannot miss it; 256 MB
    // could finish between two samples once the JIT had compiled the loop (seen in a clean-clone run)
    assertThat(engine.invoke("small", "2048").error().orElseThrow().kind())
        .isEqualTo(FunctionError.Kind.OUT_OF_MEMORY);
  }

  @Test
  void initOverBudget_isAnInitError() {
    register(engine, "fatinit", "demo.FatInit::handle", JavaFunctions.zipOf("demo.FatInit", """
        package demo;
        public class FatInit {
          static volatile Object sink;
          static { for (int i = 0; i >= 0; i++) sink = new byte[1 << 16]; }
          public String handle(String s) { return s; }
        }"""));
    FunctionError e = engine.invoke("fatinit", "\"x\"").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.INIT);
    assertThat(e.errorType()).isEqualTo("Runtime.OutOfMemory");
    assertThat(e.errorMessage()).startsWith("Init allocated ");
  }

  @Test
  void functionFedByAQueue_isBudgetedToo() {
    register(engine, "fed", "demo.Fed::handle", JavaFunctions.zipOf("demo.Fed", """
        package demo;
        import java.util.Map;
        public class Fed {
          static volatile Object sink;
          public String handle(Map<String, Object> sqsEvent) {
            while (true) sink = new byte[1 << 16];
          }
        }"""));
    InMemoryQueue queue = EventSources.queue("hogs");
    try (LogCapture log = LogCapture.of("embla.function.fed");
        EventSourceConnection c = engine.connect(queue, "fed")) {
      queue.send("{\"n\":1}");
      Await.until("the queue-fed invocation failed", Duration.ofSeconds(60), () -> c.failed() >= 1);
      assertThat(log.lines()).anySatisfy(l -> assertThat(l.message()).startsWith("REPORT")
          .contains("Error Type: Runtime.OutOfMemory"));
    }
  }

  @Test
  void factorZero_turnsBudgetsOff() {
    try (FaasEngine unlimited = FaasEngine.builder().allocationBudgetFactor(0).build()) {
      register(unlimited, "hog", "demo.Hog::handle", JavaFunctions.zipOf("demo.Hog", HOG));
      InvocationResult r = unlimited.invoke("hog", "256"); // 256 MB of garbage: twice a 128 MB budget at factor 1
      assertThat(r.error()).isEmpty();
      assertThat(r.maxMemoryUsedMb()).isGreaterThanOrEqualTo(256);
    }
  }

  @Test
  void factorIsValidated() {
    assertThatThrownBy(() -> FaasEngine.builder().allocationBudgetFactor(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("allocationBudgetFactor must be 0 (no budget) or a positive finite number, was -1.0");
    assertThatThrownBy(() -> FaasEngine.builder().allocationBudgetFactor(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FaasEngine.builder().allocationBudgetFactor(Double.POSITIVE_INFINITY))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FaasEngine.builder().allocationBudgetFactor(2).allocationBudgetFactor(3))
        .isInstanceOf(IllegalStateException.class).hasMessage("allocationBudgetFactor was already set to 2.0");
  }

  /**
   * The default factor must leave room for a realistic function: one that maps a JSON event of orders (1 MB, and
   * the largest synchronous payload, 6 MB) into maps and lists and answers a summary, at the smallest memory size.
   * The figures are in the README's "Limits" section.
   */
  @Test
  void defaultBudget_leavesRoomForARealisticFunction_mappingLargeEvents() {
    String payload = orders(1 << 20);
    String largest = orders(6 * 1024 * 1024 - 200); // just under the engine's 6 MB payload limit
    try (FaasEngine defaults = FaasEngine.create()) {
      register(defaults, "orders", "demo.Orders::handle", JavaFunctions.zipOf("demo.Orders", ORDERS));
      int worst = 0;
      for (int i = 0; i < 5; i++) {
        InvocationResult r = defaults.invoke("orders", payload);
        assertThat(r.error()).isEmpty();
        worst = Math.max(worst, r.maxMemoryUsedMb());
      }
      InvocationResult six = defaults.invoke("orders", largest);
      assertThat(six.error()).isEmpty();
      assertThat(worst).isLessThan(512 / 8);
      assertThat(six.maxMemoryUsedMb()).isLessThan(512 / 2);
    }
  }

  static final String ORDERS = """
      package demo;
      import java.util.List;
      import java.util.Map;
      public class Orders {
        public Map<String, Object> handle(List<Map<String, Object>> orders) {
          double total = 0;
          for (Map<String, Object> o : orders) {
            for (Object item : (List<?>) o.get("items")) {
              Map<?, ?> m = (Map<?, ?>) item;
              total += ((Number) m.get("qty")).intValue() * ((Number) m.get("price")).doubleValue();
            }
          }
          return Map.of("orders", orders.size(), "total", total);
        }
      }""";

  /** A JSON array of orders of about {@code bytes} bytes (never more). */
  static String orders(int bytes) {
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; json.length() < bytes - 300; i++) {
      json.append(i == 0 ? "" : ",").append("{\"orderId\":\"ord-").append(i)
          .append("\",\"customer\":{\"id\":").append(i * 7).append(",\"name\":\"Customer ").append(i)
          .append("\",\"email\":\"c").append(i).append("@example.com\"},\"items\":[{\"sku\":\"SKU-").append(i % 97)
          .append("\",\"qty\":").append(1 + i % 5).append(",\"price\":").append(9.99 + i % 13)
          .append("}],\"status\":\"NEW\"}");
    }
    return json.append(']').toString();
  }

  // ---- guest code on a thread of the environment's own (ExecutionEnvironment#guestThread, as python3 does) ----

  @Test
  void guestOnItsOwnThread_isStoppedOverBudget_byWhatThatThreadAllocates(@TempDir Path code) {
    try (FaasEngine e = FaasEngine.builder().allocationBudgetFactor(1).addRuntime(new OwnThreadRuntime()).build()) {
      // A timeout far off: if the budget looked at the waiting caller's thread, this would end as a timeout instead.
      e.createFunction(FunctionConfig.builder("own").runtime("own-thread").handler("h")
          .timeout(Duration.ofSeconds(30)).build(), FunctionCode.fromDirectory(code));

      FunctionError error = e.invoke("own", "-1").error().orElseThrow();

      assertThat(error.errorType()).isEqualTo("Runtime.OutOfMemory");
    }
  }

  @Test
  void guestOnItsOwnThread_isReportedWithWhatThatThreadAllocated(@TempDir Path code) {
    try (FaasEngine e = FaasEngine.builder().allocationBudgetFactor(1).addRuntime(new OwnThreadRuntime()).build()) {
      e.createFunction(FunctionConfig.builder("own").runtime("own-thread").handler("h").build(),
          FunctionCode.fromDirectory(code));

      InvocationResult r = e.invoke("own", "40"); // 40 MB allocated on the guest's thread, none on the caller's

      assertThat(r.isError()).isFalse();
      assertThat(r.maxMemoryUsedMb()).isBetween(40, 127);
    }
  }

  /**
   * Runtime {@code own-thread}: each environment runs its invocations on a thread of its own, and the invocation
   * allocates (and keeps) as many megabytes as its payload says, forever for {@code -1}.
   */
  static final class OwnThreadRuntime implements RuntimeProvider {
    @Override
    public Set<String> runtimes() {
      return Set.of("own-thread");
    }

    @Override
    public PreparedFunction prepare(FunctionDefinition definition) {
      return context -> new OwnThreadEnvironment();
    }
  }

  private static final class OwnThreadEnvironment implements ExecutionEnvironment {
    private final AtomicReference<Thread> own = new AtomicReference<>();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "own-thread-guest");
      t.setDaemon(true);
      own.set(t);
      return t;
    });
    private volatile boolean cancelled;

    OwnThreadEnvironment() {
      CompletableFuture.runAsync(() -> {}, thread).join(); // the thread exists before Init, as guestThread asks
    }

    @Override
    public void init() {}

    @Override
    public byte[] invoke(byte[] payload, Context context) {
      int mb = Integer.parseInt(new String(payload, StandardCharsets.UTF_8));
      Future<byte[]> answer = thread.submit(() -> {
        List<byte[]> kept = new ArrayList<>();
        for (int i = 0; mb < 0 || i < mb; i++) {
          if (cancelled) {
            throw new CancellationException("cancelled");
          }
          kept.add(new byte[1 << 20]);
        }
        return ("\"" + kept.size() + "\"").getBytes(StandardCharsets.UTF_8);
      });
      try {
        return answer.get();
      } catch (ExecutionException ex) {
        if (ex.getCause() instanceof Error err) {
          throw err;
        }
        throw (RuntimeException) ex.getCause();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new CancellationException("interrupted");
      }
    }

    @Override
    public void cancel() {
      cancelled = true;
    }

    @Override
    public void shutdown(Duration bound) {
      thread.shutdownNow();
    }

    @Override
    public Thread guestThread() {
      return own.get();
    }
  }
}
