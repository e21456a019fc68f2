package dev.embla.faas.benchmarks.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.embla.faas.KeepAlivePolicies;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The replay's accounting, on traces small enough to work out by hand. */
class KeepAliveReplayTest {

  private static long min(double minutes) {
    return (long) (minutes * 60e9);
  }

  @Test
  void replay_countsColdStartsAndIdleEnvironmentSecondsExactly() {
    AzureLikeTrace trace = AzureLikeTrace.of(Duration.ofMinutes(40), List.of(new AzureLikeTrace.Function("f",
        AzureLikeTrace.Pattern.RARE, 72, new long[] {0, min(5), min(30)})));
    KeepAliveReplay.Result fixed = KeepAliveReplay.replay(trace, KeepAlivePolicies.fixed(Duration.ofMinutes(10)),
        "fixed");
    // cold at 0; warm at 5 (idle 5 min); idle again until the pass at 15; cold at 30, idle until the pass at 40
    assertThat(fixed.invocations()).isEqualTo(3);
    assertThat(fixed.coldStarts()).isEqualTo(2);
    assertThat(fixed.preWarms()).isZero();
    assertThat(fixed.idleEnvironmentSeconds()).isCloseTo(5 * 60 + 10 * 60 + 10 * 60, offset(1e-6));
    assertThat(fixed.byPattern().get(AzureLikeTrace.Pattern.RARE).idleEnvironmentSeconds())
        .isCloseTo(fixed.idleEnvironmentSeconds(), offset(1e-6));

    // with only two idle times seen, the adaptive policy is still the 10-minute keep-alive
    KeepAliveReplay.Result adaptive = KeepAliveReplay.replay(trace, KeepAlivePolicies.adaptive(), "adaptive");
    assertThat(adaptive.coldStarts()).isEqualTo(fixed.coldStarts());
    assertThat(adaptive.idleEnvironmentSeconds()).isCloseTo(fixed.idleEnvironmentSeconds(), offset(1e-6));
  }

  @Test
  void replay_periodicTimerIsColdOnlyWhileTheAdaptivePolicyLearns() {
    long[] every20 = LongStream.range(0, 36).map(i -> min(20 * i)).toArray();
    AzureLikeTrace trace = AzureLikeTrace.of(Duration.ofHours(12), List.of(new AzureLikeTrace.Function("timer",
        AzureLikeTrace.Pattern.PERIODIC, 72, every20)));
    KeepAliveReplay.Result fixed = KeepAliveReplay.replay(trace, KeepAlivePolicies.fixed(Duration.ofMinutes(10)),
        "fixed");
    assertThat(fixed.coldStarts()).isEqualTo(36); // every call comes 20 minutes after the last: always cold
    assertThat(fixed.idleEnvironmentSeconds()).isCloseTo(36 * 600, offset(1e-6));

    KeepAliveReplay.Result adaptive = KeepAliveReplay.replay(trace, KeepAlivePolicies.adaptive(), "adaptive");
    assertThat(adaptive.coldStarts()).isEqualTo(11); // the first call and the 10 that teach it the idle time
    // one before each of the 25 warm calls, and one 18 minutes after the last call, waiting past the trace's end
    assertThat(adaptive.preWarms()).isEqualTo(36 - 11 + 1);
    assertThat(adaptive.idleEnvironmentSeconds()).isLessThan(fixed.idleEnvironmentSeconds() / 2);
  }
}
