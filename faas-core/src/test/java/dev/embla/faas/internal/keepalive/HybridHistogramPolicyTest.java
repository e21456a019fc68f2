package dev.embla.faas.internal.keepalive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.KeepAlivePolicies;
import dev.embla.faas.KeepAlivePolicy;
import dev.embla.faas.KeepAlivePolicy.Window;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The hybrid histogram policy's windows, from known sequences of idle times. */
class HybridHistogramPolicyTest {

  private static KeepAlivePolicy.Estimator estimator() {
    return KeepAlivePolicies.adaptive().newEstimator("f");
  }

  private static void record(KeepAlivePolicy.Estimator e, Duration idle, int times) {
    for (int i = 0; i < times; i++) {
      e.recordIdleTime(idle);
    }
  }

  @Test
  void window_headAndTailPercentilesWithTenPercentMargins() {
    KeepAlivePolicy.Estimator e = estimator();
    record(e, Duration.ofMinutes(10).plusSeconds(20), 19); // bin 10
    record(e, Duration.ofMinutes(30).plusSeconds(5), 1); // bin 30: the 99th percentile of 20 is the 20th
    Window w = e.window();
    // pre-warm: lower edge of the 5th percentile's bin (10 min) less 10%; until: upper edge of the 99th's (31 min)
    // plus 10%; keep-alive: until less pre-warm
    assertThat(w.preWarm()).isEqualTo(Duration.ofMinutes(9));
    assertThat(w.preWarm().plus(w.keepAlive())).isEqualTo(Duration.ofSeconds(31 * 66));
  }

  @Test
  void window_headInFirstBinMeansNoPreWarm() {
    KeepAlivePolicy.Estimator e = estimator();
    record(e, Duration.ofSeconds(20), 95);
    record(e, Duration.ofMinutes(3).plusSeconds(1), 5);
    Window w = e.window();
    assertThat(w.preWarms()).isFalse();
    assertThat(w.keepAlive()).isEqualTo(Duration.ofSeconds(4 * 66)); // upper edge of bin 3, plus 10%
  }

  @Test
  void window_fallsBackToTenMinutesWithTooFewSamples() {
    KeepAlivePolicy.Estimator e = estimator();
    record(e, Duration.ofMinutes(30), 9); // one short of the default minimum of 10
    assertThat(e.window()).isEqualTo(Window.keepAlive(Duration.ofMinutes(10)));
    e.recordIdleTime(Duration.ofMinutes(30));
    assertThat(e.window().preWarm()).isEqualTo(Duration.ofMinutes(27));
  }

  @Test
  void window_fallsBackWhenIdleTimesAreSpreadEvenly() {
    KeepAlivePolicy.Estimator e = estimator();
    for (int minute = 0; minute < 240; minute++) {
      e.recordIdleTime(Duration.ofMinutes(minute).plusSeconds(30)); // one in every bin: bin counts have CV 0
    }
    assertThat(e.window()).isEqualTo(Window.keepAlive(Duration.ofMinutes(10)));
  }

  @Test
  void window_fallsBackWhenTheHistogramWindowWouldCostMoreIdleTime() {
    KeepAlivePolicy.Estimator e = estimator();
    record(e, Duration.ofMinutes(2).plusSeconds(30), 50); // bin 2
    record(e, Duration.ofMinutes(200).plusSeconds(30), 2); // bin 200: the 99th percentile of 52 is the 52nd
    // The histogram's window would pre-warm at 1.8 min and keep until 221.1 min: over these idle times that is
    // 50 * 0.7 + 2 * 198.7 = 432.4 minutes idle, against 50 * 2.5 + 2 * 10 = 145 for the 10-minute keep-alive.
    HybridHistogramPolicy.HistogramEstimator h = (HybridHistogramPolicy.HistogramEstimator) e;
    assertThat(h.idleCost(new Window(Duration.ofSeconds(108), Duration.ofSeconds(13158))))
        .isCloseTo(432.4, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(h.idleCost(Window.keepAlive(Duration.ofMinutes(10)))).isCloseTo(145, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(e.window()).isEqualTo(Window.keepAlive(Duration.ofMinutes(10)));
    // a policy allowed three times the idle cost takes the histogram's window
    KeepAlivePolicy.Estimator generous = new HybridHistogramPolicy(
        HybridHistogramPolicy.DEFAULTS.withMaxIdleRatio(3)).newEstimator("f");
    record(generous, Duration.ofMinutes(2).plusSeconds(30), 50);
    record(generous, Duration.ofMinutes(200).plusSeconds(30), 2);
    assertThat(generous.window().preWarm()).isEqualTo(Duration.ofSeconds(108));
  }

  @Test
  void window_forecastsWhenMostIdleTimesAreBeyondTheRange() {
    KeepAlivePolicy.Estimator e = estimator();
    record(e, Duration.ofMinutes(5), 4);
    record(e, Duration.ofHours(6), 8); // 8 of 12 beyond four hours; the moving average converges to 6 h
    Window w = e.window();
    double forecastHours = w.preWarm().toNanos() / 0.85 / 3.6e12;
    assertThat(forecastHours).isBetween(5.9, 6.0);
    assertThat(w.keepAlive().toNanos()).isCloseTo((long) (forecastHours * 3.6e12 * 0.3), org.assertj.core.data.Offset.offset(2L));
  }

  @Test
  void histogram_percentilesAndCvFromKnownCounts() {
    IdleTimeHistogram h = new IdleTimeHistogram(Duration.ofMinutes(1).toNanos(), 240);
    assertThat(h.binOfPercentile(50)).isEqualTo(-1);
    for (int i = 1; i <= 100; i++) {
      h.add(Duration.ofMinutes(i - 1).plusSeconds(59).toNanos()); // one idle time in each of bins 0..99
    }
    h.add(Duration.ofHours(5).toNanos());
    assertThat(h.inRange()).isEqualTo(100);
    assertThat(h.outOfRange()).isEqualTo(1);
    assertThat(h.binOfPercentile(5)).isEqualTo(4);
    assertThat(h.binOfPercentile(99)).isEqualTo(98);
    // 100 bins holding 1, 140 holding 0: mean 100/240, population std dev sqrt(mean - mean^2)
    double mean = 100 / 240.0;
    assertThat(h.binCountCv()).isCloseTo(Math.sqrt(mean - mean * mean) / mean, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void window_rejectsInconsistentValues() {
    assertThatThrownBy(() -> new Window(Duration.ofMinutes(1), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keepAlive must be positive when preWarm is set, was PT0S with preWarm PT1M");
    assertThatThrownBy(() -> Window.keepAlive(Duration.ofSeconds(-1)))
        .hasMessage("keepAlive must not be negative, was PT-1S");
    assertThatThrownBy(() -> KeepAlivePolicies.fixed(Duration.ZERO))
        .hasMessage("keepAlive must be positive, was PT0S");
  }
}
