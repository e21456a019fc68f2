package dev.embla.faas.polyglot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.SandboxPolicy;
import org.graalvm.polyglot.Source;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blank contexts made ahead of need: how many are kept ready, when they are made, and that each serves one environment
 * with only that environment's files. The runtimes' own tests (JsBlankContextsTest, PyBlankContextsTest) show functions
 * running on them as on contexts made on demand.
 */
class BlankContextsTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private static final long FIFTY_MS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final Source REALM = Source.create("js", "0");
  private static final String PROPERTY = "embla.test.blankContexts";

  @TempDir Path dir;

  @Test
  void demand_keepsTheLargestBurstOfTheLastTenMinutes_withinItsBounds() {
    AtomicLong now = new AtomicLong(TimeUnit.HOURS.toNanos(5));
    BlankContexts.Demand demand = new BlankContexts.Demand(now::get, 8, 256, FIFTY_MS);
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
    BlankContexts.Demand demand = new BlankContexts.Demand(now::get, 8, 256, FIFTY_MS);
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
    BlankContexts.Demand demand = new BlankContexts.Demand(now::get, 8, 256, FIFTY_MS);
    assertThat(demand.quietIn()).as("no cold start yet").isNotPositive();
    demand.coldStart();
    assertThat(demand.quietIn()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(30));
    assertThat(demand.quietIn()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(20));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(20));
    assertThat(demand.quietIn()).isNotPositive();
  }

  @Test
  void demand_withNoQuietTime_isQuietAtOnce() {
    AtomicLong now = new AtomicLong(TimeUnit.HOURS.toNanos(5));
    BlankContexts.Demand demand = new BlankContexts.Demand(now::get, 2, 16, 0);
    demand.coldStart();
    assertThat(demand.quietIn()).isNotPositive();
    assertThat(demand.target()).isEqualTo(2);
  }

  @Test
  void blankContext_hasNoFilesUntilBound_thenOnlyItsEnvironments_andServesOneEnvironment() throws Exception {
    Path code = Files.createDirectories(dir.resolve("code"));
    Files.writeString(code.resolve("m.mjs"), "export const x = 42;");
    Source importIt = Source.newBuilder("js", "export { x } from '/var/task/m.mjs';", "t.mjs")
        .mimeType("application/javascript+module").build();
    try (Engine engine = newEngine();
        BlankContexts<AtomicInteger> blanks = blanks(engine, 2)) {
      Await.until("2 ready", Duration.ofSeconds(30), () -> blanks.ready() == 2);

      Context c1 = blanks.take().unboundContext();
      assertThatThrownBy(() -> c1.eval(importIt)).isInstanceOf(PolyglotException.class)
          .hasMessageContaining("/var/task/m.mjs");
      c1.close();

      BlankContexts.Blank<AtomicInteger> blank = blanks.take();
      assertThat(blank.first().asInt()).as("the first source's value").isZero();
      SandboxFileSystem files = new SandboxFileSystem(code, () -> dir.resolve("tmp"));
      Context c2 = blank.bind(files, new ByteArrayOutputStream(), new ByteArrayOutputStream());
      assertThat(c2.eval(importIt).getMember("x").asInt()).isEqualTo(42);
      assertThatThrownBy(() -> blank.bind(files, new ByteArrayOutputStream(), new ByteArrayOutputStream()))
          .isInstanceOf(IllegalStateException.class).hasMessage("a blank context serves one environment");
      c2.close();

      assertThat(blanks.taken()).isEqualTo(2);
      Await.until("refilled in the background", Duration.ofSeconds(30), () -> blanks.ready() == 2);
    }
  }

  @Test
  void close_closesTheReadyContexts_andTakeThenReturnsNothing() {
    try (Engine engine = newEngine()) {
      AtomicInteger released = new AtomicInteger();
      BlankContexts<AtomicInteger> blanks = blanks(engine, 3, released);
      Await.until("3 ready", Duration.ofSeconds(30), () -> blanks.ready() == 3);
      blanks.close();
      assertThat(blanks.ready()).isZero();
      assertThat(blanks.drained()).as("each ready context closed").isEqualTo(3);
      assertThat(released).as("and its attachment released").hasValue(3);
      assertThat(blanks.take()).isNull();
    }
  }

  @Test
  void maxZero_turnsThePoolOff() {
    try (Engine engine = newEngine();
        BlankContexts<AtomicInteger> blanks = blanks(engine, 0)) {
      assertThat(blanks.take()).isNull();
      assertThat(blanks.ready()).isZero();
      assertThat(blanks.target()).isZero();
    }
  }

  @Test
  void configuredMax_readsTheSystemProperty_andRefusesWhatIsNotACount() {
    try {
      System.clearProperty(PROPERTY);
      assertThat(BlankContexts.configuredMax(PROPERTY, 16)).isEqualTo(16);
      System.setProperty(PROPERTY, "0");
      assertThat(BlankContexts.configuredMax(PROPERTY, 16)).isZero();
      System.setProperty(PROPERTY, " 7 ");
      assertThat(BlankContexts.configuredMax(PROPERTY, 16)).isEqualTo(7);
      System.setProperty(PROPERTY, "-3");
      assertThatThrownBy(() -> BlankContexts.configuredMax(PROPERTY, 16))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("embla.test.blankContexts must be a non-negative integer, was '-3'");
      System.setProperty(PROPERTY, "lots");
      assertThatThrownBy(() -> BlankContexts.configuredMax(PROPERTY, 16))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("embla.test.blankContexts must be a non-negative integer, was 'lots'");
    } finally {
      System.clearProperty(PROPERTY);
    }
  }

  @Test
  void aContextThatCannotBeMade_isRetriedLater_andTakeReturnsNothingMeanwhile() {
    try (BlankContexts<Void> blanks = new BlankContexts<Void>("test", (files, out, err) -> {
          throw new IllegalStateException("no contexts today");
        }, none -> { }, 1, 1, Duration.ZERO, System::nanoTime)) {
      assertThat(blanks.take()).isNull();
      assertThat(blanks.ready()).isZero();
    }
  }

  // A JavaScript pool, as the nodejs runtime makes it; the attachment counts the contexts released unused
  private static BlankContexts<AtomicInteger> blanks(Engine engine, int max) {
    return blanks(engine, max, new AtomicInteger());
  }

  private static BlankContexts<AtomicInteger> blanks(Engine engine, int max, AtomicInteger released) {
    return new BlankContexts<>("test", (files, out, err) -> {
      Context c = jsContext(engine, files, out, err);
      return new BlankContexts.Made<>(c, c.eval(REALM), released);
    }, AtomicInteger::incrementAndGet, 8, max, Duration.ofMillis(50), System::nanoTime);
  }

  private static Context jsContext(Engine engine, org.graalvm.polyglot.io.FileSystem files, OutputStream out,
      OutputStream err) {
    return GuestContexts.sandboxed("js", engine, files, out, err).option("js.esm-eval-returns-exports", "true").build();
  }

  // The policy every context of the pool asks for; an engine's and its contexts' must match.
  private static Engine newEngine() {
    return Engine.newBuilder("js").sandbox(SandboxPolicy.CONSTRAINED).out(new ByteArrayOutputStream())
        .err(new ByteArrayOutputStream()).option("engine.WarnInterpreterOnly", "false").build();
  }

}
