package dev.embla.faas.polyglot.js;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.InvocationResult;
import dev.embla.faas.polyglot.SandboxFileSystem;
import dev.embla.faas.testing.LogCapture;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.SandboxPolicy;
import org.graalvm.polyglot.Source;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blank contexts made ahead of need: how many are kept ready, that each serves one environment with only that
 * environment's files, and that functions run on them exactly as on contexts made on demand.
 */
class BlankContextsTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  @TempDir Path dir;

  @Test
  void demand_keepsTheLargestBurstOfTheLastTenMinutes_withinItsBounds() {
    AtomicLong now = new AtomicLong(TimeUnit.HOURS.toNanos(5));
    BlankContexts.Demand demand = new BlankContexts.Demand(now::get, 8, 256);
    assertThat(demand.target()).isEqualTo(8);

    now.addAndGet(SECOND * 3 / 4);
    for (int i = 0; i < 200; i++) { // a burst of 200 within half a second, straddling a clock second
      demand.coldStart();
      now.addAndGet(SECOND / 400);
    }
    assertThat(demand.target()).isEqualTo(200);

    now.addAndGet(TimeUnit.MINUTES.toNanos(2)); // two minutes on, a slower second: 50 cold starts; the peak stays
    for (int i = 0; i < 50; i++) {
      demand.coldStart();
      now.addAndGet(SECOND / 100);
    }
    assertThat(demand.target()).isEqualTo(200);

    now.addAndGet(TimeUnit.MINUTES.toNanos(8)); // the 50 are from the last ten minutes, the 200 no longer
    assertThat(demand.target()).isEqualTo(50);
    now.addAndGet(TimeUnit.MINUTES.toNanos(2));
    assertThat(demand.target()).isEqualTo(8);

    for (int i = 0; i < 1000; i++) {
      demand.coldStart();
    }
    assertThat(demand.target()).as("capped at the maximum").isEqualTo(256);
  }

  @Test
  void demand_countsABurstWhole_whenALoneColdStartCameJustBeforeIt() {
    AtomicLong now = new AtomicLong(TimeUnit.HOURS.toNanos(5));
    BlankContexts.Demand demand = new BlankContexts.Demand(now::get, 8, 256);
    demand.coldStart(); // alone, at 0
    now.addAndGet(SECOND * 95 / 100);
    for (int i = 0; i < 100; i++) { // 100 from 0.95 s to 1.05 s: a window opened by the lone one would split them
      demand.coldStart();
      now.addAndGet(SECOND / 1000);
    }
    assertThat(demand.target()).isEqualTo(100);
  }

  @Test
  void demand_isQuietFiftyMillisecondsAfterTheLastColdStart() {
    AtomicLong now = new AtomicLong(TimeUnit.HOURS.toNanos(5));
    BlankContexts.Demand demand = new BlankContexts.Demand(now::get, 8, 256);
    assertThat(demand.quietIn()).as("no cold start yet").isNotPositive();
    demand.coldStart();
    assertThat(demand.quietIn()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(30));
    assertThat(demand.quietIn()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(20));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(20));
    assertThat(demand.quietIn()).isNotPositive();
  }

  @Test
  void blankContext_hasNoFilesUntilBound_thenOnlyItsEnvironments_andServesOneEnvironment() throws Exception {
    Path code = Files.createDirectories(dir.resolve("code"));
    Files.writeString(code.resolve("m.mjs"), "export const x = 42;");
    Source importIt = Source.newBuilder("js", "export { x } from '/var/task/m.mjs';", "t.mjs")
        .mimeType("application/javascript+module").build();
    try (Engine engine = newEngine();
        BlankContexts blanks = new BlankContexts(engine, 2, System::nanoTime)) {
      awaitTrue(() -> blanks.ready() == 2);

      Context c1 = blanks.take().unboundContext();
      assertThatThrownBy(() -> c1.eval(importIt)).isInstanceOf(PolyglotException.class)
          .hasMessageContaining("/var/task/m.mjs");
      c1.close();

      BlankContexts.Blank blank = blanks.take();
      SandboxFileSystem files = new SandboxFileSystem(code, () -> dir.resolve("tmp"));
      Context c2 = blank.bind(files, new ByteArrayOutputStream(), new ByteArrayOutputStream());
      assertThat(c2.eval(importIt).getMember("x").asInt()).isEqualTo(42);
      assertThatThrownBy(() -> blank.bind(files, new ByteArrayOutputStream(), new ByteArrayOutputStream()))
          .isInstanceOf(IllegalStateException.class).hasMessage("a blank context serves one environment");
      c2.close();

      assertThat(blanks.taken()).isEqualTo(2);
      awaitTrue(() -> blanks.ready() == 2); // refilled in the background
    }
  }

  @Test
  void close_closesTheReadyContexts_andTakeThenReturnsNothing() {
    try (Engine engine = newEngine()) {
      BlankContexts blanks = new BlankContexts(engine, 3, System::nanoTime);
      awaitTrue(() -> blanks.ready() == 3);
      blanks.close();
      assertThat(blanks.ready()).isZero();
      assertThat(blanks.drained()).as("each ready context closed").isEqualTo(3);
      assertThat(blanks.take()).isNull();
    }
  }

  @Test
  void maxZero_turnsThePoolOff() {
    try (Engine engine = newEngine();
        BlankContexts blanks = new BlankContexts(engine, 0, System::nanoTime)) {
      assertThat(blanks.take()).isNull();
      assertThat(blanks.ready()).isZero();
      assertThat(blanks.target()).isZero();
    }
  }

  @Test
  void configuredMax_readsTheSystemProperty_andRefusesWhatIsNotACount() {
    String old = System.getProperty(BlankContexts.MAX_PROPERTY);
    try {
      System.clearProperty(BlankContexts.MAX_PROPERTY);
      assertThat(BlankContexts.configuredMax()).isEqualTo(BlankContexts.DEFAULT_MAX);
      System.setProperty(BlankContexts.MAX_PROPERTY, "0");
      assertThat(BlankContexts.configuredMax()).isZero();
      System.setProperty(BlankContexts.MAX_PROPERTY, "-3");
      assertThatThrownBy(BlankContexts::configuredMax).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("embla.nodejs.blankContexts must be a non-negative integer, was '-3'");
      System.setProperty(BlankContexts.MAX_PROPERTY, "lots");
      assertThatThrownBy(BlankContexts::configuredMax).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("embla.nodejs.blankContexts must be a non-negative integer, was 'lots'");
    } finally {
      if (old == null) {
        System.clearProperty(BlankContexts.MAX_PROPERTY);
      } else {
        System.setProperty(BlankContexts.MAX_PROPERTY, old);
      }
    }
  }

  @Test
  void functionsOnBlankContexts_seeTheirOwnFilesEnvironmentAndConsoleLog_andNotEachOthers() throws Exception {
    String writer = """
        const fs = require('fs');
        exports.handler = async () => {
          fs.writeFileSync('/tmp/x', 'secret');
          globalThis.shared = 'secret';
          console.log('writer says hi');
          return { file: fs.readFileSync('/var/task/data.txt', 'utf8'), env: process.env.WHO };
        };
        """;
    String reader = """
        const fs = require('fs');
        exports.handler = async () => ({ tmp: fs.existsSync('/tmp/x'), global: typeof globalThis.shared,
          data: fs.existsSync('/var/task/data.txt'), env: process.env.WHO });
        """;
    Path w = Files.createDirectories(dir.resolve("writer"));
    Files.writeString(w.resolve("index.js"), writer);
    Files.writeString(w.resolve("data.txt"), "writer's own");
    Path r = Files.createDirectories(dir.resolve("reader"));
    Files.writeString(r.resolve("index.js"), reader);
    JsRuntimeProvider provider = new JsRuntimeProvider(4);
    try (FaasEngine engine = FaasEngine.builder().addRuntime(provider).keepAlive(Duration.ofMinutes(10)).build()) {
      engine.createFunction(FunctionConfig.builder("writer").runtime("nodejs").handler("index.handler")
          .environment("WHO", "writer").build(), FunctionCode.fromDirectory(w));
      engine.createFunction(FunctionConfig.builder("reader").runtime("nodejs").handler("index.handler")
          .environment("WHO", "reader").build(), FunctionCode.fromDirectory(r));
      BlankContexts blanks = provider.blankContexts();
      awaitTrue(() -> blanks.ready() == 4);

      InvocationResult wr;
      try (LogCapture logs = LogCapture.of("embla.function.writer")) {
        wr = engine.invoke("writer", "{}");
        InvocationResult written = wr;
        assertThat(logs.lines()).anySatisfy(l -> {
          assertThat(l.message()).contains("writer says hi");
          assertThat(l.requestId()).isEqualTo(written.requestId());
        });
      }
      InvocationResult rr = engine.invoke("reader", "{}");

      assertThat(blanks.taken()).as("both cold starts were served blank contexts").isEqualTo(2);
      assertThat(wr.error()).isEmpty();
      assertThat(wr.payloadAsString()).isEqualTo("{\"file\":\"writer's own\",\"env\":\"writer\"}");
      assertThat(rr.payloadAsString())
          .isEqualTo("{\"tmp\":false,\"global\":\"undefined\",\"data\":false,\"env\":\"reader\"}");
    }
  }

  // The policy every context of the pool asks for; an engine's and its contexts' must match.
  private static Engine newEngine() {
    return Engine.newBuilder("js").sandbox(SandboxPolicy.CONSTRAINED).out(new ByteArrayOutputStream())
        .err(new ByteArrayOutputStream()).option("engine.WarnInterpreterOnly", "false").build();
  }

  private static void awaitTrue(BooleanSupplier condition) {
    // The pool fills on its own thread; bounded, so a pool that never fills fails the test rather than hanging it.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition reached within 30 s").isLessThan(deadline);
      Thread.onSpinWait();
      Thread.yield();
    }
  }
}
