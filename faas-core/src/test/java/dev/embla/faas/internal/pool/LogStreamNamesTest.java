package dev.embla.faas.internal.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.testing.FakeTicker;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogStreamNamesTest {

  @Test
  void format_isLambdasDateVersionAnd32HexDigits_zeroPadded() {
    assertThat(LogStreamNames.format(LocalDate.of(2026, 3, 7), "$LATEST", 0xabcL, -1L))
        .isEqualTo("2026/03/07/[$LATEST]0000000000000abcffffffffffffffff");
    assertThat(LogStreamNames.format(LocalDate.of(2026, 12, 31), "12", 0, 0))
        .isEqualTo("2026/12/31/[12]" + "0".repeat(32));
  }

  @Test
  void next_isDatedInUtcByTheInjectedClock_andDiffersPerEnvironment() {
    FakeTicker time = new FakeTicker(Instant.parse("2026-05-31T23:59:59Z"));
    LogStreamNames names = new LogStreamNames(time, "3");
    String first = names.next().toString();
    assertThat(first).matches("2026/05/31/\\[3\\][0-9a-f]{32}");
    time.advance(Duration.ofSeconds(1));
    assertThat(names.next().toString()).startsWith("2026/06/01/[3]");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      assertThat(seen.add(names.next().toString().substring(14))).isTrue();
    }
  }
}
