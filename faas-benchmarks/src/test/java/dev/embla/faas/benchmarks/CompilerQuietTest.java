package dev.embla.faas.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The warm-up's stopping rule, on a simulated clock and compiler: each step takes 100 ms of the clock. */
class CompilerQuietTest {

  private static final long STEP = Duration.ofMillis(100).toNanos();

  private final AtomicLong clock = new AtomicLong();
  private final AtomicLong compiled = new AtomicLong();
  private final CompilerQuiet quiet = new CompilerQuiet(compiled::get, clock::get);

  @Test
  void stopsAfterTenQuietWindowsInARow() {
    // Busy (50% of a core) for the first 5 s, then 1%.
    CompilerQuiet.Outcome outcome = quiet.warmUntilQuiet(() -> {
      compiled.addAndGet(clock.get() < Duration.ofSeconds(5).toNanos() ? STEP / 2 : STEP / 100);
      clock.addAndGet(STEP);
    }, Duration.ofMinutes(1));

    assertThat(outcome.quiet()).isTrue();
    assertThat(outcome.took()).isEqualTo(Duration.ofSeconds(15)); // 5 busy windows, then 10 quiet ones
    assertThat(outcome.steps()).isEqualTo(150);
    assertThat(outcome.lastShare()).isCloseTo(0.01, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(outcome.describe("x")).startsWith("x: warmed up for 15.0 s (150 steps) until the compilers were quiet");
  }

  @Test
  void aBusyWindowStartsTheCountAgain() {
    // Quiet, except for one burst of compilation in the third second, before ten quiet ones had passed.
    CompilerQuiet.Outcome outcome = quiet.warmUntilQuiet(() -> {
      long t = clock.get();
      boolean busy = t >= Duration.ofSeconds(2).toNanos() && t < Duration.ofSeconds(3).toNanos();
      compiled.addAndGet(busy ? STEP : 0);
      clock.addAndGet(STEP);
    }, Duration.ofMinutes(1));

    assertThat(outcome.quiet()).isTrue();
    assertThat(outcome.took()).isEqualTo(Duration.ofSeconds(13)); // quiet, quiet, busy, then ten quiet windows
  }

  @Test
  void givesUpAtTheLimitAndSaysTheCompilersWereStillBusy() {
    CompilerQuiet.Outcome outcome = quiet.warmUntilQuiet(() -> {
      compiled.addAndGet(STEP / 4);
      clock.addAndGet(STEP);
    }, Duration.ofSeconds(10));

    assertThat(outcome.quiet()).isFalse();
    assertThat(outcome.took()).isEqualTo(Duration.ofSeconds(10));
    assertThat(outcome.describe("x")).contains("still busy, at the limit").contains("25.0% of a core");
  }

  @Test
  void aSpanReportsTheCompilersTimeAndShareSinceItsStart() {
    compiled.set(STEP * 7); // before the span: not counted
    CompilerQuiet.Span span = quiet.startSpan();
    compiled.addAndGet(STEP);
    clock.addAndGet(4 * STEP);

    assertThat(span.compiledNanos()).isEqualTo(STEP);
    assertThat(span.busyShare()).isCloseTo(0.25, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void readsThisJvmsCompilers() {
    CompilerQuiet.JvmCompilers compilers = new CompilerQuiet.JvmCompilers();
    long first = compilers.getAsLong();
    assertThat(first).isPositive(); // the JIT has compiled something by now
    assertThat(compilers.getAsLong()).isGreaterThanOrEqualTo(first);
  }
}
