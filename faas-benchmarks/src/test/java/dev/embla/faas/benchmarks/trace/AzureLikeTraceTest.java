package dev.embla.faas.benchmarks.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The generated trace has the Azure Functions 2019 trace's shape, and the same seed gives the same trace. */
class AzureLikeTraceTest {

  @Test
  void generate_hitsTheAzureSharesWithinTolerance() {
    AzureLikeTrace trace = AzureLikeTrace.generate(KeepAliveReplay.DEFAULT_SEED, KeepAliveReplay.DEFAULT_FUNCTIONS,
        Duration.ofDays(1));
    TraceStatistics stats = TraceStatistics.of(trace);
    System.out.println(stats.describe());
    assertThat(stats.atMostHourly()).isCloseTo(0.45, offset(0.05));
    assertThat(stats.atMostMinutely()).isCloseTo(0.81, offset(0.05));
    assertThat(stats.cvAboveOne()).isCloseTo(0.40, offset(0.05));
    assertThat(stats.meanRateOrders()).isGreaterThanOrEqualTo(7.5);
    assertThat(stats.invoked()).isGreaterThan(stats.functions() / 2);
    assertThat(stats.byPattern()).containsOnlyKeys(AzureLikeTrace.Pattern.values());
  }

  @Test
  void generate_isDeterministicPerSeedAndArrivalsAreSortedWithinTheTrace() {
    AzureLikeTrace a = AzureLikeTrace.generate(7, 50, Duration.ofHours(6));
    AzureLikeTrace b = AzureLikeTrace.generate(7, 50, Duration.ofHours(6));
    AzureLikeTrace c = AzureLikeTrace.generate(8, 50, Duration.ofHours(6));
    for (int i = 0; i < 50; i++) {
      long[] arrivals = a.functions().get(i).arrivals();
      assertThat(arrivals).isEqualTo(b.functions().get(i).arrivals()).isSorted();
      assertThat(Arrays.stream(arrivals)).allSatisfy(t -> assertThat(t).isBetween(0L, Duration.ofHours(6).toNanos() - 1));
    }
    assertThat(Arrays.deepEquals(a.functions().stream().map(AzureLikeTrace.Function::arrivals).toArray(),
        c.functions().stream().map(AzureLikeTrace.Function::arrivals).toArray())).isFalse();
  }

  @Test
  void cv_ofPeriodicIsZeroAndOfKnownGapsIsExact() {
    assertThat(TraceStatistics.cv(new long[] {0, 10, 20, 30})).isZero();
    // gaps 1 and 3: mean 2, population std dev 1
    assertThat(TraceStatistics.cv(new long[] {0, 1, 4})).isCloseTo(0.5, offset(1e-12));
  }

  @Test
  void generate_rejectsEmptyTraces() {
    assertThatThrownBy(() -> AzureLikeTrace.generate(1, 0, Duration.ofDays(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("functionCount and duration must be positive, were 0, PT24H");
  }
}
