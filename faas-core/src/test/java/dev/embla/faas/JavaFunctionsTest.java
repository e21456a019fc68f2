package dev.embla.faas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.internal.engine.LocalEngine;
import dev.embla.faas.testing.Await;
import dev.embla.faas.testing.FakeTicker;
import dev.embla.faas.testing.JavaFunctions;
import dev.embla.faas.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Java functions end to end through the public API: the built-in java21 runtime inside the real engine. */
class JavaFunctionsTest {

  FakeTicker time;
  FaasEngine engine;

  @BeforeEach
  void setUp() {
    time = new FakeTicker();
    engine = FaasEngine.builder().keepAlive(Duration.ofMinutes(10)).build();
  }

  @AfterEach
  void tearDown() {
    engine.close();
  }

  private void register(FaasEngine e, String name, String handler, byte[] zip, Duration timeout) {
    e.createFunction(FunctionConfig.builder(name).runtime("java21").handler(handler).timeout(timeout)
        .environment("GREETING", "hej").build(), FunctionCode.fromBytes(zip));
  }

  private void register(String name, String handler, byte[] zip) {
    register(engine, name, handler, zip, Duration.ofSeconds(3));
  }

  @Test
  void sameClassNameDifferentCode_isolatedPerFunction() {
    register("a", "demo.Fn::handle", JavaFunctions.zipOf("demo.Fn",
        "package demo; public class Fn { public String handle(String s) { return \"A:\" + s; } }"));
    register("b", "demo.Fn::handle", JavaFunctions.zipOf("demo.Fn",
        "package demo; public class Fn { public String handle(String s) { return \"B:\" + s; } }"));
    assertThat(engine.invoke("a", "\"x\"").payloadAsString()).isEqualTo("\"A:x\"");
    assertThat(engine.invoke("b", "\"x\"").payloadAsString()).isEqualTo("\"B:x\"");
  }

  @Test
  void functionCannotSeeHostOrEngineClasses() {
    register("probe", "demo.Probe::handle", JavaFunctions.zipOf("demo.Probe", """
        package demo;
        public class Probe {
          public String handle(String name) {
            try { Class.forName(name); return "loaded"; } catch (ClassNotFoundException e) { return "hidden"; }
          }
        }"""));
    assertThat(engine.invoke("probe", "\"com.google.common.collect.ImmutableList\"").payloadAsString())
        .isEqualTo("\"hidden\"");
    assertThat(engine.invoke("probe", "\"tools.jackson.databind.ObjectMapper\"").payloadAsString())
        .isEqualTo("\"hidden\"");
    assertThat(engine.invoke("probe", "\"dev.embla.faas.internal.engine.LocalEngine\"").payloadAsString())
        .isEqualTo("\"hidden\"");
    assertThat(engine.invoke("probe", "\"dev.embla.faas.spi.Context\"").payloadAsString()).isEqualTo("\"loaded\"");
    assertThat(engine.invoke("probe", "\"java.util.concurrent.ConcurrentHashMap\"").payloadAsString())
        .isEqualTo("\"loaded\"");
  }

  @Test
  void initRunsOncePerEnvironment_staticsArePerEnvironment() throws Exception {
    register("count", "demo.Count::handle", JavaFunctions.zipOf("demo.Count", """
        package demo;
        public class Count {
          static int inits;
          int calls;
          public Count() { inits++; }
          public String handle(String s) { calls++; return inits + "/" + calls; }
        }"""));
    assertThat(engine.invoke("count", "\"\"").payloadAsString()).isEqualTo("\"1/1\"");
    assertThat(engine.invoke("count", "\"\"").payloadAsString()).isEqualTo("\"1/2\"");
    // A second, concurrent environment has its own statics: its constructor sees inits == 0 before it counts.
    LocalEngine local = (LocalEngine) engine;
    assertThat(local.prewarm("count", 1)).isEqualTo(1);
    assertThat(local.poolOf("count").idleCount()).isEqualTo(2);
    String first = engine.invoke("count", "\"\"").payloadAsString(); // most recently used: the new environment
    assertThat(first).isEqualTo("\"1/1\"");
  }

  @Test
  void systemExit_isContainedAndTheHostKeepsRunning() {
    register("exit", "demo.Exit::handle", JavaFunctions.zipOf("demo.Exit", """
        package demo;
        public class Exit {
          public String handle(String how) {
            if (how.equals("halt")) { Runtime.getRuntime().halt(7); }
            System.exit(3);
            return "survived";
          }
        }"""));
    InvocationResult exit = engine.invoke("exit", "\"exit\"");
    assertThat(exit.error().orElseThrow().kind()).isIn(FunctionError.Kind.EXIT, FunctionError.Kind.HANDLER);
    assertThat(exit.error().get().errorMessage()).contains("System.exit(3)");
    InvocationResult halt = engine.invoke("exit", "\"halt\"");
    assertThat(halt.isError()).isTrue();
    assertThat(halt.error().get().errorMessage()).contains("7");
    assertThat(engine.listFunctions()).hasSize(1); // still here: the JVM did not exit
  }

  @Test
  void systemExitCaughtByTheFunction_stillDiscardsTheEnvironment() {
    register("sly", "demo.Sly::handle", JavaFunctions.zipOf("demo.Sly", """
        package demo;
        public class Sly {
          public String handle(String s) {
            try { System.exit(1); } catch (Throwable t) { return "caught " + t.getClass().getSimpleName(); }
            return "unreachable";
          }
        }"""));
    InvocationResult first = engine.invoke("sly", "\"\"");
    assertThat(first.payloadAsString()).startsWith("\"caught ");
    assertThat(engine.invoke("sly", "\"\"").isColdStart()).isTrue();
  }

  @Test
  void getenv_showsFunctionVariablesAndLambdaReservedOnes_neverTheHosts() {
    register("env", "demo.Env::handle", JavaFunctions.zipOf("demo.Env", """
        package demo;
        public class Env {
          public java.util.Map<String, String> handle(java.util.List<String> names) {
            java.util.Map<String, String> out = new java.util.TreeMap<>();
            for (String n : names) { out.put(n, String.valueOf(System.getenv(n))); }
            out.put("size>0", String.valueOf(!System.getenv().isEmpty()));
            out.put("hasPath", String.valueOf(System.getenv().containsKey("PATH")));
            return out;
          }
        }"""));
    String json = engine.invoke("env", "[\"GREETING\",\"AWS_LAMBDA_FUNCTION_NAME\",\"AWS_LAMBDA_FUNCTION_VERSION\","
        + "\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\",\"_HANDLER\",\"PATH\",\"HOME\"]").payloadAsString();
    assertThat(json).contains("\"GREETING\":\"hej\"", "\"AWS_LAMBDA_FUNCTION_NAME\":\"env\"",
        "\"AWS_LAMBDA_FUNCTION_VERSION\":\"$LATEST\"", "\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\":\"128\"",
        "\"_HANDLER\":\"demo.Env::handle\"", "\"PATH\":\"null\"", "\"HOME\":\"null\"", "\"hasPath\":\"false\"");
  }

  @Test
  void logStreamName_isLambdasShape_datedByTheEnginesClock_andFixedForTheEnvironment() throws Exception {
    byte[] zip = JavaFunctions.builder()
        .source("com.amazonaws.services.lambda.runtime.Context", """
            package com.amazonaws.services.lambda.runtime;
            public interface Context { String getLogStreamName(); }""")
        .source("demo.Stream", """
            package demo;
            public class Stream {
              public String handle(Object event, com.amazonaws.services.lambda.runtime.Context context) {
                return context.getLogStreamName() + " " + System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
              }
            }""")
        .zip();
    try (FaasEngine e = FaasEngine.builder().ticker(time).clock(time).build()) {
      register(e, "stream", "demo.Stream::handle", zip, Duration.ofSeconds(3));
      String first = e.invoke("stream", "{}").payloadAsString();
      assertThat(first).matches("\"(2026/01/01/\\[\\$LATEST\\][0-9a-f]{32}) \\1\"");
      assertThat(e.invoke("stream", "{}").payloadAsString()).as("same environment, same stream").isEqualTo(first);

      time.advance(Duration.ofDays(1));
      e.publishVersion("stream");
      String published = e.invoke("stream:1", "{}").payloadAsString();
      assertThat(published).matches("\"(2026/01/02/\\[1\\][0-9a-f]{32}) \\1\"");
    }
  }

  @Test
  void runawayLoop_isStoppedAtTheDeadline_andTheNextCallColdStarts() {
    register(engine, "spin", "demo.Spin::handle", JavaFunctions.zipOf("demo.Spin", """
        package demo;
        public class Spin {
          public int handle(int p) {
            int x = 0;
            while (x >= 0) {
              try { x = (x + 1) % p; } catch (Throwable t) { }
            }
            return x;
          }
        }"""), Duration.ofSeconds(1));
    long start = System.nanoTime();
    InvocationResult r = engine.invoke("spin", "1000003");
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    FunctionError e = r.error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.TIMEOUT);
    assertThat(e.errorMessage()).isEqualTo("Task timed out after 1.00 seconds");
    // The precise figure is a benchmark (docs/BENCHMARKS.md); here a generous bound that a loaded CI machine meets.
    assertThat(elapsed).isBetween(Duration.ofSeconds(1), Duration.ofMillis(1500));
    // The watchdog noticed the deadline promptly (the deadline driver measures the p99 against the 1 ms goal).
    assertThat(((LocalEngine) engine).watchdog().lastLatenessNanos()).isBetween(0L, 100_000_000L);
    assertThat(((LocalEngine) engine).poolOf("spin").idleCount()).isZero();
    InvocationResult next = engine.invoke("spin", "1000003");
    assertThat(next.isColdStart()).isTrue();
    assertThat(next.error().orElseThrow().kind()).isEqualTo(FunctionError.Kind.TIMEOUT);
  }

  @Test
  void standardOutput_landsInTheInvocationsLog() {
    register("out", "demo.Out::handle", JavaFunctions.zipOf("demo.Out", """
        package demo;
        public class Out {
          public String handle(String s, dev.embla.faas.spi.Context ctx) {
            System.out.println("out " + s);
            System.err.println("err " + s);
            ctx.getLogger().log("logger " + s);
            return s;
          }
        }"""));
    List<LogCapture.Line> lines;
    InvocationResult r;
    try (LogCapture capture = LogCapture.of("embla.function.out")) {
      r = engine.invoke("out", "\"x\"");
      lines = capture.lines();
    }
    assertThat(lines).filteredOn(l -> r.requestId().equals(l.requestId())).extracting(LogCapture.Line::message)
        .contains("out x", "err x", "logger x");
  }

  @Test
  void keepAliveExpiry_runsTheShutdownHookOnTheInjectedClock() throws Exception {
    try (FaasEngine e = FaasEngine.builder().ticker(time).clock(time).keepAlive(Duration.ofMinutes(5)).build();
        LogCapture capture = LogCapture.of("embla.function.hook")) {
      register(e, "hook", "demo.Hook", JavaFunctions.zipOf("demo.Hook", """
          package demo;
          public class Hook implements dev.embla.faas.spi.RequestHandler<String, String>,
              dev.embla.faas.spi.ShutdownHook {
            public String handle(String s, dev.embla.faas.spi.Context c) { return s; }
            public void onShutdown() { System.out.println("shutting down"); }
          }"""), Duration.ofSeconds(3));
      e.invoke("hook", "\"x\"");
      LocalEngine local = (LocalEngine) e;
      time.advance(Duration.ofMinutes(4));
      assertThat(local.runMaintenance()).isZero();
      time.advance(Duration.ofMinutes(1));
      assertThat(local.runMaintenance()).isEqualTo(1);
      Await.until("shutdown hook output", () -> capture.lines().stream().anyMatch(l -> l.message().equals("shutting down")));
      Await.until("environment removed", () -> local.poolOf("hook").size() == 0);
    }
  }

  @Test
  void payloads_invalidJsonIsTheCallersError_unmappableJsonIsTheFunctions() {
    register("order", "demo.Order::handle", JavaFunctions.builder()
        .source("demo.Order", """
            package demo;
            public class Order {
              public record Item(String sku, int quantity) {}
              public int handle(Item item) { return item.quantity() * 2; }
            }""").zip());
    assertThat(engine.invoke("order", "{\"sku\":\"a\",\"quantity\":21}").payloadAsString()).isEqualTo("42");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.invoke("order", "{\"sku\":"))
        .isInstanceOf(InvalidRequestContentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.invoke("order", "{} {}"))
        .isInstanceOf(InvalidRequestContentException.class);
    FunctionError e = engine.invoke("order", "{\"quantity\":\"many\"}").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.BAD_PAYLOAD);
    assertThat(e.errorMessage()).contains("demo.Order$Item");
    // none of these broke the warm environment
    assertThat(engine.invoke("order", "{\"quantity\":1}").isColdStart()).isFalse();
  }

  @Test
  void outOfMemoryInTheFunction_isItsErrorAndDiscardsTheEnvironment() {
    register("hog", "demo.Hog::handle", JavaFunctions.zipOf("demo.Hog", """
        package demo;
        public class Hog {
          public int handle(int n) {
            if (n > 0) { long[] huge = new long[Integer.MAX_VALUE]; return huge.length; }
            return n;
          }
        }"""));
    assertThat(engine.invoke("hog", "0").payloadAsString()).isEqualTo("0");
    FunctionError e = engine.invoke("hog", "1").error().orElseThrow();
    assertThat(e.kind()).isEqualTo(FunctionError.Kind.HANDLER);
    assertThat(e.errorType()).isEqualTo("java.lang.OutOfMemoryError");
    assertThat(engine.invoke("hog", "0").isColdStart()).isTrue(); // the host is fine; the environment was replaced
  }
}
